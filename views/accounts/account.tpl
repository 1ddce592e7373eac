%# The account page. Expects: account (User), orders (the customer's recent orders or []).
% rebase('layout')
<h1>Your account</h1>
<dl class="details">
  <dt>Username</dt><dd>{{account.username}}</dd>
  <dt>Email</dt><dd>{{account.email}}</dd>
  <dt>Name</dt><dd>{{(account.first_name + ' ' + account.last_name).strip() or '—'}}</dd>
  <dt>Member since</dt><dd>{{date(account.date_joined.date())}}</dd>
  % if account.is_staff:
  <dt>Role</dt><dd>{{'Superuser' if account.is_superuser else 'Staff'}}</dd>
  % end
</dl>
<p><a class="button button-secondary" href="{{url('password_change')}}">Change password</a></p>
<h2>Your latest orders</h2>
% if not orders:
<p class="muted">No orders yet. <a href="{{url('catalog')}}">Browse the shop</a>.</p>
% else:
<ul class="order-summary">
  % for o in orders:
  <li><a href="{{url('order', order_id=o.id)}}">Order #{{o.id}}</a> · {{date(o.placed_at)}} · {{money(o.total_amount)}} · <span class="status status-{{o.payment_status}}">{{o.payment_status_label}}</span></li>
  % end
</ul>
<p><a href="{{url('orders')}}">All your orders</a></p>
% end
