%# A page of products with its count and page links: the part of a listing that is the same
%# for everyone (a fragment, so it cannot use the visitor). Expects: page, empty (what to say
%# when nothing matches). Its links keep the list's parameters (this_list()).
% route, params = this_list()
% if page.out_of_range:
<div class="empty">
  <p>There is no page {{page.number}} here.</p>
  <a class="button" href="{{url(route, **params)}}">Go to the first page</a>
  % if page.pages:
  <a href="{{url(route, **dict(params, page=page.pages))}}">or the last page ({{format(page.pages, ',')}})</a>
  % end
</div>
% elif not page.items:
<div class="empty"><p>{{empty}}</p></div>
% else:
<p class="muted result-count">
  % if page.total is None:
  More than {{format(page.count_limit, ',')}} products.
  % else:
  {{format(page.total, ',')}} product{{'' if page.total == 1 else 's'}}.
  % end
</p>
% include('store/_product_grid', products=page.items)
% include('store/_pagination', page=page, route=route, params=params)
% end
