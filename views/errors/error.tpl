%# Every error page. Expects: code, message, title.
% rebase('layout')
<section class="error-page">
  <p class="error-code">{{code}}</p>
  <h1>{{title}}</h1>
  <p>{{message}}</p>
  <p><a class="button" href="{{url('home')}}">Back to the shop</a></p>
</section>
