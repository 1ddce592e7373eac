%# One lesson. Expects: title, summary, code (the handler's source), queries (sql, params, ms),
%# result (a list of dicts, a dict, or a value), lessons.
% rebase('layout')
<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="{{url('playground')}}">Playground</a> › <span>{{title}}</span></nav>
<h1>{{title}}</h1>
<p class="lead">{{summary}}</p>
<h2>The code</h2>
<pre class="code" tabindex="0" aria-label="The code"><code>{{code}}</code></pre>
<h2>The SQL it ran ({{len(queries)}} quer{{'y' if len(queries) == 1 else 'ies'}})</h2>
<ol class="sql-list">
% for q in queries:
  <li><pre class="code sql" tabindex="0" aria-label="A query"><code>{{q['sql']}}</code></pre><span class="muted">parameters {{q['params']}} · {{'%.2f' % q['ms']}} ms</span></li>
% end
</ol>
<h2>The result</h2>
% if isinstance(result, list) and result and isinstance(result[0], dict):
<div class="table-wrap"><table class="table">
  <thead><tr>
  % for key in result[0]:
  <th>{{key}}</th>
  % end
  </tr></thead>
  <tbody>
  % for row in result:
  <tr>
    % for value in row.values():
    <td>{{value}}</td>
    % end
  </tr>
  % end
  </tbody>
</table></div>
% elif isinstance(result, dict):
<dl class="details">
  % for key, value in result.items():
  <dt>{{key}}</dt><dd><pre class="inline" tabindex="0">{{value}}</pre></dd>
  % end
</dl>
% else:
<pre class="code" tabindex="0" aria-label="The result"><code>{{result}}</code></pre>
% end
