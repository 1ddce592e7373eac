%# A sidebar filter as links. Expects: f (a ListFilter), cl (the ChangeList).
% chosen = cl.params.get(f.name, '')
<h3>{{f.label}}</h3>
<ul>
  <li><a href="{{cl.link(**{f.name: None})}}"{{!' class="selected" aria-current="true"' if not chosen else ''}}>All</a></li>
  % for value, text in f.choices(cl):
  <li><a href="{{cl.link(**{f.name: value})}}"{{!' class="selected" aria-current="true"' if chosen == value else ''}}>{{text}}</a></li>
  % end
</ul>
