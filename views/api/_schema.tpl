%# A schema in a few words, on one line: "integer, 1 to 1,000", "array of Line" (a link to the
%# schema Line). Expects: schema. A schema inside it (of an array's items, say) includes this
%# template again.
% import models
% if '$ref' in schema:
% name = schema['$ref'].rsplit('/', 1)[1]
<a href="#schema-{{name}}">{{name}}</a>\\
% elif 'anyOf' in schema:
% for i, choice in enumerate(schema['anyOf']):
{{' or ' if i else ''}}\\
% include('api/_schema', schema=choice)
% end
% elif schema.get('type') == 'array':
array of \\
% include('api/_schema', schema=schema['items'])
% elif isinstance(schema.get('additionalProperties'), dict):
object, each value \\
% include('api/_schema', schema=schema['additionalProperties'])
% else:
% kind = schema.get('type', 'any value')
{{' or '.join(kind) if isinstance(kind, list) else kind}}\\
% if schema.get('format', 'int64') != 'int64':
 ({{schema['format']}})\\
% end
% for i, value in enumerate(schema.get('enum', [])):
{{', one of ' if i == 0 else ', '}}<code>{{value}}</code>\\
% end
% if schema.get('maximum', models.MAX_INT) < models.MAX_INT:
, {{f"{schema.get('minimum', 0):,} to {schema['maximum']:,}"}}\\
% elif 'minimum' in schema:
, {{f"{schema['minimum']:,}"}} or more\\
% end
% if 'pattern' in schema:
, matching <code>{{schema['pattern']}}</code>\\
% end
% if 'default' in schema:
, default <code>{{schema['default']}}</code>\\
% end
% end
