%# A filter on a foreign key: the related rows as links when they are few, and a search box
%# that finds any of them, however many there are. Expects: f (a FieldFilter), cl.
% chosen_id = cl.params.get(f.name, '')
% searched = cl.params.get(f.search_param, '').strip()
% choices = f.choices(cl)
% shown = choices[:f.SHOWN]
% chosen = f.chosen(cl.params) if chosen_id else None
<h3 id="{{f.name}}-filter">{{f.label}}</h3>
<ul>
  <li><a href="{{cl.link(**{f.name: None, f.search_param: None})}}"{{!' class="selected" aria-current="true"' if not chosen_id else ''}}>All</a></li>
  % if chosen is not None and not any(value == chosen_id for value, _ in shown):
  <li><a href="{{cl.link(**{f.name: chosen_id})}}" class="selected" aria-current="true">{{chosen}}</a></li>
  % end
  % for value, text in shown:
  <li><a href="{{cl.link(**{f.name: value})}}"{{!' class="selected" aria-current="true"' if chosen_id == value else ''}}>{{text}}</a></li>
  % end
  % if searched and not choices:
  <li class="muted filter-none">No {{f.label.lower()}} matches “{{searched}}”.</li>
  % end
</ul>
% if searched or len(choices) > f.SHOWN or not choices:
<form method="get" class="filter-search" role="search" aria-labelledby="{{f.name}}-filter">
  % for name, value in cl.hidden(f.search_param):
  <input type="hidden" name="{{name}}" value="{{value}}">
  % end
  <label class="visually-hidden" for="{{f.search_param}}">{{f.search_label}}</label>
  <input id="{{f.search_param}}" type="search" name="{{f.search_param}}" value="{{searched}}" placeholder="Search…">
  <button type="submit" class="button button-small button-secondary">Find</button>
</form>
% if len(choices) > f.SHOWN:
<p class="hint">The first {{f.SHOWN}} are shown: search for the others.</p>
% end
% end
