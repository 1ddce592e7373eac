"""The demo shop (models.py, part 10): products named and described from their collection's
words (models.DEMO_CATALOG), the same every time."""
import re

import models
from models import Collection, Product


def demo_products():
    return [(p.title, p.description, p.collection.title) for p in
            Product.select(Product, Collection).join(Collection).order_by(Product.id)]


def test_every_product_is_named_and_described_from_its_collections_words(wsgi):
    models.seed(products=400, customers=10)
    products = demo_products()
    assert len(products) == 400
    assert sorted({collection for _, _, collection in products}) == sorted(models.DEMO_CATALOG)
    for n, (title, description, collection) in enumerate(products, start=1):
        kinds, things, ending = models.DEMO_CATALOG[collection]
        name = re.fullmatch(rf"({'|'.join(map(re.escape, kinds))}) "
                            rf"({'|'.join(map(re.escape, things))}) No\. {n}", title)
        assert name, f"{title!r} is not named from the words of {collection}"
        line = things[name.group(2)]
        assert description == f"{line[0].upper()}{line[1:]}. {ending}", title


def test_the_demo_shop_is_the_same_every_time(wsgi):
    models.seed(products=50, customers=10)
    first = demo_products()
    models.seed(products=50, customers=10, reset=True)
    assert demo_products() == first
