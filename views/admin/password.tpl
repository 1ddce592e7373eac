%# Set a user's password. Expects: spec, obj (User), form (NewPasswordForm).
% rebase('layout')
% include('admin/_header', crumbs=[(spec.plural, url('admin_changelist', model='user')), (str(obj), url('admin_change', model='user', ident=obj.get_id())), ('Password', None)])
<section class="form-card">
  <h1>Set the password of {{obj.username}}</h1>
  <form method="post" novalidate id="set-password-form">
    % include('_csrf')
    % include('_field', field=form.password, attrs={'autocomplete': 'new-password'})
    % include('_field', field=form.confirm, attrs={'autocomplete': 'new-password'})
    <button type="submit" class="button">Set password</button>
  </form>
</section>
