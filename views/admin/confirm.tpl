%# Confirm an action on selected rows. Expects: spec, count (rows it will touch), sample (the
%# first of them), ids (the ticked keys; empty when it acts on the whole list: select_across),
%# action, label, plan (for delete, else None), back, row_link.
% rebase('layout')
% list_link = url('admin_changelist', model=spec.name) + ('?' + back if back else '')
% include('admin/_header', crumbs=[(spec.plural, list_link), (label, None)])
<h1>{{label}}?</h1>
% blocked = plan is not None and plan['protected']
% if blocked:
% include('admin/_plan', plan=plan, it='it' if count == 1 else 'them', row_link=row_link)
% end
<p class="confirm-count">This will touch <strong>{{format(count, ',')}} {{spec.label.lower() if count == 1 else spec.plural.lower()}}</strong>{{' (every one the list shows with its search and filters)' if not ids else ''}}:</p>
<ul class="selected-objects">
  % for obj in sample:
  <li>{{obj}}</li>
  % end
  % if count > len(sample):
  <li>… and {{format(count - len(sample), ',')}} more</li>
  % end
</ul>
% if plan is not None and not blocked:
% include('admin/_plan', plan=plan, it='it' if count == 1 else 'them', row_link=row_link)
% end
% if not blocked:
<form method="post" action="{{url('admin_action', model=spec.name)}}" class="form-actions" id="confirm-form">
  % include('_csrf')
  <input type="hidden" name="action" value="{{action}}">
  <input type="hidden" name="confirm" value="1">
  <input type="hidden" name="_back" value="{{back}}">
  % if ids:
  % for ident in ids:
  <input type="hidden" name="_selected" value="{{ident}}">
  % end
  % else:
  <input type="hidden" name="select_across" value="1">
  % end
  <button type="submit" class="button{{' button-danger' if plan is not None else ''}}">Yes, {{label[0].lower() + label[1:]}}</button>
  <a class="button button-secondary" href="{{list_link}}">No, go back</a>
</form>
% else:
<p><a class="button button-secondary" href="{{list_link}}">Go back</a></p>
% end
