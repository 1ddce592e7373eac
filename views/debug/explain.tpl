%# The plan of one query. Expects: record, query, plan (lines), url.
% include('debug/_head', title='Explain', url=url)
<p class="breadcrumbs debug-context"><a href="{{url('debug_panel', ident=record.id, panel='sql')}}">← SQL of {{record.method}} {{record.path}}</a></p>
<h1>Query plan</h1>
<pre class="code sql"><code>{{query['sql']}}</code></pre>
<p class="muted">parameters {{query['params']}}</p>
<pre class="code"><code>{{'\n'.join(plan)}}</code></pre>
</main></body></html>
