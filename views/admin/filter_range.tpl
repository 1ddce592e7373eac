%# A from/to filter. Expects: f (a Range), cl (the ChangeList).
% low, high = f.params
<h3>{{f.label}}</h3>
<form method="get" class="range-filter">
  % for name, value in cl.hidden(low, high):
  <input type="hidden" name="{{name}}" value="{{value}}">
  % end
  <label for="{{low}}">From</label>
  <input id="{{low}}" type="{{'date' if f.is_date else 'number'}}" step="any" name="{{low}}" value="{{cl.params.get(low, '')}}">
  <label for="{{high}}">To</label>
  <input id="{{high}}" type="{{'date' if f.is_date else 'number'}}" step="any" name="{{high}}" value="{{cl.params.get(high, '')}}">
  <button type="submit" class="button button-small button-secondary">Apply</button>
</form>
