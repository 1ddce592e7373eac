%# What a deletion does to other rows, in words: what protects the rows (they cannot go), what
%# goes with them, what loses its link to them. Each kind names its first rows, with links.
%# Expects: plan (models.deletion_plan), it ("it" or "them"), row_link(row) -> URL or None.
% def kind_rows(kind):
<ul class="plan-rows">
  % for row in kind['rows']:
  % link = row_link(row)
  <li>{{!'<a href="%s">%s</a>' % (link, _escape(str(row))) if link else _escape(str(row))}}</li>
  % end
  % if kind['count'] > len(kind['rows']):
  <li class="muted">… and {{format(kind['count'] - len(kind['rows']), ',')}} more</li>
  % end
</ul>
% end
% def what(kind):
% return '%s %s' % (format(kind['count'], ','), kind['noun'])
% end
% if plan['protected']:
<div class="flash flash-error plan" role="alert">
  <h2>This cannot be deleted</h2>
  <p>These records refer to {{it}}. Change or delete them first, if they may go.</p>
  % for kind in plan['protected']:
  <h3>{{what(kind)}} {{'has' if kind['count'] == 1 else 'have'}} {{it}} as {{'its' if kind['count'] == 1 else 'their'}} {{kind['role']}}</h3>
  % kind_rows(kind)
  % end
</div>
% else:
% if plan['deleted']:
<section class="plan">
  <h2>Also deleted</h2>
  % for kind in plan['deleted']:
  <h3>{{what(kind)}}</h3>
  % kind_rows(kind)
  % end
</section>
% end
% if plan['cleared']:
<section class="plan">
  <h2>Kept, without their link to {{it}}</h2>
  % for kind in plan['cleared']:
  <h3>{{what(kind)}} will no longer have {{it}} as {{'its' if kind['count'] == 1 else 'their'}} {{kind['role']}}</h3>
  % kind_rows(kind)
  % end
</section>
% end
% if not plan['deleted'] and not plan['cleared']:
<p>Nothing else is deleted or changed with {{it}}.</p>
% end
% end
