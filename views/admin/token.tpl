%# The API token just made in the admin, shown this once. Expects: spec, obj (ApiToken), token.
% rebase('layout')
% include('admin/_header', crumbs=[(spec.plural, url('admin_changelist', model=spec.name)), (str(obj), url('admin_change', model=spec.name, ident=obj.get_id())), ('Token', None)])
<section class="form-card">
  <h1>The token “{{obj.name}}” of {{obj.user.username}}</h1>
  <p>Copy it now and hand it over: it is not shown again (only its hash is kept).</p>
  <pre class="code" tabindex="0" role="region" aria-label="The new token"><code id="new-token">{{token}}</code></pre>
  <p><a class="button" href="{{url('admin_change', model=spec.name, ident=obj.get_id())}}">Done</a></p>
</section>
