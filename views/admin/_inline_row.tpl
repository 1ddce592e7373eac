%# One inline row: inputs where the user may edit it, else text. Expects: rows (InlineRows),
%# row (the child row; None for a new one), child (its form), n (its place, for labels; None in
%# the "Add another" template), editable (the page is a form).
% inline = rows.inline
% can_edit = editable and rows.editable(row)
<tr class="{{'inline-new' if row is None else ''}}">
  % for i, (name, label) in enumerate(zip(inline.fields, inline.labels())):
  <td data-label="{{label}}">
    % if i == 0 and editable and getattr(child, 'row_id', ''):
    <input type="hidden" name="{{child._prefix}}id" value="{{child.row_id}}">
    <input type="hidden" name="{{child._prefix}}_opened" value="{{child.edit.opened_text}}">
    % end
    % if can_edit:
    % extra = {'required': False} if row is None else {}
    {{!child[name](aria_label='%s of %s' % (label, 'the new ' + inline.noun if n is None else '%s %s' % (inline.noun, n + 1)), **extra)}}
    % for error in child[name].errors:
    <span class="errors">{{error}}</span>
    % end
    % else:
    {{rows.text(row, name)}}
    % end
  </td>
  % end
  % if editable and rows.can_delete:
  <td data-label="Remove">
    % if row is not None:
    <input type="checkbox" name="{{child._prefix}}DELETE" value="1" aria-label="Remove {{inline.noun}} {{n + 1}}">
    % else:
    <span class="muted">new</span>
    % end
  </td>
  % end
</tr>
