%# Password change. Expects: form (PasswordChangeForm).
% rebase('layout')
<section class="form-card">
  <h1>Change your password</h1>
  <form method="post" action="{{url('password_change')}}" id="password-form" novalidate>
    % include('_csrf')
    % include('_field', field=form.old_password, attrs={'autocomplete': 'current-password', 'autofocus': True})
    % include('_field', field=form.password, hint='At least 8 characters, not a common password, not like your username.', attrs={'autocomplete': 'new-password'})
    % include('_field', field=form.confirm, attrs={'autocomplete': 'new-password'})
    <button type="submit" class="button">Change password</button>
  </form>
</section>
