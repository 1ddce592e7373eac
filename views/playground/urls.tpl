%# The URL mapping lesson. Expects: name, number, routes, code.
% rebase('layout')
<h1>URL mapping</h1>
<p>The route <code>/playground/urls/&lt;name&gt;/&lt;number:int&gt;</code> matched this address. The handler received <code>name = {{repr(name)}}</code> and <code>number = {{number}}</code> (an <code>int</code>: the filter converted it). Try <a href="{{url('url_demo', name='grace', number=7)}}">another</a>, or <a href="/playground/urls/grace/seven">a number that is not one</a> (404).</p>
<h2>The handler</h2>
<pre class="code" tabindex="0" aria-label="The code"><code>{{code}}</code></pre>
<h2>Every route of this app</h2>
<div class="table-wrap"><table class="table">
  <thead><tr><th>Method</th><th>Path</th><th>Handler</th></tr></thead>
  <tbody>
  % for r in routes:
  <tr><td>{{r['method']}}</td><td><code>{{r['path']}}</code></td><td>{{r['handler']}}</td></tr>
  % end
  </tbody>
</table></div>
