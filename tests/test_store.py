"""The store pages: home, catalog, product, collections, and their bad inputs."""
import re

import pytest
from playhouse.test_utils import count_queries

from conftest import new_client

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
    ("price", (Product.price, Product.id)),
    ("-price", (Product.price.desc(), Product.id.desc())),
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


def test_page_links_cannot_be_pointed_elsewhere_by_the_query(client, shop, settings):
    """Attack: ?route_name= or ?_name= on a list of several pages was a 500, and
    /collections/3?collection_id=7 linked its next page to collection 7."""
    settings.page_size = 2
    page = client.get("/products", {"route_name": "x", "_name": "y"})
    assert re.search(r'rel="next" href="/products\?[^"]*page=2', page.text)
    bakery, other = Collection.select().order_by(Collection.id).limit(2)
    page = client.get(f"/collections/{bakery.id}", {"collection_id": other.id})
    next_link = re.search(r'rel="next" href="([^"]+)"', page.text).group(1)
    assert next_link.startswith(f"/collections/{bakery.id}?")


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


def test_a_page_number_past_what_a_database_can_skip_is_a_404_not_a_500(client, shop):
    client.get("/products", {"page": 2 ** 63 - 1}, status=404)
    client.get("/collections/1", {"page": 2 ** 63 - 1}, status=404)


@pytest.mark.parametrize("path", ["/", "/products", "/products/1", "/cart", "/accounts/login"])
def test_a_cookie_header_python_cannot_parse_counts_as_no_cookies(client, shop, path):
    """A fuzzer found this: "$x=2" made every page that reads a cookie a 500."""
    page = client.get(path, headers={"Cookie": "a=1; $x=2"})
    assert page.status_int == 200 and "Log in" in page.text


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
    # the count, the collections, the page's products (which ones, then those: rows_of())
    # and their photos (all in one query)
    assert counter.count <= 5


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
    assert "There is no page at /no/such/page." in page.text and "Not found: " not in page.text
    page = client.put("/products", {"csrf_token": csrf()}, status=405)
    assert "Method not allowed" in page.text


def test_static_files_are_served_without_a_database_connection(client, wsgi):
    models.db.close()
    response = client.get("/static/css/base.css")
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


@pytest.mark.parametrize("sort", ["title", "-title", "price", "-price", "newest", "relevance"])
@pytest.mark.parametrize("filters", [{}, {"collection": 3}, {"q": "a"}])
def test_deep_pages_show_the_rows_offset_would(client, shop, settings, monkeypatch, sort,
                                               filters):
    """Every page found the deep ways (by the boundary marks, or ids first when the order is
    not plain columns) holds exactly what OFFSET gives."""
    settings.page_size = 5
    pages = range(1, 8)

    def ids():
        return [[p["id"] for p in client.get("/api/products", dict(filters, sort=sort, page=n),
                                             expect_errors=True).json.get("results", [])]
                for n in pages]
    plain = ids()
    assert sum(plain, [])                          # the filters leave something to page
    monkeypatch.setattr("models.Page.DEFERRED_JOIN_AFTER", 0)     # every page the deep way
    monkeypatch.setattr("models.Page.MARK_EVERY", 7)              # a mark every 7 rows
    models.data_changed()
    assert ids() == plain


def test_a_tag_lists_its_products_and_the_product_page_links_to_it(client, shop):
    tagged = models.TaggedItem.select().where(models.TaggedItem.content_type == "product").first()
    tag = tagged.tag
    page = client.get(f"/products/{tagged.object_id}")
    assert f'href="/tags/{tag.label}"' in page.text
    listing = client.get(f"/tags/{tag.label}")
    expected = {t.object_id for t in models.TaggedItem.select().where(
        (models.TaggedItem.tag == tag) & (models.TaggedItem.content_type == "product"))}
    assert set(product_links(listing)) == expected
    client.get("/tags/no-such-tag", status=404)
    client.get(f"/tags/{tag.label}", {"page": 99}, status=404)


@pytest.mark.parametrize("label", ["a/b", "why?", "c#", "gift idea", "x%2Fy", "café"])
def test_a_tag_of_any_label_is_reached_from_its_link(client, shop, label):
    """Attack: a tag "a/b" or "why?" was linked as it was, to a page that is not there."""
    product = Product.select().first()
    item = models.TaggedItem(tag=models.Tag.create(label=label))
    item.point_at(product)
    item.save()
    page = client.get(f"/products/{product.id}")
    link = re.search(r'class="tag" href="([^"]+)">' + re.escape(label) + "<", page.text).group(1)
    listing = client.get(link)
    assert product.id in product_links(listing) and "Tagged" in listing.text


def test_the_tag_page_is_cached_and_forgotten_when_staff_tag_a_product(client, wsgi, shop,
                                                                       login_as):
    tag = models.Tag.get(models.Tag.label == "gift")
    product = Product.select().order_by(Product.id.desc()).first()
    visitor = new_client(wsgi)
    assert product.title not in visitor.get("/tags/gift").text      # now in the page cache
    login_as("boss", is_staff=True, is_superuser=True)
    form = client.get(f"/admin/product/{product.id}/").forms["admin-form"]
    blank = [n for n in form.fields if n.endswith("-tag") and form[n].value == "__None"][0]
    form[blank] = str(tag.id)
    form.submit(status=303)
    assert product.title in visitor.get("/tags/gift").text


def test_liking_a_product(client, wsgi, shop, login_as):
    product = Product.get_by_id(7)
    page = client.get("/products/7")
    assert "Nobody likes this yet" in page.text and "Log in to like it" in page.text
    login_as("alice")
    form = [f for f in client.get("/products/7").forms.values()
            if f.action == "/products/7/like"][0]
    assert form.submit().status_int == 303
    page = client.get("/products/7")
    assert "1 person likes this" in page.text and 'aria-pressed="true"' in page.text
    form = [f for f in page.forms.values() if f.action == "/products/7/like"][0]
    form.submit()                        # liked=0: unlike
    assert models.LikedItem.of(product).count() == 0
    models.like(models.User.get(models.User.username == "alice"), product)
    models.like(models.User.get(models.User.username == "alice"), product)   # still one like
    assert models.LikedItem.of(product).count() == 1
    likes = client.get("/accounts/likes")
    assert product_links(likes)[0] == 7 and len(set(product_links(likes))) == 1
    stranger = new_client(wsgi)
    assert "1 person likes this" in stranger.get("/products/7").text
    assert "aria-pressed" not in stranger.get("/products/7").text


def test_liking_needs_a_login_and_a_real_product(client, shop, csrf, login_as):
    response = client.post("/products/7/like", {"csrf_token": csrf()})
    assert "/accounts/login" in response.headers["Location"]
    assert models.LikedItem.select().count() == 0
    login_as("alice")
    client.post("/products/999999/like", {"csrf_token": csrf()}, status=404)
    client.get("/products/7/like", status=405)


def test_deep_pages_use_boundary_marks_only_where_they_can_be_kept(settings, shop, monkeypatch):
    """With the cache off nothing would keep the marks between requests: making them again
    for every deep page would cost more than the OFFSET they save, so the page skips by ids."""
    import app as storefront
    monkeypatch.setattr("models.Page.DEFERRED_JOIN_AFTER", 0)
    for cache_url, marks_made in (("none", False), ("memory", True)):
        settings.cache_url = cache_url
        client = new_client(storefront.build(settings))
        with storefront.capture_queries() as queries:
            client.get("/products", {"page": 3})
        assert any("ROW_NUMBER" in q["sql"] for q in queries) == marks_made, cache_url
