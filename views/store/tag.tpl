%# The products with one tag. Expects: tag, page (of its products).
% rebase('layout')
<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="{{url('catalog')}}">Shop</a> › <span>Tagged “{{tag.label}}”</span></nav>
<h1>Tagged “{{tag.label}}”</h1>
{{!fragment('store/_results', page=page, empty='No products carry this tag yet.')}}
