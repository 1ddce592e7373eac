%# A product's photos: the main one large, the others small beside it, each a link to its
%# page size (a fragment: the same for everyone). Expects: product. Without a photo, the
%# lettered tile.
% product = with_photos([product])[0]
% if not product.photos:
<div class="product-thumb product-thumb-large thumb-{{product.collection_id % 10}}" aria-hidden="true">{{product.title[:1]}}</div>
% else:
<figure class="gallery">
  % include('store/_photo', product=product, size='page', sizes='(max-width: 50em) 92vw, 30rem', cls='gallery-main', eager=True)
  % if len(product.photos) > 1:
  <ul class="gallery-more" aria-label="More photos">
    % for image in product.photos[1:]:
    % width, height = image.size('thumb')
    <li><a href="{{photo_url(image, 'page')}}"><img src="{{photo_url(image, 'thumb')}}" srcset="{{srcset(image, 'thumb', 'card')}}" sizes="5rem" width="{{width}}" height="{{height}}" alt="{{image.alt}}" loading="lazy" decoding="async"></a></li>
    % end
  </ul>
  % end
</figure>
% end
