%# The products with one tag. Expects: tag, results (the shared HTML of a page of them).
% rebase('layout')
<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="{{url('catalog')}}">Shop</a> › <span>Tagged “{{tag.label}}”</span></nav>
<h1>Tagged “{{tag.label}}”</h1>
{{!results}}
