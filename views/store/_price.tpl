%# A price as the shop charges it, with the list price struck through when a promotion
%# lowers it. Expects: price, was (the list price, or None).
{{money(price)}}
% if was is not None and price < was:
<del class="price-was"><span class="visually-hidden">was </span>{{money(was)}}</del>
% end
