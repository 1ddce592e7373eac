%# How many people like a product, the same for everyone (a fragment). Expects: likes (a
%# function that counts them, called only when the fragment is not cached).
% n = likes()
<span class="like-count">{{'Nobody likes this yet' if not n else ('1 person likes this' if n == 1 else '%s people like this' % format(n, ','))}}</span>
