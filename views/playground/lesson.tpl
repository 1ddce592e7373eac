%# One lesson: the Peewee code beside the Django code, the SQL it ran, the result, an exercise
%# and where the shop does the same. Expects: lesson (a Lesson), run and answer (dicts: code,
%# queries, result; answer is None without an exercise), lives_in (file, name, line, code),
%# route (the route that answered), previous and following (Lessons or None), Html, Link.
% rebase('layout')
% group_id = lesson.group.lower().replace(' ', '-')
% def quantity(n):
%   return "no SQL" if n == 0 else f"{n} SQL quer{'y' if n == 1 else 'ies'}"
% end
<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="{{url('playground')}}">Playground</a> › <a href="{{url('playground')}}#{{group_id}}">{{lesson.group}}</a> › <span>{{lesson.title}}</span></nav>
<h1>{{lesson.title}}</h1>
<p class="lead">{{lesson.summary}}</p>
<div class="lesson-pair">
  <section id="code" aria-labelledby="code-title">
    <h2 id="code-title">{{lesson.library}}</h2>
    <p class="route">The handler of <code>{{route.method}} {{route.rule}}</code>:</p>
    <pre class="code" tabindex="0" role="group" aria-label="The {{lesson.library}} code"><code>{{run['code']}}</code></pre>
  </section>
  <section id="django" aria-labelledby="django-title">
    <h2 id="django-title">Django</h2>
    <p class="route">The same, as the Django course writes it:</p>
    <pre class="code code-django" tabindex="0" role="group" aria-label="The Django code"><code>{{lesson.django}}</code></pre>
    <p class="differs"><strong>Where they differ.</strong> {{lesson.differs}}</p>
  </section>
</div>
<section id="sql" aria-labelledby="sql-title">
  <h2 id="sql-title">The SQL it ran</h2>
  <p>This lesson runs {{quantity(lesson.queries)}}{{'' if lesson.queries else ' at all'}}.
  % if len(run['queries']) != lesson.queries:
  This time it ran {{quantity(len(run['queries']))}}.
  % end
  </p>
  % include('playground/_queries', queries=run['queries'])
</section>
<section id="result" aria-labelledby="result-title">
  <h2 id="result-title">The result</h2>
  % include('playground/_value', value=run['result'], label='The result')
  % if lesson.button:
  <form method="post" action="{{lesson.href()}}" class="lesson-form">
    % include('_csrf')
    <button type="submit" class="button">{{lesson.button}}</button>
  </form>
  % end
</section>
% if answer:
<section id="exercise" aria-labelledby="exercise-title">
  <h2 id="exercise-title">Exercise</h2>
  <p>{{lesson.question}} Write it yourself in <code>python app.py shell</code>, then compare.</p>
  <details class="answer">
    <summary>Show the answer</summary>
    <pre class="code" tabindex="0" role="group" aria-label="The answer's code"><code>{{answer['code']}}</code></pre>
    <h3>Its SQL: {{quantity(len(answer['queries']))}}</h3>
    % include('playground/_queries', queries=answer['queries'])
    <h3>Its result</h3>
    <div class="answer-result">
    % include('playground/_value', value=answer['result'], label="The answer's result")
    </div>
  </details>
</section>
% end
<section id="lives-in" aria-labelledby="lives-in-title">
  <h2 id="lives-in-title">Where the shop does this</h2>
  <details class="reference">
    <summary><code>{{lives_in['name']}}</code> in {{lives_in['file']}}, line {{lives_in['line']}}</summary>
    <pre class="code" tabindex="0" role="group" aria-label="{{lives_in['name']}} in {{lives_in['file']}}"><code>{{lives_in['code']}}</code></pre>
  </details>
</section>
<nav class="lesson-nav" aria-label="Lessons">
  % if previous:
  <a href="{{previous.href()}}" rel="prev">← {{previous.title}}</a>
  % end
  <a href="{{url('playground')}}">All lessons</a>
  % if following:
  <a href="{{following.href()}}" rel="next">{{following.title}} →</a>
  % end
</nav>
