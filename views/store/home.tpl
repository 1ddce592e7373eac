%# The home page. Expects: collections (with featured product joined), products (queries,
%# run by the fragment when it is not cached).
% rebase('layout')
<section class="hero">
  <h1>Good things, small shop.</h1>
  <p>Pantry staples, drinks and things for the home, picked by a small team.</p>
  <a class="button" href="{{url('catalog')}}">Browse all products</a>
</section>

{{!fragment('store/_featured', collections=collections, products=products)}}
