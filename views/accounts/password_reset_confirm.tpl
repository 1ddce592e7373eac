%# Set a new password from a reset link. Expects: form (NewPasswordForm, or None when the
%# link is not valid) and, with a form, account (the User).
% rebase('layout')
<section class="form-card">
  % if form is None:
  <h1>This link does not work</h1>
  <p>It may have been used already, or be more than a few days old, or have been cut short by your email program.</p>
  <p><a class="button" href="{{url('password_reset')}}">Ask for a new link</a></p>
  % else:
  <h1>Set a new password</h1>
  <p class="muted">For the account <strong>{{account.username}}</strong>. Every place it is logged in will be logged out.</p>
  <form method="post" id="set-password-form" novalidate>
    % include('_csrf')
    % include('_field', field=form.password, hint='At least 8 characters, not a common password, not like your username.', attrs={'autocomplete': 'new-password', 'autofocus': True})
    % include('_field', field=form.confirm, attrs={'autocomplete': 'new-password'})
    <button type="submit" class="button">Set password</button>
  </form>
  % end
</section>
