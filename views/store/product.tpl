%# One product. Expects: product (with .collection), promotions, tags, error (a cart
%# message or None), quantity (what the quantity box shows).
% rebase('layout')
<nav class="breadcrumbs" aria-label="Breadcrumbs">
  <a href="{{url('catalog')}}">Shop</a> ›
  <a href="{{url('collection', collection_id=product.collection_id)}}">{{product.collection.title}}</a> ›
  <span>{{product.title}}</span>
</nav>
<article class="product-detail">
  <div class="product-thumb product-thumb-large thumb-{{product.collection_id % 10}}" aria-hidden="true">{{product.title[:1]}}</div>
  <div class="product-info">
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
    <ul class="tags">
      % for tag in tags:
      <li class="tag">{{tag.label}}</li>
      % end
    </ul>
    % end
  </div>
</article>
