%# What the product page says of a product, the same for everyone (a fragment: cached and
%# shared, but for a POST that failed). Expects: product, promotions (current ones), tags, error (a cart
%# message or None), quantity (what the quantity box shows).
<h1>{{product.title}}</h1>
<p class="product-price product-price-large">
  % include('store/_price', price=product.price, was=product.unit_price)
</p>
<p class="stock-line">
  % include('store/_stock', product=product)
</p>
% for promo in promotions:
<p class="promo">{{promo.description}}{{' — %s%% off' % promo.discount.normalize() if promo.discount else ''}}{{' until ' + date(promo.ends_on) if promo.ends_on else ''}}</p>
% end
<p>{{product.description}}</p>
% if product.inventory > 0:
<form method="post" action="{{url('cart_add')}}" class="add-to-cart" novalidate>
  % include('_csrf')
  <input type="hidden" name="product_id" value="{{product.id}}">
  <div class="field{{' has-error' if error else ''}}">
    <label for="quantity">Quantity</label>
    <input id="quantity" type="number" name="quantity" value="{{quantity}}" min="1" max="{{product.inventory}}" required{{!' aria-invalid="true" aria-describedby="quantity-error"' if error else ''}}>
    % if error:
    <ul class="errors" id="quantity-error"><li>{{error}}</li></ul>
    % end
  </div>
  <button type="submit" class="button">Add to cart</button>
</form>
% end
% if tags:
<ul class="tags" aria-label="Tags">
  % for tag in tags:
  <li><a class="tag" href="{{url('tag', label=tag.label)}}">{{tag.label}}</a></li>
  % end
</ul>
% end
