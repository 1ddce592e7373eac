%# All collections. Expects: collections (each with .product_count).
% rebase('layout')
<h1>Collections</h1>
<ul class="collection-grid">
% for c in collections:
  <li class="card collection-card accent-{{c.id % 10}}">
    <a class="card-link" href="{{url('collection', collection_id=c.id)}}"><span class="collection-title">{{c.title}}</span></a>
    <span class="product-meta">{{format(c.product_count, ',')}} product{{'' if c.product_count == 1 else 's'}}</span>
  </li>
% end
</ul>
