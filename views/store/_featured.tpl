%# The home page's collections and newest products, the same for everyone (a fragment).
%# Expects: collections (with featured product joined), products.
<h2>Featured collections</h2>
<ul class="collection-grid">
% for c in collections:
  <li class="card collection-card accent-{{c.id % 10}}">
    <a class="card-link" href="{{url('collection', collection_id=c.id)}}"><span class="collection-title">{{c.title}}</span></a>
    % if c.featured_product_id:
    <span class="product-meta">Featured: <a href="{{url('product', product_id=c.featured_product_id)}}">{{c.featured_product.title}}</a></span>
    % end
  </li>
% end
</ul>

<h2>New in the shop</h2>
% include('store/_product_grid', products=products)
