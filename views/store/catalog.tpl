%# The catalog. Expects: results (the shared HTML of the page of products), q, sort, sorts,
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
        % if q or key != 'relevance':
        <option value="{{key}}" {{'selected' if key == sort else ''}}>{{label}}</option>
        % end
        % end
      </select>
      <button type="submit" class="button">Apply</button>
    </form>
  </aside>
  <section class="catalog-results">
    <h1>{{title}}</h1>
    % if q:
    <p><a href="{{url('catalog', collection=collection_id, sort=sort if sort not in ('title', 'relevance') else None)}}">Clear the search</a></p>
    % end
    {{!results}}
  </section>
</div>
