%# One product. Expects: product (with .collection), promotions (current ones), tags, likes
%# (how many), liked (by this user), error (a cart message or None), quantity.
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
    <ul class="tags" aria-label="Tags">
      % for tag in tags:
      <li><a class="tag" href="{{url('tag', label=tag.label)}}">{{tag.label}}</a></li>
      % end
    </ul>
    % end
    <div class="likes">
      <span class="like-count">{{'Nobody likes this yet' if not likes else ('1 person likes this' if likes == 1 else '%s people like this' % format(likes, ','))}}</span>
      % if user:
      <form method="post" action="{{url('product_like', product_id=product.id)}}" class="inline-form">
        % include('_csrf')
        <input type="hidden" name="liked" value="{{'0' if liked else '1'}}">
        <button type="submit" class="button button-small button-secondary" aria-pressed="{{'true' if liked else 'false'}}">{{'♥ Liked' if liked else '♡ Like'}}</button>
      </form>
      % else:
      <a href="{{url('login', next=url('product', product_id=product.id))}}">Log in to like it</a>
      % end
    </div>
  </div>
</article>
