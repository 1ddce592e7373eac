%# The products the user likes. Expects: page (of them).
% rebase('layout')
<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="{{url('account')}}">Your account</a> › <span>Products you like</span></nav>
<h1>Products you like</h1>
% include('store/_results', page=page, empty='You like no product yet: press “Like” on one you would buy again.')
