%# Login. Expects: form (LoginForm), error, next_url.
% rebase('layout')
<section class="form-card">
  <h1>Log in</h1>
  % if error:
  <div class="flash flash-error" role="alert">{{error}}</div>
  % end
  <form method="post" action="{{url('login')}}" id="login-form" novalidate>
    % include('_csrf')
    <input type="hidden" name="next" value="{{next_url}}">
    % include('_field', field=form.username, attrs={'autocomplete': 'username', 'autofocus': True})
    % include('_field', field=form.password, attrs={'autocomplete': 'current-password'})
    <p class="hint"><a href="{{url('password_reset')}}">Forgot your password?</a></p>
    <button type="submit" class="button">Log in</button>
  </form>
  <p class="muted">New here? <a href="{{url('register')}}">Create an account</a>.</p>
</section>
