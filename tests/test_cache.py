"""Caching: pages served from the cache, forgotten by every kind of write, never per user."""
import re
import threading

import pytest

from playhouse.test_utils import count_queries

from conftest import cache_generations, new_client

import app as storefront
import models
from models import Product


def token_of(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_an_anonymous_page_comes_from_the_cache(client, shop):
    first = client.get("/products")
    with count_queries() as counter:
        second = client.get("/products")
    assert counter.count == 0 and models.db.is_closed()     # no query, no connection
    assert second.text == first.text


def test_each_visitor_gets_their_own_csrf_token_in_a_cached_page(wsgi, shop):
    alice = new_client(wsgi)
    bob = new_client(wsgi)
    in_stock = models.Product.select().where(models.Product.inventory > 0).first().id
    a, b = alice.get(f"/products/{in_stock}"), bob.get(f"/products/{in_stock}")
    assert token_of(a) != token_of(b)
    assert storefront.CSRF_PLACEHOLDER not in a.text + b.text
    form = b.forms[[k for k, f in b.forms.items() if f.action == "/cart/items"][0]]
    form.submit(status=303)     # bob's token works: the cached page is usable


def badge(page):
    return int(re.search(r'Cart <span class="badge">(\d+)<', page.text).group(1))


def test_no_per_user_data_leaks_through_the_cache(client, wsgi, shop, login_as, csrf):
    new_client(wsgi).get("/products")               # a visitor's copy is in the cache
    login_as("alice")
    product = models.Product.select().where(models.Product.inventory >= 2).first().id
    client.post("/cart/items", {"product_id": product, "quantity": 2, "csrf_token": csrf()},
                status=303)
    for path in ["/products", f"/products/{product}", "/"]:
        mine = client.get(path)
        assert "alice" in mine.text and badge(mine) == 2      # her page, not the visitors'
        page = new_client(wsgi).get(path)
        assert "alice" not in page.text and "Log in" in page.text and badge(page) == 0


def test_a_write_forgets_pages_cached_while_it_was_being_committed(client, wsgi, shop,
                                                                  login_as, monkeypatch):
    """A visitor who reads a page just as an admin's save commits gets the new page: the
    caches are told of a transaction's writes once it has committed, not before."""
    visitor = new_client(wsgi)
    login_as("boss", is_staff=True, is_superuser=True)
    form = client.get("/admin/product/4/").forms["admin-form"]
    form["title"] = "Renamed Mid-Save"
    data_changed, read_meanwhile = models.data_changed, []

    def data_changed_then_a_visitor_reads(tags=("*",)):
        data_changed(tags)
        reader = threading.Thread(target=lambda: read_meanwhile.append(visitor.get("/products/4")))
        reader.start()
        reader.join()
    monkeypatch.setattr(models, "data_changed", data_changed_then_a_visitor_reads)
    form.submit(status=303)
    assert read_meanwhile
    assert "Renamed Mid-Save" in visitor.get("/products/4").text


def test_admin_save_invalidates(client, wsgi, shop, login_as):
    visitor = new_client(wsgi)
    product = Product.get_by_id(4)
    assert product.title in visitor.get("/products/4").text
    login_as("boss", is_staff=True, is_superuser=True)
    form = client.get("/admin/product/4/").forms["admin-form"]
    form["title"] = "Renamed By Admin"
    form.submit(status=303)
    assert "Renamed By Admin" in visitor.get("/products/4").text
    assert "Renamed By Admin" in visitor.get("/products", {"q": "Renamed"}).text


def test_admin_action_and_delete_invalidate(client, wsgi, shop, login_as, csrf):
    visitor = new_client(wsgi)
    product = Product.select().where(Product.inventory > 10).first()
    assert "In stock" in visitor.get(f"/products/{product.id}").text
    login_as("boss", is_staff=True, is_superuser=True)
    client.post("/admin/product/actions", {"csrf_token": csrf(), "action": "clear_inventory",
                                           "confirm": "1", "_selected": str(product.id)},
                status=303)
    assert "Out of stock" in visitor.get(f"/products/{product.id}").text
    extra = Product.create(title="Short Lived Thing", unit_price=3, inventory=5,
                           collection=product.collection)
    assert "Short Lived Thing" in visitor.get("/products", {"q": "Short Lived"}).text
    client.post(f"/admin/product/{extra.id}/delete", {"csrf_token": csrf()}, status=303)
    assert "No products match" in visitor.get("/products", {"q": "Short Lived"}).text


def test_checkout_invalidates_stock(client, wsgi, shop, login_as, csrf):
    visitor = new_client(wsgi)
    product = Product.create(title="Last Few Lamps", unit_price=20, inventory=3,
                             collection=models.Collection.select().first())
    assert "Only 3 left" in visitor.get(f"/products/{product.id}").text
    login_as("alice")
    client.post("/cart/items", {"product_id": product.id, "quantity": 1, "csrf_token": csrf()})
    form = client.get("/checkout").forms[[k for k, f in client.get("/checkout").forms.items()
                                          if f.action == "/checkout"][0]]
    for name, value in {"first_name": "A", "last_name": "B", "email": "a@example.com",
                        "street": "1 Road", "city": "Town"}.items():
        form[name] = value
    form.submit(status=303)
    assert "Only 2 left" in visitor.get(f"/products/{product.id}").text


def test_seed_and_migrate_invalidate(client, shop):
    before = client.get("/products").text
    models.seed(products=30, customers=5, reset=True, rng_seed=7)
    assert client.get("/products").text != before
    assert "30 products" in client.get("/products").text


def test_caching_can_be_switched_off(settings, shop):
    settings.cache_url = "none"
    client = new_client(storefront.build(settings))
    client.get("/products")
    with count_queries() as counter:
        client.get("/products")
    assert counter.count >= 2
    settings.cache_url = "memory"
    storefront.build(settings)


def test_a_cached_error_page_keeps_its_status(client, shop):
    client.get("/products", {"page": 500}, status=404)
    client.get("/products", {"page": 500}, status=404)


def test_caching_lesson_shows_the_difference(client, shop, monkeypatch):
    slow_reports = []          # the lesson's slow report sleeps: count the runs, skip the wait
    monkeypatch.setattr("time.sleep", slow_reports.append)
    page = client.get("/playground/caching")
    assert re.search(r"first call.*?\d+\.\d+ ms.*?second call.*?\d+\.\d+ ms", page.text, re.S)
    assert len(slow_reports) == 1        # the second call was answered by the cache
    client.get("/playground/caching")
    assert len(slow_reports) == 2        # and the lesson empties it again for the next visit


def test_the_memory_cache_is_bounded(settings, shop, monkeypatch):
    settings.cache_url = "memory"        # (the PostgreSQL + Redis pass caches in Redis)
    client = new_client(storefront.build(settings))
    page_size = len(client.get("/products", {"q": "crawler"}).body)
    monkeypatch.setattr("app.CACHE_MAX_BYTES", 5 * page_size)     # room for about five
    for n in range(12):                              # a crawler with a new URL each time
        client.get("/products", {"q": f"crawler {n}"})
    pages = storefront.cache.get_cache_region("storefront.pages", "pages")
    assert 1 <= len(pages.namespace.dictionary) <= 5
    assert storefront._cache_bytes["pages"] <= 5 * page_size


# Every way of writing, none of which calls anything about caches: (what it does, the title the
# product page shows afterwards).
WRITES = {
    "save()": lambda p: (setattr(p, "title", "Saved Title"), p.save(), "Saved Title")[-1],
    "update query": lambda p: (Product.update(title="Bulk Title").where(Product.id == p.id)
                               .execute(), "Bulk Title")[-1],
    "bulk_update": lambda p: (setattr(p, "title", "Bulk Updated"),
                              Product.bulk_update([p], [Product.title]), "Bulk Updated")[-1],
    "raw SQL": lambda p: (models.db.execute_sql(
        "update product set title = 'Raw Title' where id = %s" % int(p.id)), "Raw Title")[-1],
    "in a transaction": lambda p: _in_transaction(p),
    "insert then delete": lambda p: _insert_then_delete(p),
}


def _in_transaction(product):
    with models.db.atomic():
        Product.update(title="Committed Title").where(Product.id == product.id).execute()
    return "Committed Title"


def _insert_then_delete(product):
    Product.insert(title="Newcomer", slug="newcomer", unit_price=2, price=2, inventory=1,
                   collection=product.collection).execute()
    Product.delete().where(Product.title == "Newcomer").execute()
    return product.title


@pytest.mark.parametrize("write", WRITES)
def test_any_write_through_the_models_makes_cached_pages_stale(client, shop, write):
    product = Product.select().order_by(Product.id).first()
    client.get(f"/products/{product.id}")           # cached for visitors
    generation = cache_generations()
    title = WRITES[write](product)
    assert cache_generations() != generation, f"{write} left the cache as it was"
    with count_queries() as counter:
        page = client.get(f"/products/{product.id}")
    assert counter.count > 0 and title in page.text, f"{write} left the page as it was"


def test_a_rolled_back_write_leaves_the_cache_alone(client, shop):
    client.get("/products")
    generation = cache_generations()
    with models.db.atomic() as transaction:
        Product.update(title="Never Seen").execute()
        transaction.rollback()
    assert cache_generations() == generation
    assert "Never Seen" not in client.get("/products").text


def test_writes_no_cached_page_shows_leave_the_cache_alone(client, wsgi, shop, login_as, csrf):
    """A cart, a login, a failed login: models that say `private = True` in their Meta."""
    private = [m for m in models._all_models() if getattr(m._meta, "private", False)]
    assert {models.Cart, models.CartItem, models.User} <= set(private)
    visitor = new_client(wsgi)
    visitor.get("/products")
    generation = cache_generations()
    login_as("alice")                                   # writes the user's last_login
    product = Product.select().where(Product.inventory > 0).first()
    client.post("/cart/items", {"product_id": product.id, "csrf_token": csrf()}, status=303)
    new_client(wsgi).post_json("/api/carts", {}, status=201)    # (counted per client)
    assert cache_generations() == generation
    with count_queries() as counter:
        visitor.get("/products")
    assert counter.count == 0


def test_a_shopper_gets_the_shared_parts_of_a_page_from_the_cache(client, shop, login_as):
    """The queries a handler passes to a fragment run only when it is not cached."""
    login_as("alice")
    product = Product.select().first()
    for path in ["/products", "/", f"/products/{product.id}", "/collections/1"]:
        client.get(path)
        with storefront.capture_queries() as queries:
            page = client.get(path)
        assert "alice" in page.text
        shared = [q["sql"] for q in queries if ('FROM "product"' in q["sql"] and "ORDER BY"
                                                 in q["sql"]) or '"promotion"' in q["sql"]
                  or '"tag"' in q["sql"] or "COUNT(" in q["sql"].upper()]
        assert not shared, f"{path} ran the queries of its shared parts again: {shared}"


def pages_kept():
    return len(storefront.cache.get_cache_region("storefront.pages", "pages")
               .namespace.dictionary)


def test_a_cache_key_holds_only_the_parameters_a_page_reads(client, shop):
    """?v=1, ?v=2 ... or the same parameters in another order make no new entries."""
    client.get("/products", {"q": "tea", "sort": "price"})
    kept = pages_kept()
    for junk in ({"v": 1}, {"v": 2, "utm_source": "x"}):
        with count_queries() as counter:
            page = client.get("/products", dict(junk, sort="price", q="tea"))
        assert counter.count == 0 and pages_kept() == kept, f"{junk} made a new entry"
        assert "v=" not in page.text and "utm_source" not in page.text
    client.get("/products", {"q": "mug", "sort": "price"})
    assert pages_kept() == kept + 1             # what the page reads still tells pages apart


def test_an_address_too_long_to_keep_is_served_but_not_cached(client, shop):
    long_search = "tea " * (storefront.MAX_KEY // 4)
    kept = pages_kept()
    client.get("/products", {"q": long_search})
    with count_queries() as counter:
        client.get("/products", {"q": long_search})
    assert counter.count > 0 and pages_kept() == kept


def test_page_links_keep_only_what_the_list_reads(client, shop, settings, monkeypatch):
    monkeypatch.setattr(settings, "page_size", 2)
    collection = models.Collection.select().first()
    page = client.get(f"/collections/{collection.id}", {"junk": "x"})
    links = re.findall(r'href="([^"]*page=\d+[^"]*)"', page.text)
    assert links and not any("junk" in link for link in links), links


# --- What a write makes stale: only the entries that read what it changed -----------------

def test_a_like_leaves_the_catalogs_cached_pages_in_place(client, wsgi, shop, login_as, csrf):
    """A like raises the generation of one product's likes: the catalog, the home page and
    another product's page are served as cached (same body, no query), and the liked
    product's page counts the like."""
    liked, other = Product.select().order_by(Product.id).limit(2)
    visitor = new_client(wsgi)
    paths = ["/products", "/", "/products?sort=price&page=2", f"/products/{other.id}"]
    before = {path: visitor.get(path).text for path in paths + [f"/products/{liked.id}"]}
    assert "Nobody likes this yet" in before[f"/products/{liked.id}"]
    login_as("alice")
    client.post(f"/products/{liked.id}/like", {"csrf_token": csrf()}, status=303)
    with count_queries() as counter:
        after = {path: visitor.get(path).text for path in paths}
    assert counter.count == 0 and after == {path: before[path] for path in paths}
    assert "1 person likes this" in visitor.get(f"/products/{liked.id}").text
    assert "1 person likes this" in client.get(f"/products/{liked.id}").text   # (a fragment)
    client.post(f"/products/{liked.id}/like", {"csrf_token": csrf(), "liked": "0"}, status=303)
    assert "Nobody likes this yet" in visitor.get(f"/products/{liked.id}").text
    with count_queries() as counter:
        visitor.get(f"/products/{other.id}")
    assert counter.count == 0


def test_an_admin_edit_of_a_collection_stales_the_pages_that_show_it(client, wsgi, shop,
                                                                      login_as):
    collection = models.Collection.select().order_by(models.Collection.id).first()
    visitor = new_client(wsgi)
    paths = ["/collections", f"/collections/{collection.id}", "/products"]
    assert all(collection.title in visitor.get(path).text for path in paths)
    login_as("boss", is_staff=True, is_superuser=True)
    form = client.get(f"/admin/collection/{collection.id}/").forms["admin-form"]
    form["title"] = "Renamed Shelf"
    form.submit(status=303)
    for path in paths:
        page = visitor.get(path).text
        assert "Renamed Shelf" in page and f">{collection.title}<" not in page, path


def order(way, client, csrf, product, quantity):
    """The logged-in user orders `quantity` of `product`, by the shop's checkout or the API."""
    if way == "api":
        headers = {"X-CSRF-Token": csrf()}
        cart_id = client.post("/api/carts", headers=headers).json["id"]
        client.post_json(f"/api/carts/{cart_id}/items",
                         {"product_id": product.id, "quantity": quantity}, headers=headers)
        client.post_json("/api/orders", {"cart_id": cart_id}, headers=headers, status=201)
        return
    client.post("/cart/items", {"product_id": product.id, "quantity": quantity,
                                "csrf_token": csrf()}, status=303)
    checkout = client.get("/checkout")
    form = checkout.forms[[k for k, f in checkout.forms.items() if f.action == "/checkout"][0]]
    for name, value in {"first_name": "A", "last_name": "B", "email": "a@example.com",
                        "street": "1 Road", "city": "Town"}.items():
        form[name] = value
    form.submit(status=303)


def test_an_order_updates_the_stock_its_products_show(client, wsgi, shop, login_as, csrf):
    product = Product.create(title="Last Few Kettles", unit_price=20, inventory=3,
                             collection=models.Collection.select().first())
    visitor = new_client(wsgi)
    assert "Only 3 left" in visitor.get(f"/products/{product.id}").text
    assert "Only 3 left" in visitor.get("/products", {"q": "kettles", "sort": "price"}).text
    login_as("alice")
    order("checkout", client, csrf, product, 2)
    assert "Only 1 left" in visitor.get(f"/products/{product.id}").text
    assert "Only 1 left" in visitor.get("/products", {"q": "kettles", "sort": "price"}).text


def card(page, product_id):
    """The card of a product in a page's product grid, or None."""
    found = re.search(rf'<li[^>]*id="product-{product_id}".*?</li>', page, re.DOTALL)
    return found and found.group(0)


@pytest.mark.parametrize("way", ["checkout", "api"])
def test_an_order_leaves_the_pages_that_do_not_show_its_stock_in_place(way, client, wsgi, shop,
                                                                       login_as, csrf):
    """An order takes the stock of its products: the catalog, the home page, a collection and
    another product's page, which do not show that product, are served as cached (same body,
    no query); its own page and a list that shows it say the new stock."""
    ordered = Product.select().order_by(Product.title.desc(), Product.id.desc()).first()
    Product.update(inventory=3).where(Product.id == ordered.id).execute()
    other = Product.select().where(Product.id != ordered.id).order_by(Product.id).first()
    shelf = models.Collection.select().where(models.Collection.id != ordered.collection_id).first()
    user = login_as("alice")
    models.save_customer_profile(user, "A", "B", "a@example.com", "1 Road", "Town", "1")
    visitor = new_client(wsgi)
    kept = ["/products", "/", "/collections", f"/collections/{shelf.id}",
            f"/products/{other.id}"]
    before = {path: visitor.get(path).text for path in kept}
    assert not any(card(page, ordered.id) for page in before.values())
    showing = "/products?sort=-title"           # its first card is the ordered product's
    assert "Only 3 left" in card(visitor.get(showing).text, ordered.id)
    assert "Only 3 left" in visitor.get(f"/products/{ordered.id}").text
    order(way, client, csrf, ordered, 2)
    storefront.background_done()        # (the order's mail is written meanwhile)
    with count_queries() as counter:
        after = {path: visitor.get(path).text for path in kept}
    assert counter.count == 0 and after == before
    assert "Only 1 left" in card(visitor.get(showing).text, ordered.id)
    assert "Only 1 left" in visitor.get(f"/products/{ordered.id}").text


def test_an_order_that_takes_the_last_of_a_product_counts_it_out_of_stock(client, shop,
                                                                           login_as, csrf):
    """A list filtered by stock (the admin's "out of stock", its count cached) depends on the
    stock of every product: an order that takes the last of one is counted there at once."""
    product = Product.select().where(Product.inventory > 0).order_by(Product.id).first()
    Product.update(inventory=2).where(Product.id == product.id).execute()
    login_as("boss", is_staff=True, is_superuser=True)

    def out_of_stock():
        page = client.get("/admin/product/", {"stock": "out"}).text
        return int(re.search(r"([\d,]+) results? \(", page).group(1).replace(",", ""))
    before = out_of_stock()
    order("checkout", client, csrf, product, 2)
    assert out_of_stock() == before + 1


def test_an_admin_edit_of_a_product_leaves_other_products_pages_in_place(client, wsgi, shop,
                                                                          login_as):
    """An admin's edit writes one product's row: its page and the lists that may show it are
    made again, another product's page is served as cached. An edit of an order changes no
    page of the shop."""
    edited, other = Product.select().order_by(Product.id).limit(2)
    visitor = new_client(wsgi)
    paths = [f"/products/{other.id}", "/products", "/"]
    before = {path: visitor.get(path).text for path in paths}
    login_as("boss", is_staff=True, is_superuser=True)
    form = client.get(f"/admin/product/{edited.id}/").forms["admin-form"]
    form["title"] = "AAA Renamed Product"
    form.submit(status=303)
    with count_queries() as counter:
        assert visitor.get(f"/products/{other.id}").text == before[f"/products/{other.id}"]
    assert counter.count == 0
    assert "AAA Renamed Product" in visitor.get(f"/products/{edited.id}").text
    assert "AAA Renamed Product" in visitor.get("/products").text  # (first by title)
    before = {path: visitor.get(path).text for path in paths}
    edited_order = models.Order.select().order_by(models.Order.id).first()
    form = client.get(f"/admin/order/{edited_order.id}/").forms["admin-form"]
    form["payment_status"] = "C" if edited_order.payment_status != "C" else "F"
    form.submit(status=303)
    storefront.background_done()
    with count_queries() as counter:
        after = {path: visitor.get(path).text for path in paths}
    assert counter.count == 0 and after == before


def test_a_read_with_a_common_table_expression_makes_nothing_stale(shop, monkeypatch):
    """PostgreSQL's search asks with WITH ... SELECT: a read, not a write of everything (which
    would let any search empty every cache)."""
    told = []
    monkeypatch.setattr(models, "data_changed", lambda tags: told.append(set(tags)))
    models.db.execute_sql('WITH "head" AS (SELECT "id" FROM "product" LIMIT 3) '
                          'SELECT COUNT(*) FROM "head"')
    assert told == []
    models.db.execute_sql('WITH "none" AS (SELECT 0 AS "id") UPDATE "product" '
                          'SET "inventory" = "inventory" WHERE "id" IN (SELECT "id" FROM "none")')
    assert told == [{"*"}]
