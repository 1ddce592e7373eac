%# One value of a lesson's result, shown by its kind: a dict (or a named tuple) as a list of
%# terms, a list of them as a table, a list as a list, code as a block, anything else as text.
%# Includes itself for what a value holds. Expects: value, label (names a block that may
%# scroll), Html, Link.
% if hasattr(value, '_asdict'):    # a named tuple: shown as a dict, its fields in order
%   value = value._asdict()
% elif isinstance(value, list) and value and all(hasattr(row, '_asdict') for row in value):
%   value = [row._asdict() for row in value]
% end
% if isinstance(value, Html):
<div class="rendered">{{!value}}</div>
% elif isinstance(value, Link):
<a href="{{value}}">{{value}}</a>
% elif isinstance(value, dict):
<dl class="details">
  % for key, item in value.items():
  <dt>{{key}}</dt>
  <dd>
  % include('playground/_value', value=item, label=str(key))
  </dd>
  % end
</dl>
% elif isinstance(value, list) and value and all(isinstance(row, dict) for row in value):
<div class="table-wrap" tabindex="0" role="group" aria-label="{{label}}">
  <table class="table">
    <thead><tr>
    % for key in value[0]:
      <th scope="col">{{key}}</th>
    % end
    </tr></thead>
    <tbody>
    % for row in value:
    <tr>
      % for key, item in row.items():
      <td>
      % include('playground/_value', value=item, label=str(key))
      </td>
      % end
    </tr>
    % end
    </tbody>
  </table>
</div>
% elif isinstance(value, list):
  % if value:
<ol class="values">
  % for item in value:
  <li>
  % include('playground/_value', value=item, label=label)
  </li>
  % end
</ol>
  % else:
<p class="nothing">Nothing: an empty list.</p>
  % end
% elif isinstance(value, str) and "\n" in value:
<pre class="code" tabindex="0" role="group" aria-label="{{label}}"><code>{{value}}</code></pre>
% else:
<span class="value">{{"None" if value is None else value}}</span>
% end
