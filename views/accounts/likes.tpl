%# The products the user likes. Expects: page (Page of products).
% rebase('layout')
<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="{{url('account')}}">Your account</a> › <span>Products you like</span></nav>
<h1>Products you like</h1>
% if page.out_of_range:
<div class="empty"><p>There is no page {{page.number}}.</p>
<a class="button" href="{{url('likes')}}">Go to the first page</a></div>
% elif not page.items:
<div class="empty"><p>You have not liked a product yet. Press “Like” on a product you would buy again.</p>
<a class="button" href="{{url('catalog')}}">Browse the shop</a></div>
% else:
% include('store/_product_grid', products=page.items)
% include('store/_pagination', page=page, route='likes', params={})
% end
