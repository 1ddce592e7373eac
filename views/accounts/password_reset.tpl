%# Ask for a password reset link. Expects: form (PasswordResetForm).
% rebase('layout')
<section class="form-card">
  <h1>Forgotten your password?</h1>
  <p class="muted">Give the email address of your account: we send a link to set a new password there.</p>
  <form method="post" action="{{url('password_reset')}}" id="password-reset-form" novalidate>
    % include('_csrf')
    % include('_field', field=form.email, attrs={'autocomplete': 'email', 'autofocus': True})
    <button type="submit" class="button">Send me a link</button>
  </form>
  <p class="muted">Remembered it? <a href="{{url('login')}}">Log in</a>.</p>
</section>
