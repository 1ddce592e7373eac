%# The admin's breadcrumbs. Expects: crumbs, a list of (label, link or None).
<nav class="breadcrumbs admin-crumbs" aria-label="Breadcrumbs">
  <a href="{{url('admin_index')}}">Admin</a>
  % for label, link in crumbs:
  % if link:
  › <a href="{{link}}">{{label}}</a>
  % else:
  › <span>{{label}}</span>
  % end
  % end
</nav>
