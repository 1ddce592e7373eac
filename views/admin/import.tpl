%# The product import's upload form. Expects: spec (ProductAdmin), error (why the file was
%# refused, or None).
% rebase('layout')
% from models import IMPORT_MAX_BYTES
% include('admin/_header', crumbs=[(spec.plural, url('admin_changelist', model=spec.name)), ('Import', None)])
<section class="form-card">
  <h1>Import products</h1>
  <p>Upload a CSV file with the columns the product list's “Export CSV” writes: Title,
    Collection (by its name), Unit price and Inventory, and if you like Slug and
    Description. A row finds its product by slug (made from the title when the file gives
    none): it changes that product, or adds a new one. The columns the shop works out itself
    (id, Price, Stock, Last update) are passed over. Nothing changes until you have seen
    what each row would do and confirmed.</p>
  %# The file comes first in the form: Bottle 0.13 refuses a file over 100 KiB that follows
  %# another field ("Memory limit reached"), counting that field's bytes against it.
  <form method="post" enctype="multipart/form-data" novalidate id="import-form">
    <div class="field{{' has-error' if error else ''}}">
      <label for="import-file">CSV file (at most {{IMPORT_MAX_BYTES // 2 ** 20}} MB)</label>
      <input type="file" id="import-file" name="file" accept=".csv,text/csv" required
             {{!'aria-invalid="true" aria-describedby="import-file-errors"' if error else ''}}>
      % if error:
      <ul class="errors" id="import-file-errors"><li>{{error}}</li></ul>
      % end
    </div>
    % include('_csrf')
    <div class="form-actions">
      <button type="submit" class="button">Preview the import</button>
      <a class="button button-secondary" href="{{url('admin_changelist', model=spec.name)}}">Cancel</a>
    </div>
  </form>
</section>
