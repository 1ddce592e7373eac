%# The API's OpenAPI document as a page. Expects: doc (the document); origin (scheme://host:port);
%# resolve(node), which follows a $ref.
% import json
% from bottle import html_escape
% operations = [(method.upper(), path, op) for path, methods in doc['paths'].items() for method, op in methods.items()]
% names = {op['operationId']: f'{method} {path}' for method, path, op in operations}
% rebase('layout')
<div class="api-docs">
<h1>{{doc['info']['title']}} <span class="muted api-version">version {{doc['info']['version']}}</span></h1>
% include('api/_prose', text=doc['info']['description'])
<p>For programs: the same description as an <a href="{{url('api_openapi')}}">OpenAPI {{doc['openapi']}} document</a>, which client generators and test tools read.</p>

<nav class="api-toc card" aria-labelledby="toc-title">
  <h2 id="toc-title">Operations</h2>
  <div class="api-toc-groups">
  % for tag in doc['tags']:
  <div>
    <h3>{{tag['name']}}</h3>
    <ul>
      % for method, path, op in operations:
      % if tag['name'] in op['tags']:
      <li><a href="#{{op['operationId']}}"><span class="api-method api-method-{{method.lower()}}">{{method}}</span> <code>{{!'/<wbr>'.join(map(html_escape, path.split('/')))}}</code></a><span class="muted">{{op['summary']}}</span></li>
      % end
      % end
    </ul>
  </div>
  % end
  </div>
  <p><a href="#authentication">Logging in</a> · <a href="#schemas">Schemas</a> · <a href="{{url('api_openapi')}}">openapi.json</a></p>
</nav>

<section aria-labelledby="authentication">
<h2 id="authentication">Logging in</h2>
% for name, scheme in doc['components']['securitySchemes'].items():
% if scheme['type'] == 'http':
<h3>Header <code>Authorization: Bearer</code></h3>
% else:
<h3>{{'Cookie' if scheme['in'] == 'cookie' else 'Header'}} <code>{{scheme['name']}}</code></h3>
% end
% include('api/_prose', text=scheme['description'])
% end
<p>A program sends its token with every call; it needs no cookie and no CSRF token:</p>
<pre class="code" tabindex="0" role="region" aria-label="Calling with a token, with curl"><code>export STOREFRONT_TOKEN=sf_...     # from your account page: {{origin}}{{url('account')}}
curl -s -H "Authorization: Bearer $STOREFRONT_TOKEN" {{origin}}{{url('api_orders')}}</code></pre>
<p>A browser's session works too. With curl, keep the cookies in a file: fetch the login form's token, log in, then read the session's token from any page with a form.</p>
<pre class="code" tabindex="0" role="region" aria-label="Logging in with curl"><code>TOKEN=$(curl -s -c cookies.txt {{origin}}{{url('login')}} | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
curl -s -o /dev/null -b cookies.txt -c cookies.txt -d "csrf_token=$TOKEN" \
     -d username=alice --data-urlencode 'password=your password' {{origin}}{{url('login')}}
TOKEN=$(curl -s -b cookies.txt {{origin}}{{url('account')}} | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)</code></pre>
</section>

% for tag in doc['tags']:
<section aria-labelledby="tag-{{tag['name']}}">
<h2 id="tag-{{tag['name']}}">{{tag['name']}}</h2>
% include('api/_prose', text=tag['description'])
% for method, path, op in operations:
% if tag['name'] in op['tags']:
% needs = op.get('security', [])
% login = bool(needs) and {} not in needs         # no empty requirement: a visitor will not do
% token = any('csrfToken' in need for need in needs)
<article class="card api-op" aria-labelledby="{{op['operationId']}}">
  <h3 id="{{op['operationId']}}"><span class="api-method api-method-{{method.lower()}}">{{method}}</span> <code>{{!'/<wbr>'.join(map(html_escape, path.split('/')))}}</code></h3>
  <p class="api-summary">{{op['summary']}}.</p>
  % if 'description' in op:
  % include('api/_prose', text=op['description'])
  % end
  % if login:
  <p><strong>Who may call it:</strong> The logged-in user: send an API token, or the session cookie{{' and X-CSRF-Token' if token else ''}}.</p>
  % else:
  <p><strong>Who may call it:</strong> Anyone (a token sent must be valid).{{' A call that sends cookies must send X-CSRF-Token too.' if token else ''}}</p>
  % end
  % if op.get('parameters'):
  <h4>Parameters</h4>
  <div class="table-wrap"><table class="table api-table">
    <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Meaning</th></tr></thead>
    <tbody>
    % for p in op['parameters']:
    <tr><th scope="row"><code>{{p['name']}}</code> <span class="muted">{{'path' if p['in'] == 'path' else 'query'}}</span></th>
      <td>\\
    % include('api/_schema', schema=p['schema'])
</td><td>{{p.get('description', '')}}</td></tr>
    % end
    </tbody>
  </table></div>
  % end
  % if 'requestBody' in op:
  % body = op['requestBody']['content']['application/json']
  <h4>Body</h4>
  <p>A JSON object, \\
  % include('api/_schema', schema=body['schema'])
:</p>
  <pre class="code" tabindex="0" role="region" aria-label="Example body of {{method}} {{path}}"><code>{{json.dumps(body['example'], indent=2)}}</code></pre>
  % end
  <h4>Answers</h4>
  <div class="table-wrap"><table class="table api-table api-answers">
    <thead><tr><th scope="col">Status</th><th scope="col">Body</th><th scope="col">When</th></tr></thead>
    <tbody>
    % for status, answer in op['responses'].items():
    % content = resolve(answer).get('content')
    <tr><th scope="row">{{status}}</th>
      <td>\\
    % if content:
    % include('api/_schema', schema=content['application/json']['schema'])
    % else:
none\\
    % end
</td>
      <td>\\
    % include('api/_prose', text=resolve(answer)['description'])
</td></tr>
    % end
    </tbody>
  </table></div>
  % links = [link for answer in op['responses'].values() for link in answer.get('links', {}).values()]
  % if links:
  <h4>Then</h4>
  <ul class="api-next">
    % for link in links:
    <li><a href="#{{link['operationId']}}"><code>{{names[link['operationId']]}}</code></a>: {{link['description']}}</li>
    % end
  </ul>
  % end
  <h4>Example</h4>
  <pre class="code" tabindex="0" role="region" aria-label="curl example of {{method}} {{path}}"><code>\\
  % include('api/_curl', body=op.get('requestBody'))
</code></pre>
</article>
% end
% end
</section>
% end

<section aria-labelledby="schemas">
<h2 id="schemas">Schemas</h2>
<p>The shapes of the bodies above. Every field listed is always present; an answer has no others.</p>
% for name, schema in doc['components']['schemas'].items():
<article class="card api-op" aria-labelledby="schema-{{name}}">
  <h3 id="schema-{{name}}">{{name}}</h3>
  % if 'description' in schema:
  % include('api/_prose', text=schema['description'])
  % end
  % if 'properties' in schema:
  <div class="table-wrap"><table class="table api-table">
    <thead><tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Meaning</th></tr></thead>
    <tbody>
    % for field, spec in schema['properties'].items():
    <tr><th scope="row"><code>{{field}}</code></th><td>\\
    % include('api/_schema', schema=spec)
</td>
      <td>{{spec.get('description', '')}}</td></tr>
    % end
    </tbody>
  </table></div>
  % else:
  <p>\\
  % include('api/_schema', schema=schema)
</p>
  % end
</article>
% end
</section>
</div>
