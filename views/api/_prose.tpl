%# A description as HTML: its paragraphs, and `code` in backticks (the bit of Markdown, which
%# OpenAPI descriptions are written in, that ours use). Expects: text.
% for paragraph in text.split('\n\n'):
<p>\\
% for i, part in enumerate(paragraph.split('`')):
% if i % 2:
<code>{{part}}</code>\\
% else:
{{part}}\\
% end
% end
</p>
% end
