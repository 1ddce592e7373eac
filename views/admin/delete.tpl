%# Confirm deleting one row. Expects: spec, obj, plan (models.deletion_plan), back, row_link.
% rebase('layout')
% include('admin/_header', crumbs=[(spec.plural, url('admin_changelist', model=spec.name)), (str(obj), url('admin_change', model=spec.name, ident=obj.get_id())), ('Delete', None)])
<h1>Delete {{spec.label.lower()}} “{{obj}}”?</h1>
% include('admin/_plan', plan=plan, it='it', row_link=row_link)
% if not plan['protected']:
<form method="post" class="form-actions" id="delete-form">
  % include('_csrf')
  <input type="hidden" name="_back" value="{{back}}">
  <button type="submit" class="button button-danger">Yes, delete it</button>
  <a class="button button-secondary" href="{{url('admin_change', model=spec.name, ident=obj.get_id())}}">No, keep it</a>
</form>
% else:
<p><a class="button button-secondary" href="{{url('admin_change', model=spec.name, ident=obj.get_id())}}">Back</a></p>
% end
