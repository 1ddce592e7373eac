%# The account page. Expects: account (User), orders (the customer's recent orders or []).
% rebase('layout', title='Your account')
<h1>Your account</h1>
<dl class="details">
  <dt>Username</dt><dd>{{account.username}}</dd>
  <dt>Email</dt><dd>{{account.email}}</dd>
  <dt>Name</dt><dd>{{(account.first_name + ' ' + account.last_name).strip() or '—'}}</dd>
  <dt>Member since</dt><dd>{{account.date_joined.strftime('%d %b %Y')}}</dd>
  % if account.is_staff:
  <dt>Role</dt><dd>{{'Superuser' if account.is_superuser else 'Staff'}}</dd>
  % end
</dl>
<p><a class="button button-secondary" href="{{url('password_change')}}">Change password</a></p>
