%# The customer's orders. Expects: page (a Page of orders, with .total_amount and .item_count;
%# None for an account without a customer profile).
% rebase('layout')
<h1>Your orders</h1>
% if page is None or not page.items:
<div class="empty"><p>You have not ordered anything yet.</p><a class="button" href="{{url('catalog')}}">Browse the shop</a></div>
% else:
<div class="table-wrap"><table class="table table-cards">
  <thead><tr><th>Order</th><th>Placed</th><th>Payment</th><th class="num">Items</th><th class="num">Total</th></tr></thead>
  <tbody>
  % for o in page.items:
  <tr><td><a href="{{url('order', order_id=o.id)}}">Order #{{o.id}}</a></td><td data-label="Placed">{{date(o.placed_at)}}</td>
    <td data-label="Payment"><span class="status status-{{o.payment_status}}">{{o.payment_status_label}}</span></td>
    <td class="num" data-label="Items">{{o.item_count}}</td><td class="num" data-label="Total">{{money(o.total_amount)}}</td></tr>
  % end
  </tbody>
</table></div>
% include('store/_pagination', page=page, route='orders', params={})
% end
