%# What a deletion takes with it. Expects: plan.
% if plan['protected']:
<div class="flash flash-error" role="alert">This cannot be deleted: other rows depend on it and are protected.
  <ul>
  % for label, count in plan['protected']:
    <li>{{format(count, ',')}} × {{label}}</li>
  % end
  </ul>
</div>
% elif plan['deleted']:
<p>These related rows will be deleted too:</p>
<ul>
  % for label, count in plan['deleted']:
  <li>{{format(count, ',')}} × {{label}}</li>
  % end
</ul>
% else:
<p>No other rows depend on it.</p>
% end
