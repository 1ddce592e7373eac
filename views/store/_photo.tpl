%# A product's main photo, or its lettered tile when it has none. Expects: product (with
%# .photo, from with_photos()), size (the size in src: "card", "page" or "thumb"), sizes (how
%# wide the page shows it, for the browser's pick from srcset), and optionally cls (a class
%# more), eager (a photo seen at once: loaded first, not lazily) and beside_title (the title
%# is next to it, in the same link: its alt text would only be read before the title).
% image, cls = product.photo, get('cls', '')
% if image is None:
<span class="product-thumb thumb-{{product.collection_id % 10}} {{cls}}" aria-hidden="true">{{product.title[:1]}}</span>
% else:
% width, height = image.size(size)
<img class="product-photo {{cls}}" src="{{photo_url(image, size)}}" srcset="{{srcset(image, *(('thumb', 'card') if size == 'thumb' else ('card', 'page')))}}" sizes="{{sizes}}" width="{{width}}" height="{{height}}" alt="{{'' if get('beside_title') else image.alt}}"{{!' fetchpriority="high"' if get('eager') else ' loading="lazy"'}} decoding="async">
% end
