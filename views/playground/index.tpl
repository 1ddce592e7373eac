%# The lesson index. Expects: groups (a list of (group title, [Lesson])).
% rebase('layout')
<h1>Playground</h1>
<p class="lead">Learn how a web app works by reading and running its code. Each lesson is a small handler over this shop's own data; its page shows the Peewee code, the same thing in Django, the SQL it ran and what came out.</p>
<p class="tour-link"><a class="button" href="{{url('tour')}}">Take the guided tour</a> One request for a product page, followed through the code that serves it.</p>
<div class="lesson-groups">
% for group, lessons in groups:
% group_id = group.lower().replace(' ', '-')
<section class="lesson-group" id="{{group_id}}" aria-labelledby="{{group_id}}-title">
  <h2 id="{{group_id}}-title">{{group}}</h2>
  <ol class="lesson-list">
    % for l in lessons:
    <li><a href="{{l.href()}}">{{l.title}}</a> — {{l.summary}}</li>
    % end
  </ol>
</section>
% end
</div>
