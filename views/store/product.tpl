%# One product. Expects: product (with its collection_title), promotions and tags (queries)
%# and likes (a function that counts them), run by the fragments when they are not cached;
%# liked (by this user), error (a cart message or None) and quantity (for the quantity box).
% rebase('layout')
<nav class="breadcrumbs" aria-label="Breadcrumbs">
  <a href="{{url('catalog')}}">Shop</a> ›
  <a href="{{url('collection', collection_id=product.collection_id)}}">{{product.collection_title}}</a> ›
  <span>{{product.title}}</span>
</nav>
<article class="product-detail">
  {{!fragment('store/_gallery', product=product)}}
  <div class="product-info">
    {{!fragment('store/_product_details', product=product, promotions=promotions, tags=tags, error=error, quantity=quantity)}}
    <div class="likes">
      {{!fragment('store/_like_count', likes=likes)}}
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
