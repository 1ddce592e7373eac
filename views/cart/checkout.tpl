%# Checkout review. Expects: form (ProfileForm), lines, total.
% rebase('layout')
% with_photos([line.product for line in lines])
<h1>Checkout</h1>
<div class="checkout">
  <section>
    <h2>Your order</h2>
    <div class="table-wrap"><table class="table">
      <thead><tr><th>Product</th><th class="num">Qty</th><th class="num">Line total</th></tr></thead>
      <tbody>
      % for line in lines:
      <tr><td><span class="line-product">
        % include('store/_photo', product=line.product, size='thumb', sizes='3rem', cls='line-photo', beside_title=True)
        <span>{{line.product.title}} <span class="muted">at
        % include('store/_price', price=line.product.price, was=line.product.unit_price)
      </span></span></span></td><td class="num">{{line.quantity}}</td><td class="num">{{money(line.line_total)}}</td></tr>
      % end
      </tbody>
      <tfoot><tr><th colspan="2">Total</th><td class="num total">{{money(total)}}</td></tr></tfoot>
    </table></div>
    <p><a href="{{url('cart')}}">Change the cart</a></p>
  </section>
  <section class="form-card">
    <h2>Deliver to</h2>
    <form method="post" action="{{url('checkout')}}" novalidate>
      % include('_csrf')
      % for field in form:
      % include('_field', field=field)
      % end
      <button type="submit" class="button">Place order · {{money(total)}}</button>
    </form>
  </section>
</div>
