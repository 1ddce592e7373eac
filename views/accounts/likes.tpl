%# The products the user likes. Expects: results (a page of them, rendered by partial()).
% rebase('layout')
<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="{{url('account')}}">Your account</a> › <span>Products you like</span></nav>
<h1>Products you like</h1>
{{!results}}
