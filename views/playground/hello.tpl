%# The first view's template. Expects: name, code.
% rebase('layout')
<h1 class="hello">Hello {{name}}</h1>
<p>This page came from a view function, a route and the template <code>views/playground/hello.tpl</code>, which prints <code>Hello {{!'{{name}}'}}</code>.</p>
<h2>The handler</h2>
<pre class="code" tabindex="0" aria-label="The code"><code>{{code}}</code></pre>
<p><a href="{{url('playground')}}">← All lessons</a></p>
