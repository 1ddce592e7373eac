%# A grid of product cards with add-to-cart buttons. Expects: products (with .collection
%# joined), url, csrf_token, request.
% here = request.fullpath + ('?' + request.query_string if request.query_string else '')
<ul class="product-grid">
% for p in products:
  <li class="card product-card" id="product-{{p.id}}">
    <a class="card-link" href="{{url('product', product_id=p.id)}}">
      <span class="product-thumb thumb-{{p.collection_id % 10}}" aria-hidden="true">{{p.title[:1]}}</span>
      <span class="product-title">{{p.title}}</span>
    </a>
    <span class="product-meta">{{p.collection.title}}</span>
    <span class="product-price">
      % include('store/_price', price=p.price, was=p.unit_price)
    </span>
    % include('store/_stock', product=p)
    % if p.inventory > 0:
    <form method="post" action="{{url('cart_add')}}" class="card-action">
      % include('_csrf')
      <input type="hidden" name="product_id" value="{{p.id}}">
      <input type="hidden" name="quantity" value="1">
      <input type="hidden" name="next" value="{{here}}#product-{{p.id}}">
      <button type="submit" class="button button-small" aria-label="Add to cart: {{p.title}}">Add to cart</button>
    </form>
    % end
  </li>
% end
</ul>
