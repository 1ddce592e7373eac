%# The cart. Expects: lines (CartItems with .product), total, errors ({product_id: message}).
% rebase('layout')
% with_photos([line.product for line in lines])
<h1>Your cart</h1>
% if errors:
<div class="flash flash-error" role="alert">Some lines need your attention: nothing was ordered.</div>
% end
% if not lines:
<div class="empty"><p>Your cart is empty.</p><a class="button" href="{{url('catalog')}}">Start shopping</a></div>
% else:
<div class="table-wrap"><table class="table cart-table">
  <thead><tr><th>Product</th><th class="num">Unit price</th><th>Quantity</th><th class="num">Line total</th></tr></thead>
  <tbody>
  % for line in lines:
  <tr class="{{'has-error' if line.product_id in errors else ''}}">
    <td><a class="line-product" href="{{url('product', product_id=line.product_id)}}">
      % include('store/_photo', product=line.product, size='thumb', sizes='3rem', cls='line-photo', beside_title=True)
      <span>{{line.product.title}}</span></a>
      % if line.product_id in errors:
      <ul class="errors" id="line-{{line.product_id}}-error"><li>{{errors[line.product_id]}}</li></ul>
      % end
    </td>
    <td class="num">
      % include('store/_price', price=line.product.price, was=line.product.unit_price)
    </td>
    <td>
      <form method="post" action="{{url('cart_update', product_id=line.product_id)}}" class="qty-form" novalidate>
        % include('_csrf')
        <label class="visually-hidden" for="qty-{{line.product_id}}">Quantity of {{line.product.title}}</label>
        <input id="qty-{{line.product_id}}" type="number" name="quantity" value="{{line.quantity}}" min="0" max="{{line.product.inventory}}">
        <button type="submit" class="button button-small button-secondary">Update</button>
      </form>
      <form method="post" action="{{url('cart_update', product_id=line.product_id)}}" class="qty-form">
        % include('_csrf')
        <input type="hidden" name="quantity" value="0">
        <button type="submit" class="link-button">Remove</button>
      </form>
    </td>
    <td class="num">{{money(line.line_total)}}</td>
  </tr>
  % end
  </tbody>
  <tfoot><tr><th colspan="3">Total</th><td class="num total">{{money(total)}}</td></tr></tfoot>
</table></div>
<p class="actions"><a class="button button-secondary" href="{{url('catalog')}}">Keep shopping</a> <a class="button" href="{{url('checkout')}}">Check out</a></p>
% end
