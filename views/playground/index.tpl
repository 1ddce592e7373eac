%# The lesson index. Expects: lessons (list of dicts: path, title, summary, name).
% rebase('layout')
<h1>Playground</h1>
<p class="lead">Small lessons on how a web app works, each running on this shop's own data. Every lesson page shows the code of its handler, the SQL it ran and what came out.</p>
<ol class="lesson-list">
  <li><a href="{{url('hello')}}">Hello World</a> — the first view: a function, a URL and a template.</li>
  <li><a href="{{url('url_demo', name='ada', number=42)}}">URL mapping</a> — parameters in the path, and the routes table.</li>
  <li><a href="{{url('lesson_sessions')}}">Sessions, login and messages</a> — a counter in your session, a notice after a POST.</li>
  % for l in lessons:
  <li><a href="{{url(l['name'])}}">{{l['title']}}</a> — {{l['summary']}}</li>
  % end
</ol>
