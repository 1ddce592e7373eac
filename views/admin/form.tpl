%# Add, change or view one row. Expects: spec, obj, original (the row in the database; None on
%# the add page), form (WTForms), inlines ([InlineRows]), adding, editable (False: the user
%# may only view it, shown as text), readonly (fields shown as text on an editable form),
%# back (the changelist's query string), errors (whether the form or an inline has any).
% rebase('layout')
% list_link = url('admin_changelist', model=spec.name) + ('?' + back if back else '')
% include('admin/_header', crumbs=[(spec.plural, list_link), ('Add' if adding else str(obj), None)])
% def value_of(name):
% return (spec.display(obj, name)[0] if obj.get_id() is not None else '') or '—'
% end
% def as_text(name):
% known = name in spec.model._meta.fields or name in spec.relations
% return known and (not editable or (name not in form and name in readonly))
% end
<div class="admin-head">
  <h1>{{'Add ' + spec.label.lower() if adding else str(obj)}}</h1>
  % if original is not None:
  <div class="admin-tools">
    <a class="button button-secondary" href="{{url('admin_history', model=spec.name, ident=original.get_id())}}">History</a>
    % for text, href in spec.object_tools(original):
    <a class="button button-secondary" href="{{href}}">{{text}}</a>
    % end
  </div>
  % end
</div>
% if not editable:
<p class="view-only-note">You can view this {{spec.label.lower()}} but not change it.</p>
% end
% if errors:
<div class="flash flash-error" role="alert">Please correct the errors below.
  % for error in form.form_errors:
  <br>{{error}}
  % end
  % for rows in inlines:
  % for error in rows.errors:
  <br>{{error}}
  % end
  % end
</div>
% end
% if editable:
<form method="post" class="admin-form" id="admin-form" novalidate{{!' enctype="multipart/form-data"' if spec.takes_files else ''}}{{!' action="%s"' % url('admin_add', model=spec.name) if adding and original is not None else ''}}>
  % include('_csrf')
  <input type="hidden" name="_back" value="{{back}}">
  % if form.edit:
  %# What the form was opened on: a save over someone else's newer change is refused.
  <input type="hidden" name="_opened" value="{{form.edit.opened_text}}">
  % end
  %# Enter in a field presses a form's first button: let it be Save, not "Add another".
  <button type="submit" name="_save" hidden tabindex="-1">Save</button>
% else:
<div class="admin-form view-only">
% end
  % for title, options, names in spec.layout(adding):
  % names = [n for n in names if (editable and n in form) or as_text(n)]
  % if not names:
  % continue
  % end
  % tag = 'details' if options.get('collapse') else 'fieldset'
  % opened = tag == 'details' and any(n in form and form[n].errors for n in names)
  <{{tag}} class="card{{' fieldset' if tag == 'details' else ''}}"{{!' open' if opened else ''}}>
    % if tag == 'details':
    <summary>{{title}}</summary>
    % elif title:
    <legend>{{title}}</legend>
    % end
    % if options.get('description'):
    <p class="hint fieldset-description">{{options['description']}}</p>
    % end
    % for name in names:
    % if editable and name in form:
    % attrs = {'data_prepopulate_from': spec.prepopulated[name]} if name in spec.prepopulated else {}
    % include('_field', field=form[name], attrs=attrs)
    % else:
    <div class="field"><span class="label">{{spec.field_label(name)}}</span> <span class="readonly">{{value_of(name)}}</span></div>
    % end
    % end
  </{{tag}}>
  % end
  % for rows in inlines:
  % if not rows.can_view:
  % continue
  % end
  % inline = rows.inline
  <fieldset class="card inline-group" id="{{rows.prefix}}-group">
    <legend>{{inline.label}}</legend>
    % for error in rows.errors:
    <p class="errors inline-errors">{{error}}</p>
    % end
    % if editable:
    <input type="hidden" name="{{rows.prefix}}-TOTAL" value="{{rows.total}}" class="inline-total">
    % end
    <div class="table-wrap"><table class="table inline-table">
      <thead><tr>
        % for label in inline.labels():
        <th scope="col">{{label}}</th>
        % end
        % if editable and rows.can_delete:
        <th scope="col">Remove</th>
        % end
      </tr></thead>
      <tbody>
      % for n, (row, child) in enumerate(rows.rows):
      % include('admin/_inline_row', rows=rows, row=row, child=child, n=n, editable=editable)
      % end
      % if not rows.rows:
      <tr class="inline-empty"><td colspan="{{len(inline.fields) + (1 if editable and rows.can_delete else 0)}}" class="muted">No {{inline.nouns}}.</td></tr>
      % end
      </tbody>
    </table></div>
    % if editable and rows.can_add and len(rows.rows) < inline.max_num:
    <template class="inline-template">
      % include('admin/_inline_row', rows=rows, row=None, child=rows.blank_form(), n=None, editable=True)
    </template>
    <button type="submit" name="_addrow" value="{{rows.prefix}}" class="button button-secondary button-small add-row">Add another {{inline.noun}}</button>
    % end
  </fieldset>
  % end
% if editable:
  <div class="form-actions">
    <button type="submit" name="_save" class="button">Save</button>
    % if adding or spec.permits(user, 'add'):
    <button type="submit" name="_addanother" class="button button-secondary">Save and add another</button>
    % end
    <button type="submit" name="_continue" class="button button-secondary">Save and continue editing</button>
    % if not adding and spec.save_as and spec.permits(user, 'add'):
    <button type="submit" name="_saveasnew" class="button button-secondary">Save as new</button>
    % end
    % if original is not None and not adding and spec.permits(user, 'delete', original):
    <a class="button button-danger" href="{{url('admin_delete', model=spec.name, ident=original.get_id(), _back=back)}}">Delete</a>
    % end
  </div>
</form>
% else:
  <div class="form-actions">
    <a class="button button-secondary" href="{{list_link}}">Close</a>
  </div>
</div>
% end
