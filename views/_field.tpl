%# One WTForms field with its label and errors. Expects: field, and optionally hint, attrs.
%# A field drawn as a group of inputs (a list of checkboxes) is a fieldset named by a legend.
% described = field.id + '-errors' if field.errors else False
% tag = 'fieldset' if getattr(field.widget, 'group', False) else 'div'
<{{tag}} class="field{{' field-group' if tag == 'fieldset' else ''}}{{' has-error' if field.errors else ''}}">
  % if tag == 'fieldset':
  <legend>{{field.label.text}}</legend>
  {{!field()}}
  % elif field.type == 'BooleanField':
  <label class="checkbox">{{!field(aria_describedby=described)}} {{field.label.text}}</label>
  % else:
  {{!field.label}}
  {{!field(aria_invalid='true' if field.errors else False, aria_describedby=described, **get('attrs', {}))}}
  % end
  % if get('hint'):
  <p class="hint">{{hint}}</p>
  % end
  % if field.errors:
  <ul class="errors" id="{{field.id}}-errors">
    % for error in field.errors:
    <li>{{error}}</li>
    % end
  </ul>
  % end
</{{tag}}>
