%# The catalog. Expects: page (Page of products), params (the current query), q, sort, sorts,
%# collections, collection_id.
% rebase('layout')
<div class="catalog">
  <aside class="filters" aria-label="Filters">
    <form method="get" action="{{url('catalog')}}" class="stack">
      % if q:
      <input type="hidden" name="q" value="{{q}}">
      % end
      <label for="collection">Collection</label>
      <select id="collection" name="collection">
        <option value="">All collections</option>
        % for c in collections:
        <option value="{{c.id}}" {{'selected' if c.id == collection_id else ''}}>{{c.title}}</option>
        % end
      </select>
      <label for="sort">Sort by</label>
      <select id="sort" name="sort">
        % for key, label in sorts.items():
        <option value="{{key}}" {{'selected' if key == sort else ''}}>{{label}}</option>
        % end
      </select>
      <button type="submit" class="button">Apply</button>
    </form>
  </aside>
  <section class="catalog-results">
    <h1>{{title}}</h1>
    <p class="muted">
      % if page.total is None:
      More than {{format(page.count_limit, ',')}} products match.
      % else:
      {{format(page.total, ',')}} product{{'' if page.total == 1 else 's'}}.
      % end
    </p>
    % if page.out_of_range:
    <div class="empty">
      <p>There is no page {{page.number}} of these results.</p>
      <a class="button" href="{{url('catalog', **params)}}">Go to the first page</a>
      % if page.pages:
      <a href="{{url('catalog', **dict(params, page=page.pages))}}">or the last page ({{page.pages}})</a>
      % end
    </div>
    % elif not page.items:
    <div class="empty"><p>No products match. Try another search or collection.</p></div>
    % else:
    % include('store/_product_grid', products=page.items)
    % include('store/_pagination', page=page, route='catalog', params=params)
    % end
  </section>
</div>
