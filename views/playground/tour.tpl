%# The guided tour. Expects: path (the product page followed), stops (each a dict: title,
%# text, name, where, code).
% rebase('layout')
<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="{{url('playground')}}">Playground</a> › <span>The tour</span></nav>
<h1>A request, step by step</h1>
<p class="lead">What runs when a browser asks for <a href="{{path}}">{{path}}</a>, in order, from the server to the response. The code below is read from the running program as you load this page.</p>
<ol class="tour">
  % for n, stop in enumerate(stops, 1):
  <li class="tour-stop" id="stop-{{n}}">
    <h2>{{stop['title']}}</h2>
    <p>{{stop['text']}}</p>
    <p class="tour-where"><code>{{stop['name']}}</code> · {{stop['where']}}</p>
    <pre class="code" tabindex="0" role="group" aria-label="{{stop['title']}}: the code"><code>{{stop['code']}}</code></pre>
  </li>
  % end
</ol>
<p><a href="{{url('playground')}}">← All lessons</a></p>
