%# Add or change one row. Expects: spec, obj, form (WTForms), inlines ([(Inline, [(row, form)])]),
%# adding, back (the changelist's query string).
% rebase('layout')
% include('admin/_header', crumbs=[(spec.plural, url('admin_changelist', model=spec.name) + ('?' + back if back else '')), ('Add' if adding else str(obj), None)])
<div class="admin-head">
  <h1>{{'Add ' + spec.label.lower() if adding else str(obj)}}</h1>
  % if not adding:
  <div class="admin-tools">
    <a class="button button-secondary" href="{{url('admin_history', model=spec.name, ident=obj.get_id())}}">History</a>
    % for text, href in spec.object_tools(obj):
    <a class="button button-secondary" href="{{href}}">{{text}}</a>
    % end
  </div>
  % end
</div>
% if form.errors or form.form_errors:
<div class="flash flash-error" role="alert">Please correct the errors below.
  % for error in form.form_errors:
  <br>{{error}}
  % end
</div>
% end
<form method="post" class="admin-form" id="admin-form" novalidate>
  % include('_csrf')
  <input type="hidden" name="_back" value="{{back}}">
  <fieldset class="card">
    % for field in form:
    % attrs = {}
    % if field.name in spec.prepopulated:
    % attrs = {'data_prepopulate_from': spec.prepopulated[field.name]}
    % end
    % include('_field', field=field, attrs=attrs)
    % end
    % for name in spec.readonly_fields:
    <div class="field"><span class="label">{{name.replace('_', ' ').capitalize()}}</span> <span class="readonly">{{spec.display(obj, name)[0] or '—'}}</span></div>
    % end
  </fieldset>
  % for inline, rows in inlines:
  <fieldset class="card inline-group">
    <legend>{{inline.label}}</legend>
    <div class="table-wrap"><table class="table">
      <thead><tr>
        % for name in inline.fields:
        <th scope="col">{{name.replace('_', ' ').capitalize()}}</th>
        % end
        <th scope="col">Remove</th>
      </tr></thead>
      <tbody>
      % for row, child in rows:
      <tr class="{{'inline-new' if row is None else ''}}">
        % for name in inline.fields:
        <td>{{!child[name](aria_label=name + ' of ' + inline.label.lower() + ' row')}}
          % for error in child[name].errors:
          <span class="errors">{{error}}</span>
          % end
        </td>
        % end
        <td>
          % if row is not None:
          <input type="checkbox" name="{{child._prefix}}DELETE" value="1" aria-label="Remove this row">
          % else:
          <span class="muted">new</span>
          % end
        </td>
      </tr>
      % end
      </tbody>
    </table></div>
  </fieldset>
  % end
  <div class="form-actions">
    % if adding or user.has_perm(spec.name + '.change'):
    <button type="submit" name="_save" class="button">Save</button>
    <button type="submit" name="_addanother" class="button button-secondary">Save and add another</button>
    <button type="submit" name="_continue" class="button button-secondary">Save and continue editing</button>
    % end
    % if not adding and spec.can_delete and user.has_perm(spec.name + '.delete'):
    <a class="button button-danger" href="{{url('admin_delete', model=spec.name, ident=obj.get_id(), _back=back)}}">Delete</a>
    % end
  </div>
</form>
