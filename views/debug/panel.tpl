%# One panel of a recorded request. Expects: record, panel, panels, versions, settings, routes, url.
% include('debug/_head', title=panel.capitalize(), url=url)
% def details(pairs, code=True):
<dl class="details">
  % for key, value in pairs:
  <dt>{{key}}</dt><dd>{{!'<code>%s</code>' % _escape(value) if code else _escape(value)}}</dd>
  % end
</dl>
% end
<p class="breadcrumbs debug-context"><a href="{{url('debug_history')}}">← History</a> · <a href="{{record.path}}{{'?' + record.query if record.query else ''}}">{{record.method}} {{record.path}}{{'?' + record.query if record.query else ''}}</a> · {{record.status}} · {{'%.1f' % record.ms}} ms</p>
<nav class="dt-tabs" aria-label="Panels">
  % for p in panels:
  <a href="{{url('debug_panel', ident=record.id, panel=p)}}" class="{{'selected' if p == panel else ''}}" {{!'aria-current="page"' if p == panel else ''}}>{{'SQL' if p == 'sql' else p.capitalize()}}</a>
  % end
</nav>
<h1>{{'SQL' if panel == 'sql' else panel.capitalize()}}</h1>
% if panel == 'versions':
% details(versions.items(), code=False)
% elif panel == 'timer':
<dl class="details">
  <dt>Total</dt><dd>{{'%.2f' % record.ms}} ms</dd>
  <dt>SQL</dt><dd>{{'%.2f' % record.sql_ms()}} ms in {{len(record.queries)}} queries</dd>
  <dt>Everything else</dt><dd>{{'%.2f' % (record.ms - record.sql_ms())}} ms</dd>
</dl>
% elif panel == 'settings':
% details(settings.items())
% elif panel == 'request':
% for part in ('query', 'form', 'cookies', 'session'):
<h2>{{part.capitalize()}}</h2>
% if record.request_data.get(part):
% details(record.request_data[part].items())
% else:
<p class="muted">None.</p>
% end
% end
% elif panel == 'headers':
<h2>Request headers</h2>
% details((k, v if k.lower() != 'cookie' else v[:40] + '…') for k, v in record.headers_in.items())
<h2>Response headers</h2>
% details(record.headers_out)
% elif panel == 'sql':
<p>{{len(record.queries)}} queries in {{'%.2f' % record.sql_ms()}} ms.</p>
<ol class="sql-list">
  % for q in record.sql_report():
  <li class="{{'dt-flag' if q['duplicate'] or q['repeated'] else ''}}">
    <pre class="code sql"><code>{{q['sql']}}</code></pre>
    <span class="muted">parameters {{q['params']}} · {{'%.2f' % q['ms']}} ms · {{q['where'] or 'outside app.py/models.py'}}</span>
    % if q['duplicate']:
    <strong class="dt-warning">Duplicate: the same query with the same parameters ran more than once.</strong>
    % elif q['repeated']:
    <strong class="dt-warning">Likely N+1: this query ran 3 or more times with different parameters.</strong>
    % end
    % if q['sql'].lstrip().upper().startswith('SELECT'):
    <a href="{{url('debug_explain', ident=record.id, n=q['n'])}}">Explain</a>
    % end
  </li>
  % end
</ol>
% elif panel == 'templates':
% if not record.templates:
<p class="muted">No template was rendered.</p>
% end
% for name, keys in record.templates:
<h2><code>views/{{name}}.tpl</code></h2>
<p>Context: {{', '.join(keys)}}</p>
% end
% elif panel == 'cache':
<p>{{sum(1 for c in record.cache if c[2])}} hits, {{sum(1 for c in record.cache if not c[2])}} misses.</p>
<ul>
  % for region, key, hit in record.cache:
  <li>{{'hit' if hit else 'miss'}} · {{region}} · <code>{{key[:200]}}</code></li>
  % end
</ul>
% elif panel == 'logging':
% if not record.logs:
<p class="muted">Nothing was logged.</p>
% end
<ul>
  % for level, name, message in record.logs:
  <li><strong>{{level}}</strong> {{name}}: {{message}}</li>
  % end
</ul>
% elif panel == 'routes':
<div class="table-wrap"><table class="table">
  <thead><tr><th scope="col">Method</th><th scope="col">Path</th><th scope="col">Handler</th></tr></thead>
  <tbody>
  % for r in routes:
  <tr><td>{{r['method']}}</td><td><code>{{r['path']}}</code></td><td>{{r['handler']}}</td></tr>
  % end
  </tbody>
</table></div>
% end
</main></body></html>
