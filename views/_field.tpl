%# One WTForms field with its label and errors. Expects: field, and optionally hint.
<div class="field{{' has-error' if field.errors else ''}}">
  % if field.type == 'BooleanField':
  <label class="checkbox">{{!field(aria_describedby=field.id + '-errors' if field.errors else False)}} {{field.label.text}}</label>
  % else:
  {{!field.label}}
  {{!field(aria_invalid='true' if field.errors else False, aria_describedby=field.id + '-errors' if field.errors else False, **get('attrs', {}))}}
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
</div>
