%# A from/to filter, with quick choices for a date. Expects: f (a Range), cl (the ChangeList).
% low, high = f.params
<h3>{{f.label}}</h3>
% quick = f.quick_choices()
% if quick:
% picked = cl.params.get(low, '') if not cl.params.get(high) else None
<ul>
  <li><a href="{{cl.link(**{low: None, high: None})}}"{{!' class="selected" aria-current="true"' if not cl.params.get(low) and not cl.params.get(high) else ''}}>Any date</a></li>
  % for text, day in quick:
  <li><a href="{{cl.link(**{low: day, high: None})}}"{{!' class="selected" aria-current="true"' if picked == day else ''}}>{{text}}</a></li>
  % end
</ul>
% end
<form method="get" class="range-filter">
  % for name, value in cl.hidden(low, high):
  <input type="hidden" name="{{name}}" value="{{value}}">
  % end
  <label for="{{low}}">From</label>
  <input id="{{low}}" type="{{'date' if f.is_date else 'number'}}"{{!'' if f.is_date else ' step="any"'}} name="{{low}}" value="{{cl.params.get(low, '')}}">
  <label for="{{high}}">To</label>
  <input id="{{high}}" type="{{'date' if f.is_date else 'number'}}"{{!'' if f.is_date else ' step="any"'}} name="{{high}}" value="{{cl.params.get(high, '')}}">
  <button type="submit" class="button button-small button-secondary">Apply</button>
</form>
