%# A model's rows. Expects: spec (ModelAdmin), cl (ChangeList: the list's search, filters and
%# sort, and links to it with one thing changed), page (Page), total, actions ([(name, label)]),
%# edit_forms ({id: form} for editable columns, each with its RowEdit; their inputs are written
%# out here, which is many times faster than WTForms' widgets for fifty rows).
% rebase('layout')
% include('admin/_header', crumbs=[(spec.plural, None)])
% back = cl.query_string
% columns = spec.columns()
<div class="admin-head">
  <h1>{{spec.plural}}</h1>
  <div class="admin-tools">
    <a class="button button-secondary" href="{{url('admin_export', **dict(cl.params, model=spec.name))}}">Export CSV</a>
    % if spec.can_import and spec.permits(user, 'import'):
    <a class="button button-secondary" href="{{url('admin_' + spec.name + '_import')}}">Import</a>
    % end
    % if spec.permits(user, 'add'):
    <a class="button" href="{{url('admin_add', model=spec.name, _back=back)}}">Add {{spec.label.lower()}}</a>
    % end
  </div>
</div>
<div class="changelist">
  % filters = [f for f in spec.filters if f.listed]
  % if filters:
  %# A disclosure, folded: on a phone its "Filters" button opens it above the list; on a wide
  %# screen admin.css shows it open beside the list, from the first paint (no script moves it).
  <details class="admin-filters">
    <summary>Filters{{' (on)' if cl.narrowed else ''}}</summary>
    <h2>Filter</h2>
    % for f in filters:
    % include('admin/filter_' + f.kind, f=f, cl=cl)
    % end
  </details>
  % end
  <div class="changelist-main">
    % if spec.search_fields:
    <form method="get" class="admin-search" role="search">
      <label class="visually-hidden" for="admin-q">Search {{spec.plural.lower()}}</label>
      <input id="admin-q" type="search" name="q" value="{{cl.q}}" placeholder="Search {{spec.plural.lower()}}">
      % for name, value in cl.hidden('q'):
      <input type="hidden" name="{{name}}" value="{{value}}">
      % end
      <button type="submit" class="button button-small">Search</button>
    </form>
    % end
    % if cl.dates:
    % include('admin/_dates', f=cl.dates, cl=cl)
    % end
    <p class="muted result-count">
      % if page.total is None:
      More than {{format(page.count_limit, ',')}} results ({{format(total, ',')}} total)
      % else:
      {{format(page.total, ',')}} result{{'' if page.total == 1 else 's'}} ({{format(total, ',')}} total)
      % end
      % if cl.narrowed:
      · <a href="{{url('admin_changelist', model=spec.name)}}">Clear search and filters</a>
      % end
      % if cl.show_all and page.total is not None and page.total > spec.list_per_page:
      · <a href="{{cl.link(all=None)}}">Show pages</a>
      % elif not cl.show_all and page.total is not None and spec.list_per_page < page.total <= spec.list_max_show_all:
      · <a href="{{cl.link(all='1')}}">Show all</a>
      % end
    </p>
    <form method="post" action="{{url('admin_action', model=spec.name)}}" id="action-form"></form>
    <form method="post" action="{{request.fullpath + ('?' + request.query_string if request.query_string else '')}}" id="edit-form"></form>
    <div class="action-bar">
      % if actions:
      % include('_csrf', form_id='action-form')
      <input type="hidden" name="_back" value="{{back}}" form="action-form">
      <label for="action-select">Action</label>
      <select id="action-select" name="action" form="action-form">
        % for name, label in actions:
        <option value="{{name}}">{{label}}</option>
        % end
      </select>
      <button type="submit" class="button button-small" form="action-form">Go</button>
      <span class="selection-count muted" aria-live="polite"></span>
      % if page.has_next or page.has_previous:
      %# Shown by admin.js once every row of the page is ticked (Django's "Select all 351").
      <label class="select-across" hidden><input type="checkbox" name="select_across" value="1" form="action-form">
        Select all {{format(page.total, ',') if page.total is not None else 'the'}} {{spec.plural.lower()}}{{' (more than %s)' % format(page.count_limit, ',') if page.total is None else ''}}</label>
      % end
      % end
      % if edit_forms:
      % include('_csrf', form_id='edit-form')
      <button type="submit" class="button button-small" form="edit-form">Save changes</button>
      % end
    </div>
    <div class="table-wrap changelist-wrap">
      <table class="table changelist-table">
        <thead><tr>
          <th scope="col" class="select-col"><input type="checkbox" class="select-all" aria-label="Select all rows on this page"></th>
          % for column in columns:
          % if column.sort:
          % h = cl.sort_header(column.name)
          <th scope="col" class="{{'num' if column.numeric else ''}}"{{!' aria-sort="%s"' % ('descending' if h['descending'] else 'ascending') if h['priority'] == 1 else ''}}>
            <a href="{{h['href']}}" data-add-href="{{h['add']}}" class="sort-link{{' sorted' if h['priority'] else ''}}" title="Sort by {{column.label.lower()}} (shift-click: sort by it too)">{{column.label}}{{(' ▼' if h['descending'] else ' ▲') if h['priority'] else ''}}</a>
            % if h['priority'] and len(cl.sorts) > 1:
            <span class="sort-priority" title="Sort priority">{{h['priority']}}</span>
            % end
            % if h['remove']:
            <a href="{{h['remove']}}" class="sort-remove" aria-label="Stop sorting by {{column.label.lower()}}">×</a>
            % end
          </th>
          % else:
          <th scope="col" class="{{'num' if column.numeric else ''}}">{{column.label}}</th>
          % end
          % end
        </tr></thead>
        <tbody>
        % for row in page.items:
        % ident = row.get_id()
        % form = edit_forms.get(ident)
        <tr>
          <td class="select-col"><input type="checkbox" name="_selected" value="{{ident}}" form="action-form" aria-label="Select {{row}}">
            % if form:
            %# The row, and what its editable columns held when the list was shown.
            <input type="hidden" name="_row" value="{{ident}}" form="edit-form">
            <input type="hidden" name="{{form._prefix}}_opened" value="{{form.edit.opened_text}}" form="edit-form">
            % end
          </td>
          % for i, column in enumerate(columns):
          % name = column.name
          <td class="{{'num' if column.numeric else ''}}">
            % if form and name in spec.list_editable:
            % field = form[name]
            % if hasattr(field, 'iter_choices'):
            <select name="{{field.name}}" form="edit-form" class="inline-edit" aria-label="{{column.label}} of {{row}}">
              % for choice in field.iter_choices():
              <option value="{{choice[0]}}"{{!' selected' if choice[2] else ''}}>{{choice[1]}}</option>
              % end
            </select>
            % else:
            <input type="text" name="{{field.name}}" value="{{field._value()}}" form="edit-form" class="inline-edit" aria-label="{{column.label}} of {{row}}"{{!' aria-invalid="true"' if field.errors else ''}}>
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
            % elif getattr(text, 'is_html', False):
            {{!text}}
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
    <div class="empty">
      <p>There is no page {{page.number}}.</p>
      <a class="button" href="{{cl.link()}}">Go to the first page</a>
      % if page.pages:
      <a href="{{cl.link(page=page.pages)}}">or the last page ({{format(page.pages, ',')}})</a>
      % end
    </div>
    % elif not page.items:
    <p class="empty">No {{spec.plural.lower()}} match.</p>
    % end
    % include('store/_pagination', page=page, route='admin_changelist', params=dict(cl.params, model=spec.name))
  </div>
</div>
