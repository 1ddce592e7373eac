%# A curl command that calls an operation with the document's example values, one option to a
%# line. Expects: method, path, op, doc, origin; login (whether it must send the API token
%# of $STOREFRONT_TOKEN); body (the operation's requestBody, or None).
% import json, urllib.parse
% parameters = op.get('parameters', [])
% examples = {p['name']: p.get('example') for p in parameters}
% query = urllib.parse.urlencode({p['name']: p['example'] for p in parameters if p['in'] == 'query' and 'example' in p})
curl -s{{'' if method == 'GET' else ' -X ' + method}} '{{origin + doc['servers'][0]['url'].rstrip('/') + path.format(**examples)}}{{'?' + query if query else ''}}'\\
% if login:
{{' \\'}}
     -H "Authorization: Bearer $STOREFRONT_TOKEN"\\
% end
% if body:
{{' \\'}}
     -H 'Content-Type: application/json' -d '{{json.dumps(body['content']['application/json']['example'])}}'\\
% end
