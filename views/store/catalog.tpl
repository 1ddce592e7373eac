%# The catalog. Expects: page (of products), q, sort, sorts, collections (a query),
%# collection_id, best_of (the most matches a search considers).
% rebase('layout')
<div class="catalog">
  <aside class="filters" aria-label="Filters">
    {{!fragment('store/_filters', collections=collections, collection_id=collection_id, q=q, sort=sort, sorts=sorts)}}
  </aside>
  <section class="catalog-results">
    <h1>{{title}}</h1>
    % if q:
    <p><a href="{{url('catalog', collection=collection_id, sort=sort if sort not in ('title', 'relevance') else None)}}">Clear the search</a></p>
    % if page.total == best_of:
    <p class="muted search-capped">Showing the best {{format(best_of, ',')}} matches: add a word to your search to find the others.</p>
    % end
    % end
    {{!fragment('store/_results', page=page, empty='No products match. Try another search or collection.')}}
  </section>
</div>
