%# The account page. Expects: account (User), customer (its Customer profile or None), form
%# (ProfileForm: the delivery details), orders (the customer's recent orders or []).
% rebase('layout')
<h1>Your account</h1>
<div class="account">
  <section class="form-card account-details">
    <h2>Your login</h2>
    <dl class="details">
      <dt>Username</dt><dd>{{account.username}}</dd>
      <dt>Email</dt><dd>{{account.email}}</dd>
      <dt>Member since</dt><dd>{{date(account.date_joined.date())}}</dd>
      % if account.is_staff:
      <dt>Role</dt><dd>{{'Superuser' if account.is_superuser else 'Staff'}}</dd>
      % end
    </dl>
    <p class="actions"><a class="button button-secondary" href="{{url('password_change')}}">Change password</a> <a class="button button-secondary" href="{{url('likes')}}">Products you like</a></p>
  </section>
  <section class="form-card account-profile">
    <h2>Delivery details</h2>
    % if customer is None:
    <p class="muted">Saved here or at your first checkout, and used for every order.</p>
    % end
    <form method="post" action="{{url('account')}}" id="profile-form" novalidate>
      % include('_csrf')
      % for field in form:
      % include('_field', field=field)
      % end
      <button type="submit" class="button">Save delivery details</button>
    </form>
  </section>
</div>
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
