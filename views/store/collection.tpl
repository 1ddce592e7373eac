%# One collection. Expects: collection, page (Page of its products).
% rebase('layout')
<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="{{url('collections')}}">Collections</a> › <span>{{collection.title}}</span></nav>
<h1>{{collection.title}}</h1>
% if page.out_of_range:
<div class="empty"><p>There is no page {{page.number}} in this collection.</p>
<a class="button" href="{{url('collection', collection_id=collection.id)}}">Go to the first page</a></div>
% elif not page.items:
<div class="empty"><p>This collection has no products yet.</p></div>
% else:
<p class="muted">{{format(page.total, ',') if page.total is not None else 'Many'}} products. <a href="{{url('catalog', collection=collection.id)}}">Search or sort them</a></p>
% include('store/_product_grid', products=page.items)
% include('store/_pagination', page=page, route='collection', params={'collection_id': collection.id})
% end
