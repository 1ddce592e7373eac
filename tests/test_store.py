"""The store pages: home, catalog, product, collections, and their bad inputs."""
import re

import pytest
from playhouse.test_utils import count_queries

import models
from models import Collection, Product


def product_links(page):
    return [int(n) for n in re.findall(r'href="/products/(\d+)"', page.text)]


def test_home_shows_featured_collections_and_new_products(client, shop):
    page = client.get("/")
    featured = Collection.get(Collection.title == "Bakery")
    assert "Featured collections" in page.text
    assert f'href="/collections/{featured.id}"' in page.text
    assert featured.featured_product.title in page.text
    newest = Product.select().order_by(Product.id.desc()).first()
    assert newest.title in page.text


def test_catalog_lists_products_sorted_by_title(client, shop):
    page = client.get("/products")
    titles = [p.title for p in Product.select().order_by(Product.title, Product.id).limit(24)]
    positions = [page.text.index(t) for t in titles]
    assert positions == sorted(positions)
    assert "60 products" in page.text


@pytest.mark.parametrize("sort,order", [
    ("price", (Product.unit_price, Product.id)),
    ("-price", (Product.unit_price.desc(), Product.id.desc())),
    ("-title", (Product.title.desc(), Product.id.desc())),
    ("newest", (Product.id.desc(),)),
])
def test_catalog_sorts(client, shop, sort, order):
    expected = [p.id for p in Product.select().order_by(*order).limit(24)]
    shown = list(dict.fromkeys(product_links(client.get("/products", {"sort": sort}))))
    assert shown == expected


def test_catalog_search_is_case_insensitive(client, shop):
    target = Product.get_by_id(7)
    word = target.title.split()[1]
    page = client.get("/products", {"q": word.upper()})
    shown = set(product_links(page))
    expected = {p.id for p in Product.select().where(Product.title ** f"%{word}%")}
    assert target.id in shown and shown <= expected


def test_catalog_filters_by_collection(client, shop):
    collection = Collection.get(Collection.title == "Bakery")
    shown = set(product_links(client.get("/products", {"collection": collection.id})))
    assert shown == {p.id for p in collection.products}


def test_page_links_keep_the_other_parameters(client, shop):
    page = client.get("/products", {"sort": "price", "q": "o"})
    next_link = re.search(r'rel="next" href="([^"]+)"', page.text).group(1)
    assert "sort=price" in next_link and "q=o" in next_link and "page=2" in next_link
    second = client.get(next_link.replace("&amp;", "&"))
    assert "Page 2" in second.text


def test_a_page_past_the_end_is_a_friendly_404(client, shop):
    page = client.get("/products", {"page": 99}, status=404)
    assert "There is no page 99" in page.text
    assert 'href="/products"' in page.text


@pytest.mark.parametrize("query", [
    {"page": "abc"}, {"page": "-3"}, {"page": "1e9"}, {"collection": "x"},
    {"sort": "unit_price; DROP TABLE product"}, {"q": "' OR 1=1 --"}, {"q": "é" * 500},
    {"collection": "999999"}, {"q": "%_%"},
])
def test_bad_catalog_parameters_never_fail(client, shop, query):
    page = client.get("/products", query)
    assert page.status_int == 200
    assert Product.select().count() == 60


def test_a_product_title_is_escaped_on_every_store_page(client, shop):
    product = Product.select().order_by(Product.id.desc()).first()   # the newest: on the home page
    product.title = 'Tea <script>alert("title")</script>'
    product.save()
    models.data_changed()
    for path in [f"/products/{product.id}", "/products?sort=newest", "/products?q=tea", "/",
                 f"/collections/{product.collection_id}"]:
        text = client.get(path).text
        assert "&lt;script&gt;alert(" in text, path
        assert "<script>alert(" not in text, path


def test_search_terms_are_escaped_in_the_page(client, shop):
    page = client.get("/products", {"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


@pytest.mark.parametrize("page_size", [5, 50])
def test_catalog_query_count_does_not_grow_with_the_page(client, shop, settings, page_size):
    settings.page_size = page_size
    with count_queries() as counter:
        client.get("/products", {"sort": "price"})
    assert counter.count <= 3


def test_product_page(client, shop):
    product = Product.get_by_id(3)
    page = client.get(f"/products/{product.id}")
    assert product.title in page.text
    assert f"${product.unit_price}" in page.text
    assert product.collection.title in page.text


@pytest.mark.parametrize("ident", ["999999", "abc", "-1", "1.5", "<img src=x onerror=alert(1)>"])
def test_unknown_product_is_404(client, shop, ident):
    page = client.get(f"/products/{ident}", status=404)
    assert "Page not found" in page.text and "<img src=x" not in page.text


def test_collections_list_counts_products(client, shop):
    page = client.get("/collections")
    for collection in models.collections_with_counts():
        assert collection.title in page.text
    bakery = Collection.get(Collection.title == "Bakery")
    count = bakery.products.count()
    assert re.search(rf"{bakery.title}</span></a>\s*<span[^>]*>{count} product", page.text)


def test_collection_page_lists_its_products(client, shop):
    bakery = Collection.get(Collection.title == "Bakery")
    shown = set(product_links(client.get(f"/collections/{bakery.id}")))
    assert {p.id for p in bakery.products.order_by(Product.title).limit(24)} <= shown
    client.get("/collections/424242", status=404)


def test_unknown_page_and_wrong_method(client, csrf):
    page = client.get("/no/such/page", status=404)
    assert "Page not found" in page.text and "<nav" in page.text
    page = client.put("/products", {"csrf_token": csrf()}, status=405)
    assert "Method not allowed" in page.text


def test_static_files_are_served_without_a_database_connection(client, wsgi):
    models.db.close()
    response = client.get("/static/css/site.css")
    assert response.content_type == "text/css"
    assert models.db.is_closed()
    client.get("/static/../app.py", status=[403, 404])


def test_browsing_writes_no_session(client, shop, settings):
    import os
    response = client.get("/products")
    client.get("/products/1")
    assert "storefront_session" not in response.headers.get("Set-Cookie", "")
    sessions = os.path.join(settings.data_dir, "sessions")
    assert not os.path.exists(sessions) or not any(files for _, _, files in os.walk(sessions))


def test_text_that_is_not_utf8_or_holds_nul_is_a_400(client, shop, csrf):
    client.get("/products", {"q": "tea\x00"}, status=400)
    token = csrf()
    page = client.post("/accounts/login", b"username=%ff%fe&password=x&csrf_token=" + token.encode(),
                       content_type="application/x-www-form-urlencoded", status=400)
    assert "UTF-8" in page.text
    page = client.post("/accounts/login", {"username": "a\x00b", "password": "x",
                                           "csrf_token": token}, status=400)
    assert "NUL" in page.text


@pytest.mark.parametrize("query", [{"page": 2}, {"page": 3, "sort": "-price"},
                                   {"q": "o", "page": 2}])
def test_deep_pages_by_deferred_join_show_the_same_rows(client, shop, settings, monkeypatch,
                                                        query):
    settings.cache_url = "none"
    plain = product_links(client.get("/products", query))
    monkeypatch.setattr("app.Page.DEFERRED_JOIN_AFTER", 0)     # every page the deep way
    assert product_links(client.get("/products", query)) == plain
