%# A model's rows. Expects: spec (ModelAdmin), page (Page), params, q, sort, total, filters,
%# edit_forms ({id: form} for editable columns; their inputs are written out here, which is
%# many times faster than WTForms' widgets for fifty rows).
% rebase('layout', title=spec.plural)
% include('admin/_header', crumbs=[(spec.plural, None)])
% back = request.query_string
<div class="admin-head">
  <h1>{{spec.plural}}</h1>
  <div class="admin-tools">
    <a class="button button-secondary" href="{{url('admin_export', model=spec.name, **params)}}">Export CSV</a>
    % if spec.can_add and user.has_perm(spec.name + '.add'):
    <a class="button" href="{{url('admin_add', model=spec.name, _back=back)}}">Add {{spec.label.lower()}}</a>
    % end
  </div>
</div>
<div class="changelist">
  % if filters:
  <aside class="filters admin-filters" aria-label="Filters">
    <h2>Filter</h2>
    % for param, label, options, kind in filters:
    <h3>{{label}}</h3>
    % if kind == 'choice':
    <ul>
      <li><a href="{{url('admin_changelist', model=spec.name, **dict(params, **{param: None, 'page': None}))}}" class="{{'selected' if not params.get(param) else ''}}"{{!' aria-current="true"' if not params.get(param) else ''}}>All</a></li>
      % for value, text in options:
      <li><a href="{{url('admin_changelist', model=spec.name, **dict(params, **{param: value, 'page': None}))}}" class="{{'selected' if params.get(param) == value else ''}}"{{!' aria-current="true"' if params.get(param) == value else ''}}>{{text}}</a></li>
      % end
    </ul>
    % else:
    <form method="get" class="range-filter">
      % for key, value in params.items():
      % if key not in (param + '__gte', param + '__lte', 'page'):
      <input type="hidden" name="{{key}}" value="{{value}}">
      % end
      % end
      <label for="{{param}}-gte">From</label>
      <input id="{{param}}-gte" type="{{'date' if kind == 'date' else 'number'}}" step="any" name="{{param}}__gte" value="{{params.get(param + '__gte', '')}}">
      <label for="{{param}}-lte">To</label>
      <input id="{{param}}-lte" type="{{'date' if kind == 'date' else 'number'}}" step="any" name="{{param}}__lte" value="{{params.get(param + '__lte', '')}}">
      <button type="submit" class="button button-small button-secondary">Apply</button>
    </form>
    % end
    % end
  </aside>
  % end
  <div class="changelist-main">
    % if spec.search_fields:
    <form method="get" class="admin-search" role="search">
      <label class="visually-hidden" for="admin-q">Search {{spec.plural.lower()}}</label>
      <input id="admin-q" type="search" name="q" value="{{q}}" placeholder="Search {{spec.plural.lower()}}">
      % for key, value in params.items():
      % if key not in ('q', 'page'):
      <input type="hidden" name="{{key}}" value="{{value}}">
      % end
      % end
      <button type="submit" class="button button-small">Search</button>
    </form>
    % end
    <p class="muted result-count">
      % if page.total is None:
      More than {{format(page.count_limit, ',')}} results ({{format(total, ',')}} total)
      % else:
      {{format(page.total, ',')}} result{{'' if page.total == 1 else 's'}} ({{format(total, ',')}} total)
      % end
      % if q or any(k not in ('page', 'sort') for k in params):
      · <a href="{{url('admin_changelist', model=spec.name)}}">Clear search and filters</a>
      % end
    </p>
    <form method="post" action="{{url('admin_action', model=spec.name)}}" id="action-form"></form>
    <form method="post" action="{{request.fullpath + ('?' + back if back else '')}}" id="edit-form"></form>
    <div class="action-bar">
      <input type="hidden" name="csrf_token" value="{{csrf_token()}}" form="action-form">
      <input type="hidden" name="_back" value="{{back}}" form="action-form">
      <label for="action-select">Action</label>
      <select id="action-select" name="action" form="action-form">
        % if spec.can_delete and user.has_perm(spec.name + '.delete'):
        <option value="delete_selected">Delete selected {{spec.plural.lower()}}</option>
        % end
        % for name in spec.actions:
        <option value="{{name}}">{{getattr(spec, name).label}}</option>
        % end
      </select>
      <button type="submit" class="button button-small" form="action-form">Go</button>
      % if edit_forms:
      <input type="hidden" name="csrf_token" value="{{csrf_token()}}" form="edit-form">
      <button type="submit" class="button button-small" form="edit-form">Save changes</button>
      % end
    </div>
    <div class="table-wrap">
      <table class="table changelist-table">
        <thead><tr>
          <th scope="col"><input type="checkbox" class="select-all" aria-label="Select all rows on this page"></th>
          % for name, label, key in spec.columns():
          <th scope="col">
            % if key:
            % next_sort = '-' + key if sort == key else key
            <a href="{{url('admin_changelist', model=spec.name, **dict(params, sort=next_sort, page=None))}}" class="sort-link{{' sorted' if sort.lstrip('-') == key else ''}}">{{label}}{{' ▲' if sort == key else (' ▼' if sort == '-' + key else '')}}</a>
            % else:
            {{label}}
            % end
          </th>
          % end
        </tr></thead>
        <tbody>
        % for row in page.items:
        % ident = row.get_id()
        % form = edit_forms.get(ident)
        <tr>
          <td><input type="checkbox" name="_selected" value="{{ident}}" form="action-form" aria-label="Select {{row}}"></td>
          % for i, (name, label, key) in enumerate(spec.columns()):
          <td>
            % if form and name in spec.list_editable:
            <input type="hidden" name="_row" value="{{ident}}" form="edit-form">
            % field = form[name]
            % if hasattr(field, 'iter_choices'):
            <select name="{{field.name}}" form="edit-form" class="inline-edit" aria-label="{{label}} of {{row}}">
              % for choice in field.iter_choices():
              <option value="{{choice[0]}}"{{!' selected' if choice[2] else ''}}>{{choice[1]}}</option>
              % end
            </select>
            % else:
            <input type="text" name="{{field.name}}" value="{{field._value()}}" form="edit-form" class="inline-edit" aria-label="{{label}} of {{row}}"{{!' aria-invalid="true"' if field.errors else ''}}>
            % end
            % for error in form[name].errors:
            <span class="errors">{{error}}</span>
            % end
            % else:
            % text, link = spec.display(row, name)
            % if i == 0:
            <a href="{{url('admin_change', model=spec.name, ident=ident, _back=back)}}">{{text or '(empty)'}}</a>
            % elif link:
            <a href="{{link}}">{{text}}</a>
            % else:
            {{text}}
            % end
            % end
          </td>
          % end
        </tr>
        % end
        </tbody>
      </table>
    </div>
    % if page.out_of_range:
    <p class="empty">There is no page {{page.number}}. <a href="{{url('admin_changelist', model=spec.name, **dict(params, page=None))}}">Go to the first page</a>.</p>
    % elif not page.items:
    <p class="empty">No {{spec.plural.lower()}} match.</p>
    % end
    % include('store/_pagination', page=page, route='admin_changelist', params=dict(params, model=spec.name))
  </div>
</div>
