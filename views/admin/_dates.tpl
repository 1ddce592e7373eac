%# The date drill-down above a list: where we are (All dates › 2026 › Nov 2026), then the
%# next level's years, months or days with their counts. Expects: f (a DateHierarchy), cl.
% crumbs, choices = f.levels(cl)
<nav class="date-drilldown" aria-label="{{f.label}}: by date">
  <span class="muted">{{f.label}}:</span>
  % if crumbs:
  <span class="date-crumbs">
    % for n, (text, link) in enumerate(crumbs):
    % if n == len(crumbs) - 1:
    <strong aria-current="true">{{text}}</strong>
    % else:
    <a href="{{link}}">{{'‹ ' + text if n == 0 else text}}</a> ›
    % end
    % end
  </span>
  % end
  % if choices:
  <ul>
    % for text, link, count in choices:
    <li><a href="{{link}}">{{text}} <span class="count">{{format(count, ',')}}</span></a></li>
    % end
  </ul>
  % elif not crumbs:
  <span class="muted">No dates to show.</span>
  % end
</nav>
