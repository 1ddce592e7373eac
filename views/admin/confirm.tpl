%# Confirm an action on selected rows. Expects: spec, objects, action, label, plan (for delete), back.
% rebase('layout')
% include('admin/_header', crumbs=[(spec.plural, url('admin_changelist', model=spec.name) + ('?' + back if back else '')), (label, None)])
<h1>{{label}}?</h1>
<p>{{len(objects)}} {{spec.label.lower() if len(objects) == 1 else spec.plural.lower()}} selected:</p>
<ul class="selected-objects">
  % for obj in objects[:50]:
  <li>{{obj}}</li>
  % end
  % if len(objects) > 50:
  <li>… and {{len(objects) - 50}} more</li>
  % end
</ul>
% if plan is not None:
% include('admin/_plan', plan=plan)
% end
% if plan is None or not plan['protected']:
<form method="post" action="{{url('admin_action', model=spec.name)}}" class="form-actions" id="confirm-form">
  % include('_csrf')
  <input type="hidden" name="action" value="{{action}}">
  <input type="hidden" name="confirm" value="1">
  <input type="hidden" name="_back" value="{{back}}">
  % for obj in objects:
  <input type="hidden" name="_selected" value="{{obj.get_id()}}">
  % end
  <button type="submit" class="button{{' button-danger' if plan is not None else ''}}">Yes, {{label[0].lower() + label[1:]}}</button>
  <a class="button button-secondary" href="{{url('admin_changelist', model=spec.name) + ('?' + back if back else '')}}">No, go back</a>
</form>
% else:
<p><a class="button button-secondary" href="{{url('admin_changelist', model=spec.name) + ('?' + back if back else '')}}">Go back</a></p>
% end
