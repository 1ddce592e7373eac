%# One collection. Expects: collection, page (of its products).
% rebase('layout')
<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="{{url('collections')}}">Collections</a> › <span>{{collection.title}}</span></nav>
<h1>{{collection.title}}</h1>
<p><a href="{{url('catalog', collection=collection.id)}}">Search or sort this collection</a></p>
{{!fragment('store/_results', page=page, empty='This collection has no products yet.')}}
