%# The SQL some lesson code ran. Expects: queries (each a dict: sql, params, ms).
<ol class="sql-list">
% for q in queries:
  <li><pre class="code sql"><code>{{q['sql']}}</code></pre><span class="muted">parameters {{q['params']}} · {{'%.2f' % q['ms']}} ms</span></li>
% end
</ol>
