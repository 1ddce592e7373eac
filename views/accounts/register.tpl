%# Registration. Expects: form (RegisterForm).
% rebase('layout')
<section class="form-card">
  <h1>Create an account</h1>
  <form method="post" action="{{url('register')}}" id="register-form" novalidate>
    % include('_csrf')
    % include('_field', field=form.username, attrs={'autocomplete': 'username', 'autofocus': True})
    % include('_field', field=form.email, attrs={'autocomplete': 'email'})
    % include('_field', field=form.password, hint='At least 8 characters, not a common password, not like your username.', attrs={'autocomplete': 'new-password'})
    % include('_field', field=form.confirm, attrs={'autocomplete': 'new-password'})
    <button type="submit" class="button">Create account</button>
  </form>
  <p class="muted">Already have one? <a href="{{url('login')}}">Log in</a>.</p>
</section>
