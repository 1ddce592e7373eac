%# One row's admin history. Expects: spec, obj, entries (AdminLogEntry with .user).
% rebase('layout')
% include('admin/_header', crumbs=[(spec.plural, url('admin_changelist', model=spec.name)), (str(obj), url('admin_change', model=spec.name, ident=obj.get_id())), ('History', None)])
<h1>History of “{{obj}}”</h1>
% if not entries:
<p class="empty">No changes have been made to this {{spec.label.lower()}} through the admin.</p>
% else:
<div class="table-wrap" tabindex="0" role="region" aria-label="History"><table class="table">
  <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">What changed</th></tr></thead>
  <tbody>
  % for e in entries:
  <tr><td>{{date(e.action_time)}}</td><td>{{e.user.username if e.user else '—'}}</td><td>{{e.action_name}}</td><td>{{e.change_message}}</td></tr>
  % end
  </tbody>
</table></div>
% end
