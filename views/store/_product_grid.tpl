%# A grid of product cards with add-to-cart buttons. Expects: products (with .collection
%# joined), url, csrf_token, request. Their main photos come in one query (with_photos).
% here = request.fullpath + ('?' + request.query_string if request.query_string else '')
% products = with_photos(products)
<ul class="product-grid">
% for n, p in enumerate(products):
  <li class="card product-card" id="product-{{p.id}}">
    <a class="card-link" href="{{url('product', product_id=p.id)}}">
      % include('store/_photo', product=p, size='card', sizes='(max-width: 37.5em) 46vw, 15rem', eager=n < 4, beside_title=True)
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
