%# Page links that keep the other query parameters (none past the end: what is there says where
%# the pages are). Expects: page, route, params (dict), url.
% if (page.has_previous or page.has_next) and not page.out_of_range:
<nav class="pagination" aria-label="Pages">
  % if page.has_previous:
  <a rel="prev" href="{{url(route, **dict(params, page=page.number - 1 if page.number > 2 else None))}}">← Previous</a>
  % end
  <span class="page-info">Page {{page.number}}{{' of %s' % format(page.pages, ',') if page.pages else ''}}</span>
  % if page.has_next:
  <a rel="next" href="{{url(route, **dict(params, page=page.number + 1))}}">Next →</a>
  % end
</nav>
% end
