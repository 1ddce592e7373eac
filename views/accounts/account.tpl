%# The account page. Expects: account (User), customer (its Customer profile or None), form
%# (ProfileForm: the delivery details), orders (the customer's recent orders or []), tokens
%# (the user's ApiTokens), token_form (TokenForm), new_token ((ApiToken, token) just made, or None).
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
<section class="form-card account-tokens" aria-labelledby="tokens-title">
  <h2 id="tokens-title">API tokens</h2>
  <p class="muted">A program that sends <code>Authorization: Bearer &lt;token&gt;</code> to the <a href="{{url('api_docs')}}">JSON API</a> acts as you, with your permissions.</p>
  % if new_token:
  <div class="flash flash-success" role="status">
    <p>Your new token “{{new_token[0].name}}”. Copy it now: it is not shown again.</p>
    <pre class="code" tabindex="0" role="region" aria-label="The new token"><code id="new-token">{{new_token[1]}}</code></pre>
  </div>
  % end
  % if tokens:
  <div class="table-wrap"><table class="table table-cards">
    <thead><tr><th scope="col">Name</th><th scope="col">Token</th><th scope="col">Made</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">State</th><th scope="col"><span class="visually-hidden">Revoke</span></th></tr></thead>
    <tbody>
    % for t in tokens:
    <tr><th scope="row">{{t.name}}</th><td data-label="Token"><code>sf_{{t.prefix}}_…</code></td><td data-label="Made">{{date(t.created_at)}}</td>
      <td data-label="Last used">{{date(t.last_used_at) if t.last_used_at else 'never'}}</td><td data-label="Expires">{{date(t.expires_at) if t.expires_at else 'never'}}</td><td data-label="State">{{t.status}}</td>
      <td>
      % if not t.revoked:
      <form method="post" action="{{url('token_revoke', token_id=t.id)}}" id="revoke-{{t.id}}">
        % include('_csrf')
        <button type="submit" class="button button-secondary">Revoke</button>
      </form>
      % end
      </td></tr>
    % end
    </tbody>
  </table></div>
  % end
  <form method="post" action="{{url('token_create')}}" id="token-form" novalidate>
    % include('_csrf')
    % for field in token_form:
    % include('_field', field=field)
    % end
    <button type="submit" class="button">Make a token</button>
  </form>
</section>
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
