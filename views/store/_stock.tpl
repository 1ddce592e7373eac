%# A product's stock in the words the shop and the admin share (Product.stock). Expects: product.
% kind, words = product.stock
<span class="stock stock-{{kind}}">{{words}}</span>
