%# The sessions lesson. Expects: state (what the session holds now), code.
% rebase('layout')
<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="{{url('playground')}}">Playground</a> › <span>Sessions</span></nav>
<h1>Sessions, login and messages</h1>
<p class="lead">HTTP forgets you between requests. A session is a row of data on the server, found again through a cookie that holds only its random id. This shop creates one only when something needs it: a cart, a login, or this button.</p>
<dl class="details">
  % for key, value in state.items():
  <dt>{{key}}</dt><dd>{{value}}</dd>
  % end
</dl>
<form method="post" action="{{url('lesson_sessions')}}">
  % include('_csrf')
  <button type="submit" class="button">Count a visit in my session</button>
</form>
<p>The button POSTs with a CSRF token (a hidden field: a form on another site cannot know it), the handler changes the session and queues a one-time notice, then redirects to this page, which shows the notice once. Logging in works the same way, with a new session id at login so a planted id is worthless.</p>
<h2>The code</h2>
<pre class="code" tabindex="0" aria-label="The code"><code>{{code}}</code></pre>
