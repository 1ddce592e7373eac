%# One order. Expects: order, items (OrderItems with .product), total.
% rebase('layout')
% with_photos([item.product for item in items])
<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="{{url('orders')}}">Your orders</a> › <span>#{{order.id}}</span></nav>
<h1>Order #{{order.id}}</h1>
<p>Placed {{date(order.placed_at)}} · Payment: <span class="status status-{{order.payment_status}}">{{order.payment_status_label}}</span></p>
<div class="table-wrap"><table class="table table-cards">
  <thead><tr><th>Product</th><th class="num">Unit price</th><th class="num">Qty</th><th class="num">Line total</th></tr></thead>
  <tbody>
  % for item in items:
  <tr><td><a class="line-product" href="{{url('product', product_id=item.product_id)}}">
    % include('store/_photo', product=item.product, size='thumb', sizes='3rem', cls='line-photo', beside_title=True)
    <span>{{item.product.title}}</span></a></td><td class="num" data-label="Unit price">
    % include('store/_price', price=item.unit_price, was=item.list_price)
  </td><td class="num" data-label="Qty">{{item.quantity}}</td><td class="num" data-label="Line total">{{money(item.line_total)}}</td></tr>
  % end
  </tbody>
  <tfoot><tr><th colspan="3">Total</th><td class="num total">{{money(total)}}</td></tr></tfoot>
</table></div>
