%# A save refused: someone else changed fields it changes since the form was opened. Expects:
%# spec, tables ([(caption or None, [(label, opened, theirs, yours)])]: per row, the fields
%# both changed, as text), fields ([(name, value)]: the form as it was sent, each row it names
%# now opened on theirs), discard (the page of theirs), title. The form has no action: it
%# goes where it was sent the first time, this page's own address.
% rebase('layout')
% include('admin/_header', crumbs=[(spec.plural, url('admin_changelist', model=spec.name)), ('Changed meanwhile', None)])
<h1>{{title}}</h1>
<div class="flash flash-error" role="alert">Nothing was saved. After you opened the form, someone
  else saved changes to fields you changed too, or to a row you delete: theirs are below, beside
  yours.</div>
% for caption, rows in tables:
<div class="table-wrap" tabindex="0" role="region" aria-label="Their change beside yours"><table class="table table-cards conflict-table">
  % if caption:
  <caption>{{caption}}</caption>
  % end
  <thead><tr>
    <th scope="col">Field</th>
    <th scope="col">When you opened it</th>
    <th scope="col">Theirs, now</th>
    <th scope="col">Yours</th>
  </tr></thead>
  <tbody>
  % for label, opened, theirs, yours in rows:
  <tr>
    <th scope="row">{{label}}</th>
    <td data-label="When you opened it">{{opened}}</td>
    <td data-label="Theirs, now">{{theirs}}</td>
    <td data-label="Yours">{{yours}}</td>
  </tr>
  % end
  </tbody>
</table></div>
% end
<p>Save yours over theirs, with the rest of what you changed, or drop yours and start again
  from theirs. If someone changes these fields again before you save, you are asked again.</p>
<form method="post" class="form-actions" id="conflict-form">
  % include('_csrf')
  % for name, value in fields:
  <input type="hidden" name="{{name}}" value="{{value}}">
  % end
  <button type="submit" class="button">Save mine over theirs</button>
  <a class="button button-secondary" href="{{discard}}">Drop mine, show theirs</a>
</form>
