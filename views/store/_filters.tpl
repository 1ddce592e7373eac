%# The catalog's filters, the same for everyone who asks this address (a fragment). Expects:
%# collections (a query), collection_id, q, sort, sorts.
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
