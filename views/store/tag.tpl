%# The products with one tag. Expects: tag, page (Page of products).
% rebase('layout')
<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="{{url('catalog')}}">Shop</a> › <span>Tagged “{{tag.label}}”</span></nav>
<h1>Tagged “{{tag.label}}”</h1>
% if page.out_of_range:
<div class="empty"><p>There is no page {{page.number}} of this tag.</p>
<a class="button" href="{{url('tag', label=tag.label)}}">Go to the first page</a></div>
% elif not page.items:
<div class="empty"><p>No products carry this tag yet.</p></div>
% else:
<p class="muted">{{format(page.total, ',') if page.total is not None else 'Many'}} product{{'' if page.total == 1 else 's'}}.</p>
% include('store/_product_grid', products=page.items)
% include('store/_pagination', page=page, route='tag', params={'label': tag.label})
% end
