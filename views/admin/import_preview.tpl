%# What an uploaded file would do, row by row, and the button that applies it. Expects: spec,
%# stored (models.ProductImport), plan (models.ImportPlan: rows, counts, notice), stale (the
%# products changed since the preview the user confirmed), show(plan, field, value): a value
%# as people read it.
% rebase('layout')
% include('admin/_header', crumbs=[(spec.plural, url('admin_changelist', model=spec.name)), ('Import', url('admin_product_import')), ('Preview', None)])
% from models import import_label
<h1>Import of {{stored.filename or 'a file'}}: preview</h1>
% if stale:
<div class="flash flash-error" role="alert">Nothing was imported: products of this file changed since you saw its preview. Here it is again, as it would be now.</div>
% end
% if plan.notice:
<div class="flash flash-info" role="status">{{plan.notice}}</div>
% end
<p class="import-counts">{{plan.counts['new']}} new, {{plan.counts['changed']}} changed,
  {{plan.counts['unchanged']}} unchanged, {{plan.counts['error']}} with errors.</p>
% if plan.counts['error']:
<p>Nothing can be imported while a row has an error: correct the file and upload it again.</p>
% else:
<form method="post" class="form-actions" id="import-confirm-form">
  % include('_csrf')
  <input type="hidden" name="fingerprint" value="{{plan.fingerprint}}">
  <button type="submit" class="button">Import {{plan.counts['new'] + plan.counts['changed']}} products</button>
  <a class="button button-secondary" href="{{url('admin_product_import')}}">Upload another file</a>
</form>
% end
<div class="table-wrap" tabindex="0" role="region" aria-label="What each row does"><table class="table import-table">
  <thead><tr><th scope="col">Row</th><th scope="col">Slug</th><th scope="col">Title</th><th scope="col">Status</th><th scope="col">What it does</th></tr></thead>
  <tbody>
  % for row in plan.rows:
  <tr class="import-{{row.status}}">
    <td class="num" data-label="Row">{{row.number}}</td><td data-label="Slug">{{row.slug}}</td><td data-label="Title">{{row.title}}</td><td data-label="Status">{{row.status}}</td>
    <td>
    % if row.errors:
    <ul class="errors">
      % for name, reason in row.errors:
      <li>{{import_label(name) + ': ' if name else ''}}{{reason}}</li>
      % end
    </ul>
    % elif row.changes:
    <ul>
      % for name, old, new in row.changes:
      <li>{{import_label(name)}}: {{show(plan, name, old)}} → {{show(plan, name, new)}}</li>
      % end
    </ul>
    % elif row.status == 'new':
    Adds it to {{show(plan, 'collection', row.values['collection'])}} at {{show(plan, 'unit_price', row.values['unit_price'])}}, {{row.values['inventory']}} in stock.
    % end
    </td>
  </tr>
  % end
  </tbody>
</table></div>
