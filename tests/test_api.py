"""The JSON API (part 8 of app.py): products, collections, carts and orders, and bad input;
its OpenAPI document and docs page; and a fuzzer run against that document.

Every answer these tests receive under /api/ is also checked against the document, by the
client of conftest.py (DocumentedApp)."""
import datetime
import html
import http.cookiejar
import json
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from decimal import Decimal

import pytest
from openapi_spec_validator import validate as validate_openapi
from playhouse.test_utils import count_queries

import app as storefront
import models
from conftest import PASSWORD, new_client, outcomes, released_together, statuses, twin
from models import Cart, CartItem, Collection, Order, OrderItem, Product

MONEY = re.compile(r"^\d+\.\d{2}$")
HUGE = str(10 ** 30)


def is_json_error(response, status):
    """The response is a JSON error with the API's shape."""
    assert response.status_int == status, response.text
    assert response.content_type == "application/json"
    body = response.json
    assert {"error", "message", "status"} <= set(body) and body["status"] == status
    return body


@pytest.fixture
def widget(wsgi):
    """A product whose price has a trailing zero, with 5 in stock."""
    collection = Collection.create(title="Gadgets")
    return Product.create(title="Widget", description="A fine widget.",
                          unit_price=Decimal("12.50"), inventory=5, collection=collection)


@pytest.fixture
def gizmo(widget):
    return Product.create(title="Gizmo", unit_price=Decimal("3"), inventory=10,
                          collection=widget.collection)


@pytest.fixture
def cart(client):
    """The id of a new cart, made through the API by a client without cookies."""
    return client.post("/api/carts").json["id"]


def cart_lines(cart_id):
    return [(item.product_id, item.quantity)
            for item in CartItem.select().where(CartItem.cart == cart_id).order_by(CartItem.id)]


def give_profile(user):
    return models.save_customer_profile(user, "Alice", "Liddell", f"{user.username}@example.com",
                                        "1 Rabbit Hole", "Oxford", "OX1")


@pytest.fixture
def shopper(client, login_as, csrf):
    """A logged-in user with a customer profile, and the CSRF header their calls need."""
    user = login_as("alice")
    give_profile(user)
    return {"X-CSRF-Token": csrf()}


# Products and collections ###################################################################

def test_index_lists_the_resources(client):
    assert client.get("/api/").json == {"products": "/api/products", "collections":
                                        "/api/collections", "carts": "/api/carts",
                                        "orders": "/api/orders", "openapi": "/api/openapi.json",
                                        "docs": "/api/docs"}


def test_products_list_is_paginated_and_sorted_by_title(client, shop):
    body = client.get("/api/products").json
    assert body["count"] == 60 and body["page"] == 1 and body["has_next"] is True
    expected = [p.id for p in Product.select().order_by(Product.title, Product.id).limit(24)]
    assert [p["id"] for p in body["results"]] == expected
    last = client.get("/api/products", {"page": 3}).json
    assert last["page"] == 3 and last["has_next"] is False and len(last["results"]) == 12


@pytest.mark.parametrize("page_size", [5, 50])
def test_products_query_count_does_not_grow_with_the_page(client, shop, settings, page_size):
    settings.page_size = page_size
    with count_queries() as counter:
        assert len(client.get("/api/products").json["results"]) == page_size
    # the count, the page (which products, then those: models.rows_of()), its photos (one
    # query for all)
    assert counter.count <= 4


def test_product_fields_and_money_as_a_string(client, widget):
    body = client.get(f"/api/products/{widget.id}").json
    assert body == {
        "id": widget.id, "title": "Widget", "slug": "widget", "description": "A fine widget.",
        "unit_price": "12.50", "price": "12.50", "inventory": 5,
        "collection": {"id": widget.collection.id, "title": "Gadgets"},
        "last_update": body["last_update"], "images": []}
    when = datetime.datetime.fromisoformat(body["last_update"])
    assert when.utcoffset() == datetime.timedelta(0)
    assert abs(when.replace(tzinfo=None) - models.utcnow()) < datetime.timedelta(minutes=1)
    assert client.get("/api/products").json["results"][0]["unit_price"] == "12.50"


def test_every_price_in_the_list_is_a_two_decimal_string(client, shop):
    for product in client.get("/api/products", {"sort": "price"}).json["results"]:
        assert isinstance(product["unit_price"], str) and MONEY.match(product["unit_price"])


@pytest.mark.parametrize("sort,order", [
    ("price", (Product.price, Product.id)),
    ("-price", (Product.price.desc(), Product.id.desc())),
    ("-title", (Product.title.desc(), Product.id.desc())),
    ("newest", (Product.id.desc(),)),
])
def test_products_sorts_use_the_catalog_whitelist(client, shop, sort, order):
    expected = [p.id for p in Product.select().order_by(*order).limit(24)]
    assert [p["id"] for p in client.get("/api/products", {"sort": sort}).json["results"]] \
        == expected


def test_products_search_and_collection_filter(client, shop):
    word = Product.get_by_id(7).title.split()[1]
    found = client.get("/api/products", {"q": word.upper()}).json
    expected = {p.id for p in Product.select().where(Product.title ** f"%{word}%")}
    assert {p["id"] for p in found["results"]} == expected and found["count"] == len(expected)
    bakery = Collection.get(Collection.title == "Bakery")
    body = client.get("/api/products", {"collection": bakery.id}).json
    assert {p["id"] for p in body["results"]} == {p.id for p in bakery.products}
    assert all(p["collection"] == {"id": bakery.id, "title": "Bakery"} for p in body["results"])


@pytest.mark.parametrize("query", [
    {"collection": "999999"}, {"q": "' OR 1=1 --"}, {"q": "é" * 500}, {"q": "%_%"},
    {"q": ""}, {"page": "1", "sort": "title"},
])
def test_odd_but_valid_list_parameters_answer_a_page(client, shop, query):
    assert client.get("/api/products", query).status_int == 200


@pytest.mark.parametrize("query,name", [
    ({"page": "abc"}, "page"), ({"page": "-3"}, "page"), ({"page": "0"}, "page"),
    ({"page": "1e9"}, "page"), ({"page": ""}, "page"), ({"page": "2.0"}, "page"),
    ({"page": "١"}, "page"), ({"page": " 2"}, "page"), ({"page": HUGE}, "page"),
    ({"page": "9" * 5000}, "page"), ({"collection": "x"}, "collection"),
    ({"collection": "0"}, "collection"), ({"collection": HUGE}, "collection"),
    ({"sort": "é"}, "sort"), ({"sort": "unit_price; DROP TABLE product"}, "sort"),
    ({"sort": "PRICE"}, "sort"),
])
def test_a_malformed_list_parameter_is_a_400_that_names_it(client, shop, query, name):
    """The HTML catalog forgives these (a person typed them); a program is told."""
    error = is_json_error(client.get("/api/products", query, status=400), 400)
    assert set(error["errors"]) == {name}


def test_a_page_number_past_what_a_database_can_skip_is_a_404_not_a_500(client, shop):
    is_json_error(client.get("/api/products", {"page": 2 ** 63 - 1}, status=404), 404)


def test_a_page_past_the_end_is_a_json_404(client, shop):
    body = is_json_error(client.get("/api/products", {"page": 99}, status=404), 404)
    assert "There is no page 99" in body["message"]


@pytest.mark.parametrize("ident", ["999999", "abc", "-1", "1.5", "%C3%A9"])
def test_unknown_product_is_a_json_404(client, shop, ident):
    is_json_error(client.get(f"/api/products/{ident}", status=404), 404)


@pytest.mark.parametrize("path", [f"/api/products/{HUGE}", f"/api/collections/{HUGE}",
                                  f"/api/orders/{HUGE}", f"/api/carts/{HUGE}"])
def test_ids_too_big_for_the_database_are_a_404(client, login_as, path):
    login_as("alice")
    is_json_error(client.get(path, status=404), 404)


def test_collections_with_product_counts(client, shop):
    body = client.get("/api/collections").json
    assert [c["title"] for c in body] == sorted(c["title"] for c in body) and len(body) == 10
    for row in body:
        assert row["product_count"] == Product.select().where(
            Product.collection == row["id"]).count()
    bakery = Collection.get(Collection.title == "Bakery")
    assert client.get(f"/api/collections/{bakery.id}").json == {
        "id": bakery.id, "title": "Bakery", "product_count": bakery.products.count(),
        "featured_product_id": bakery.featured_product_id}


@pytest.mark.parametrize("ident", ["424242", "abc", "0"])
def test_unknown_collection_is_a_json_404(client, shop, ident):
    is_json_error(client.get(f"/api/collections/{ident}", status=404), 404)


def test_unknown_path_and_wrong_method_answer_json(client):
    is_json_error(client.get("/api/nothing-here", status=404), 404)
    is_json_error(client.put("/api/products", status=405), 405)
    is_json_error(client.delete("/api/carts", status=405), 405)


# Carts ######################################################################################

def test_create_a_cart(client):
    response = client.post("/api/carts", status=201)
    body = response.json
    assert body["items"] == [] and body["total"] == "0.00"
    assert Cart.get_or_none(Cart.id == body["id"]) is not None
    assert response.headers["Location"] == f"/api/carts/{body['id']}"
    assert client.get(response.headers["Location"]).json == body
    assert "Set-Cookie" not in response.headers     # the API starts no session


def test_add_change_and_remove_items(client, cart, widget, gizmo):
    response = client.post_json(f"/api/carts/{cart}/items",
                                {"product_id": widget.id, "quantity": 2}, status=201)
    assert response.json == {"id": cart, "total": "25.00", "items": [
        {"product_id": widget.id, "title": "Widget", "unit_price": "12.50", "quantity": 2,
         "line_total": "25.00"}]}
    client.post_json(f"/api/carts/{cart}/items", {"product_id": gizmo.id, "quantity": 1})
    body = client.post_json(f"/api/carts/{cart}/items",
                            {"product_id": widget.id, "quantity": 1}).json   # adds to the line
    assert [(i["product_id"], i["quantity"]) for i in body["items"]] == \
        [(widget.id, 3), (gizmo.id, 1)]
    assert body["total"] == "40.50"
    body = client.patch_json(f"/api/carts/{cart}/items/{gizmo.id}", {"quantity": 4}).json
    assert body["items"][1]["quantity"] == 4 and body["items"][1]["line_total"] == "12.00"
    assert body["total"] == "49.50"
    assert client.delete(f"/api/carts/{cart}/items/{widget.id}", status=204).body == b""
    assert cart_lines(cart) == [(gizmo.id, 4)]
    body = client.patch_json(f"/api/carts/{cart}/items/{gizmo.id}", {"quantity": 0}).json
    assert body == {"id": cart, "items": [], "total": "0.00"}
    assert client.get(f"/api/carts/{cart}").json == body


def test_the_cart_shows_todays_price(client, cart, widget):
    client.post_json(f"/api/carts/{cart}/items", {"product_id": widget.id, "quantity": 2})
    widget.unit_price = Decimal("20.00")
    widget.save()
    body = client.get(f"/api/carts/{cart}").json
    assert body["items"][0]["unit_price"] == "20.00" and body["total"] == "40.00"


@pytest.mark.parametrize("ident", ["not-a-uuid", "00000000-0000-0000-0000-000000000000",
                                   "0" * 32, "1", "%27%20OR%201=1"])
def test_unknown_or_malformed_cart_is_a_json_404(client, widget, ident):
    is_json_error(client.get(f"/api/carts/{ident}", status=404), 404)
    is_json_error(client.post_json(f"/api/carts/{ident}/items",
                                   {"product_id": widget.id, "quantity": 1}, status=404), 404)
    is_json_error(client.patch_json(f"/api/carts/{ident}/items/{widget.id}", {"quantity": 1},
                                    status=404), 404)
    is_json_error(client.delete(f"/api/carts/{ident}/items/{widget.id}", status=404), 404)
    assert Cart.select().count() == 0       # adding to a cart that does not exist makes none


@pytest.mark.parametrize("body,field,message", [
    ({"product_id": "1", "quantity": 1}, "product_id", "Send a whole number."),
    ({"product_id": 1, "quantity": "2"}, "quantity", "Send a whole number."),
    ({"product_id": 1, "quantity": 1.5}, "quantity", "Send a whole number."),
    ({"product_id": 1, "quantity": True}, "quantity", "Send a whole number."),
    ({"product_id": 1, "quantity": None}, "quantity", "This field is required."),
    ({"product_id": 1}, "quantity", "This field is required."),
    ({"quantity": 1}, "product_id", "This field is required."),
    ({"product_id": {"id": 1}, "quantity": 1}, "product_id", "Send a whole number."),
    ({"product_id": [1], "quantity": 1}, "product_id", "Send a whole number."),
    ({"product_id": 1, "quantity": {"n": [1, {"deep": None}]}}, "quantity",
     "Send a whole number."),
    ({"product_id": 1, "quantity": "三"}, "quantity", "Send a whole number."),
    ({"product_id": 1, "quantity": 0}, "quantity", "at least 1"),
    ({"product_id": 1, "quantity": -3}, "quantity", "at least 1"),
    ({"product_id": 1, "quantity": 5_000_000}, "quantity", "at most 1,000,000"),
    ({"product_id": 1, "quantity": 10 ** 30}, "quantity", "out of range"),
    ({"product_id": 1, "quantity": 1e30}, "quantity", "out of range"),
    ({"product_id": 10 ** 30, "quantity": 1}, "product_id", "out of range"),
    ({"product_id": -1, "quantity": 1}, "product_id", "from 1 up"),
    ({"product_id": 0, "quantity": 1}, "product_id", "from 1 up"),
])
def test_adding_bad_input_is_a_400_that_changes_nothing(client, cart, widget, body, field,
                                                        message):
    assert widget.id == 1
    client.post_json(f"/api/carts/{cart}/items", {"product_id": 1, "quantity": 1})
    error = is_json_error(client.post_json(f"/api/carts/{cart}/items", body, status=400), 400)
    assert message in error["errors"][field]
    assert cart_lines(cart) == [(1, 1)]


@pytest.mark.parametrize("body,field,message", [
    ({"product_id": 1, "quantity": 5}, "quantity", "Only 5 of Widget in stock"),
    ({"product_id": 999999, "quantity": 1}, "product_id", "There is no such product."),
])
def test_what_the_shop_cannot_do_is_a_409_that_changes_nothing(client, cart, widget, body,
                                                               field, message):
    """The request is well formed; the shop, as things stand, cannot do it."""
    client.post_json(f"/api/carts/{cart}/items", {"product_id": 1, "quantity": 1})
    error = is_json_error(client.post_json(f"/api/carts/{cart}/items", body, status=409), 409)
    assert message in error["errors"][field]
    assert cart_lines(cart) == [(1, 1)]


def test_a_whole_number_written_with_a_point_is_that_number(client, cart, widget):
    """JSON Schema, and so the document, counts 2.0 as the integer 2."""
    body = client.post_json(f"/api/carts/{cart}/items", {"product_id": float(widget.id),
                                                         "quantity": 2.0}, status=201).json
    assert [(i["product_id"], i["quantity"]) for i in body["items"]] == [(widget.id, 2)]
    client.patch_json(f"/api/carts/{cart}/items/{widget.id}", {"quantity": 3.0}, status=200)
    assert cart_lines(cart) == [(widget.id, 3)]


def test_every_bad_field_is_reported_at_once(client, cart):
    error = client.post_json(f"/api/carts/{cart}/items", {"product_id": "x"}, status=400).json
    assert set(error["errors"]) == {"product_id", "quantity"}


@pytest.mark.parametrize("quantity,message", [
    (-1, "at least 0"), ("1", "Send a whole number."), (2.5, "Send a whole number."),
    (None, "This field is required."), (10 ** 30, "out of range"), (2_000_000, "at most 1,000,000"),
])
def test_changing_to_a_bad_quantity_is_a_400_that_changes_nothing(client, cart, widget,
                                                                 quantity, message):
    client.post_json(f"/api/carts/{cart}/items", {"product_id": widget.id, "quantity": 2})
    error = is_json_error(client.patch_json(f"/api/carts/{cart}/items/{widget.id}",
                                            {"quantity": quantity}, status=400), 400)
    assert message in error["errors"]["quantity"]
    assert cart_lines(cart) == [(widget.id, 2)]


def test_changing_to_more_than_the_stock_is_a_409_that_changes_nothing(client, cart, widget):
    client.post_json(f"/api/carts/{cart}/items", {"product_id": widget.id, "quantity": 2})
    error = is_json_error(client.patch_json(f"/api/carts/{cart}/items/{widget.id}",
                                            {"quantity": 6}, status=409), 409)
    assert "Only 5 of Widget in stock" in error["errors"]["quantity"]
    assert cart_lines(cart) == [(widget.id, 2)]


def test_a_product_not_in_the_cart_is_a_404(client, cart, widget, gizmo):
    client.post_json(f"/api/carts/{cart}/items", {"product_id": widget.id, "quantity": 1})
    for ident in (gizmo.id, 999999, "abc"):
        body = is_json_error(client.patch_json(f"/api/carts/{cart}/items/{ident}",
                                               {"quantity": 1}, status=404), 404)
        assert body["message"]
        is_json_error(client.delete(f"/api/carts/{cart}/items/{ident}", status=404), 404)
    assert cart_lines(cart) == [(widget.id, 1)]


@pytest.mark.parametrize("body,content_type", [
    (b"", "application/json"),
    (b"not json", "application/json"),
    (b"[1, 2]", "application/json"),
    (b'"a string"', "application/json"),
    (b"42", "application/json"),
    (b"null", "application/json"),
    (b"{'single': 'quotes'}", "application/json"),
    (b'{"product_id": 1, "quantity": 1', "application/json"),
    (b"\xff\xfe\xfa", "application/json"),
    (b"[" * 50_000, "application/json"),                 # deeper than the parser's recursion
    (b"product_id=1&quantity=1", "application/x-www-form-urlencoded"),
])
def test_a_body_that_is_not_a_json_object_is_a_400(client, cart, widget, body, content_type):
    response = client.post(f"/api/carts/{cart}/items", body, content_type=content_type,
                           status=400)
    assert "JSON object" in is_json_error(response, 400)["message"]
    assert cart_lines(cart) == []


def test_unicode_in_the_body_is_fine(client, cart, widget):
    client.post_json(f"/api/carts/{cart}/items",
                     {"product_id": widget.id, "quantity": 1, "note": "café ☕ 𝄞"}, status=201)
    assert cart_lines(cart) == [(widget.id, 1)]


def test_a_body_over_100_kib_is_a_json_413(client, cart, widget):
    big = '{"product_id": 1, "quantity": 1, "pad": "' + "x" * 110_000 + '"}'
    response = client.post(f"/api/carts/{cart}/items", big, content_type="application/json",
                           status=413)
    is_json_error(response, 413)
    assert cart_lines(cart) == []


def test_a_body_over_100_kib_with_cookies_is_a_json_413(client, login_as, cart, widget):
    login_as("alice")      # the client now has cookies: check_csrf reads the body first
    big = '{"pad": "' + "x" * 110_000 + '"}'
    response = client.post(f"/api/carts/{cart}/items", big, content_type="application/json",
                           status=413)
    is_json_error(response, 413)


# CSRF #######################################################################################

def test_calls_without_cookies_need_no_csrf_token(client, widget):
    assert not client.cookies
    cart_id = client.post("/api/carts", status=201).json["id"]
    client.post_json(f"/api/carts/{cart_id}/items", {"product_id": widget.id, "quantity": 1},
                     status=201)
    client.patch_json(f"/api/carts/{cart_id}/items/{widget.id}", {"quantity": 2}, status=200)
    client.delete(f"/api/carts/{cart_id}/items/{widget.id}", status=204)


def test_calls_with_cookies_need_the_csrf_header(client, login_as, csrf, widget):
    cart_id = client.post("/api/carts").json["id"]
    login_as("alice")
    token = csrf()
    is_json_error(client.post("/api/carts", status=403), 403)
    is_json_error(client.post("/api/carts", headers={"X-CSRF-Token": "forged"}, status=403), 403)
    url = f"/api/carts/{cart_id}/items"
    is_json_error(client.post_json(url, {"product_id": widget.id, "quantity": 1},
                                   status=403), 403)
    client.post_json(url, {"product_id": widget.id, "quantity": 1},
                     headers={"X-CSRF-Token": token}, status=201)
    is_json_error(client.patch_json(f"{url}/{widget.id}", {"quantity": 3}, status=403), 403)
    is_json_error(client.delete(f"{url}/{widget.id}", status=403), 403)
    is_json_error(client.post_json("/api/orders", {"cart_id": cart_id}, status=403), 403)
    assert cart_lines(cart_id) == [(widget.id, 1)] and Order.select().count() == 0
    client.get(f"/api/carts/{cart_id}", status=200)       # reading needs no token


def test_a_cookie_header_python_cannot_parse_speaks_for_nobody(client, login_as, csrf, widget):
    """Beaker finds no session in it, so neither does the app: no user, hence no token
    needed, and nothing of the user's reachable."""
    login_as("alice")
    session = client.cookies["storefront_session"]
    broken = {"Cookie": f"storefront_session={session}; $x=2"}
    assert client.get("/api/orders", headers=broken, status=401)
    assert client.post("/api/carts", headers=broken, status=201)
    client.get("/api/orders", status=200)         # the same session, sent properly


def test_a_visitor_cookie_without_a_session_still_needs_the_token(client, widget):
    client.get("/accounts/login")             # a signed CSRF cookie, no session
    assert client.cookies
    is_json_error(client.post("/api/carts", status=403), 403)


# Carts: requests that arrive together ######################################################
# Each request from a thread and a client of its own, all released at once by a barrier.

RACERS = 20


def add_at_once(wsgi, cart_id, product_id, times):
    """POST the same line (one of the product) to a cart `times` at once."""
    clients = [new_client(wsgi) for _ in range(times)]
    return released_together([lambda c=c: c.post_json(
        f"/api/carts/{cart_id}/items", {"product_id": product_id, "quantity": 1},
        expect_errors=True) for c in clients])


def test_adds_to_one_cart_at_once_all_count(wsgi, cart, widget):
    """Attack (issue 25, case 4): 20 adds at once of one product to one cart lost 6 to 8 of
    them on PostgreSQL, and one was a 500."""
    Product.update(inventory=RACERS).where(Product.id == widget.id).execute()
    answers = add_at_once(wsgi, cart, widget.id, RACERS)
    assert statuses(answers) == [201] * RACERS, outcomes(answers)
    assert cart_lines(cart) == [(widget.id, RACERS)]


@pytest.mark.parametrize("bound", ["stock", "most a line holds"])
def test_adds_at_once_stop_exactly_at_the_bound_of_a_line(client, wsgi, cart, widget, bound):
    """The bound of a line (the stock, and models.MAX_QUANTITY) holds when adds race: as many
    are accepted as there is room for, the others are refused, 409 or 400, as one add alone."""
    room, refusal = 5, 409
    if bound == "most a line holds":
        Product.update(inventory=models.MAX_QUANTITY).where(Product.id == widget.id).execute()
        client.post_json(f"/api/carts/{cart}/items", {
            "product_id": widget.id, "quantity": models.MAX_QUANTITY - room}, status=201)
        refusal = 400
    else:
        assert widget.inventory == room
    answers = add_at_once(wsgi, cart, widget.id, RACERS)
    assert statuses(answers) == [201] * room + [refusal] * (RACERS - room), \
        outcomes(answers)
    assert cart_lines(cart) == [(widget.id, models.MAX_QUANTITY if refusal == 400 else room)]


FLOOD = 1000        # the POST /api/carts of issue 25's attack


def test_a_client_making_carts_in_a_loop_takes_no_one_elses(wsgi, widget, monkeypatch):
    """Attack (issue 25, case 6): 1,000 POST /api/carts from one client pushed the new, still
    empty carts of everyone else out of the table, and their first add was a 404. Now the
    flooder is refused (429) once it has made its share, and nobody else's cart goes."""
    now = models.utcnow()
    monkeypatch.setattr(models, "utcnow", lambda: now)     # one window, even at its end
    others = [new_client(wsgi, f"192.0.2.{n}") for n in range(1, RACERS + 1)]
    carts = [other.post("/api/carts", status=201).json["id"] for other in others]
    flooder = [new_client(wsgi, "198.51.100.7") for _ in range(RACERS)]
    batches = released_together([lambda c=c: [c.post("/api/carts", expect_errors=True)
                                              for _ in range(FLOOD // RACERS)] for c in flooder])
    added = [other.post_json(f"/api/carts/{cart}/items", {"product_id": widget.id,
                                                          "quantity": 1}, expect_errors=True)
             for other, cart in zip(others, carts)]
    assert statuses(added) == [201] * RACERS, "every other client's first add finds its cart"
    made = statuses(a for batch in batches for a in batch)
    share = models.CARTS_PER_CLIENT
    assert FLOOD > share and made == [201] * share + [429] * (FLOOD - share)
    refused = next(a for batch in batches for a in batch if a.status_int == 429)
    assert "carts" in is_json_error(refused, 429)["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= models.CARTS_WINDOW.total_seconds()
    new_client(wsgi, "192.0.2.200").post("/api/carts", status=201)    # others still may
    assert Cart.select().count() == RACERS + share + 1


# Orders #####################################################################################

@pytest.mark.parametrize("method,path", [
    ("get", "/api/orders"), ("get", "/api/orders/1"), ("post", "/api/orders"),
])
def test_orders_need_a_login(client, method, path):
    response = getattr(client, method + "_json")(path, {"cart_id": "x"}, status=401) \
        if method == "post" else client.get(path, status=401)
    assert "Log in" in is_json_error(response, 401)["message"]


def test_place_an_order_from_a_cart(client, shopper, widget, gizmo):
    cart_id = client.post("/api/carts", headers=shopper).json["id"]
    client.post_json(f"/api/carts/{cart_id}/items", {"product_id": widget.id, "quantity": 2},
                     headers=shopper)
    client.post_json(f"/api/carts/{cart_id}/items", {"product_id": gizmo.id, "quantity": 1},
                     headers=shopper)
    response = client.post_json("/api/orders", {"cart_id": cart_id}, headers=shopper,
                                status=201)
    order = Order.get()
    assert response.headers["Location"] == f"/api/orders/{order.id}"
    body = response.json
    assert body["id"] == order.id and body["payment_status"] == "pending"
    assert body["total"] == "28.00" and body["item_count"] == 3
    assert body["items"] == [
        {"product_id": widget.id, "title": "Widget", "unit_price": "12.50", "quantity": 2,
         "line_total": "25.00"},
        {"product_id": gizmo.id, "title": "Gizmo", "unit_price": "3.00", "quantity": 1,
         "line_total": "3.00"}]
    assert datetime.datetime.fromisoformat(body["placed_at"]).utcoffset() == datetime.timedelta(0)
    assert Product.get_by_id(widget.id).inventory == 3
    assert Product.get_by_id(gizmo.id).inventory == 9
    assert client.get(f"/api/carts/{cart_id}").json["items"] == []
    assert order.customer.user.username == "alice"


def test_orders_list_and_detail_keep_the_price_paid(client, shopper, widget):
    cart_id = client.post("/api/carts", headers=shopper).json["id"]
    client.post_json(f"/api/carts/{cart_id}/items", {"product_id": widget.id, "quantity": 1},
                     headers=shopper)
    order_id = client.post_json("/api/orders", {"cart_id": cart_id}, headers=shopper).json["id"]
    Product.update(unit_price=Decimal("99.00")).where(Product.id == widget.id).execute()
    listing = client.get("/api/orders").json
    assert listing["count"] == 1 and listing["page"] == 1 and listing["has_next"] is False
    assert listing["results"] == [{"id": order_id, "placed_at": listing["results"][0]["placed_at"],
                                   "payment_status": "pending", "item_count": 1,
                                   "total": "12.50"}]
    detail = client.get(f"/api/orders/{order_id}").json
    assert detail["items"][0]["unit_price"] == "12.50" and detail["total"] == "12.50"
    is_json_error(client.get("/api/orders", {"page": 2}, status=404), 404)


def test_someone_elses_order_is_a_404(client, shopper, make_user, widget):
    bob = make_user("bob")
    models.add_to_cart("6f1c2a52-0000-4000-8000-000000000000", widget.id, 1)
    theirs = models.place_order("6f1c2a52-0000-4000-8000-000000000000", give_profile(bob))
    assert client.get("/api/orders").json["results"] == []
    for ident in (theirs.id, 999999, "abc", "-1"):
        is_json_error(client.get(f"/api/orders/{ident}", status=404), 404)


def test_a_user_without_a_customer_profile_is_sent_to_checkout(client, login_as, csrf, widget):
    login_as("carol")
    headers = {"X-CSRF-Token": csrf()}
    assert client.get("/api/orders").json == {"count": 0, "page": 1, "has_next": False,
                                              "results": []}
    cart_id = client.post("/api/carts", headers=headers).json["id"]
    client.post_json(f"/api/carts/{cart_id}/items", {"product_id": widget.id, "quantity": 1},
                     headers=headers)
    error = is_json_error(client.post_json("/api/orders", {"cart_id": cart_id}, headers=headers,
                                           status=409), 409)
    assert "/checkout" in error["errors"]["customer"]
    assert Order.select().count() == 0 and cart_lines(cart_id) == [(widget.id, 1)]


@pytest.mark.parametrize("body,field,message", [
    ({}, "cart_id", "This field is required."),
    ({"cart_id": None}, "cart_id", "This field is required."),
    ({"cart_id": 12}, "cart_id", "Send a string."),
    ({"cart_id": ["x"]}, "cart_id", "Send a string."),
    ({"cart_id": {"id": "x"}}, "cart_id", "Send a string."),
    ({"cart_id": "not-a-uuid"}, "cart_id", "a UUID"),
    ({"cart_id": "é' OR 1=1 --"}, "cart_id", "a UUID"),
])
def test_placing_an_order_with_bad_input_is_a_400(client, shopper, body, field, message):
    error = is_json_error(client.post_json("/api/orders", body, headers=shopper, status=400), 400)
    assert message in error["errors"][field]
    assert Order.select().count() == 0


def test_a_cart_that_is_not_there_orders_nothing(client, shopper):
    error = is_json_error(client.post_json(
        "/api/orders", {"cart_id": "00000000-0000-0000-0000-000000000000"}, headers=shopper,
        status=409), 409)
    assert error["errors"] == {"cart_id": "There is no such cart."}
    assert Order.select().count() == 0


def test_an_empty_cart_orders_nothing(client, shopper):
    cart_id = client.post("/api/carts", headers=shopper).json["id"]
    error = is_json_error(client.post_json("/api/orders", {"cart_id": cart_id}, headers=shopper,
                                           status=409), 409)
    assert "empty" in error["errors"]["cart_id"]
    assert Order.select().count() == 0


def test_a_body_that_is_not_an_object_is_a_400_for_orders_too(client, shopper):
    response = client.post("/api/orders", b"[]", content_type="application/json",
                           headers=shopper, status=400)
    is_json_error(response, 400)


def test_out_of_stock_is_a_409_per_line_and_writes_nothing(client, shopper, widget, gizmo):
    cart_id = client.post("/api/carts", headers=shopper).json["id"]
    client.post_json(f"/api/carts/{cart_id}/items", {"product_id": widget.id, "quantity": 3},
                     headers=shopper)
    client.post_json(f"/api/carts/{cart_id}/items", {"product_id": gizmo.id, "quantity": 2},
                     headers=shopper)
    Product.update(inventory=1).where(Product.id == widget.id).execute()   # someone was faster
    error = is_json_error(client.post_json("/api/orders", {"cart_id": cart_id}, headers=shopper,
                                           status=409), 409)
    assert error["errors"] == {str(widget.id): "Only 1 of Widget in stock; you asked for 3."}
    assert Order.select().count() == 0 and OrderItem.select().count() == 0
    assert Product.get_by_id(widget.id).inventory == 1
    assert Product.get_by_id(gizmo.id).inventory == 10       # the other line was rolled back
    assert cart_lines(cart_id) == [(widget.id, 3), (gizmo.id, 2)]


def test_a_second_order_from_the_same_cart_is_refused(client, shopper, widget):
    cart_id = client.post("/api/carts", headers=shopper).json["id"]
    client.post_json(f"/api/carts/{cart_id}/items", {"product_id": widget.id, "quantity": 1},
                     headers=shopper)
    client.post_json("/api/orders", {"cart_id": cart_id}, headers=shopper, status=201)
    client.post_json("/api/orders", {"cart_id": cart_id}, headers=shopper, status=409)
    assert Order.select().count() == 1 and Product.get_by_id(widget.id).inventory == 4


def test_text_with_a_nul_character_is_a_json_400(client, shop):
    error = client.get("/api/products", {"q": "tea\x00"}, status=400).json
    assert error["status"] == 400 and "NUL" in error["message"]


# Orders: requests that arrive together #####################################################

def fill_cart(client, headers, *products):
    """A new cart holding one of each product, added in that order: its id."""
    cart_id = client.post("/api/carts", headers=headers).json["id"]
    for product in products:
        client.post_json(f"/api/carts/{cart_id}/items", {"product_id": product.id,
                                                         "quantity": 1}, headers=headers)
    return cart_id


def test_checkouts_at_once_of_the_same_products_in_any_order_all_pass(client, shopper, widget,
                                                                     gizmo):
    """Half the carts hold Widget then Gizmo, half Gizmo then Widget: checkouts that took the
    stock of their lines in cart order each held one product and waited for the other, and
    PostgreSQL ended one of them (a deadlock, a 500)."""
    Product.update(inventory=RACERS).execute()
    carts = [fill_cart(client, shopper, *((widget, gizmo) if n % 2 else (gizmo, widget)))
             for n in range(RACERS)]
    tabs = [twin(client) for _ in carts]
    answers = released_together([lambda tab=tab, cart=cart: tab.post_json(
        "/api/orders", {"cart_id": cart}, headers=shopper, expect_errors=True)
        for tab, cart in zip(tabs, carts)])
    assert statuses(answers) == [201] * RACERS, outcomes(answers)
    assert [p.inventory for p in Product.select().order_by(Product.id)] == [0, 0]


def test_adds_during_a_checkout_are_ordered_or_stay_in_the_cart(client, wsgi, shopper, widget):
    """An add that arrived while the cart was being ordered went into the line the checkout
    then emptied: neither ordered nor in the cart any more."""
    Product.update(inventory=RACERS).where(Product.id == widget.id).execute()
    cart_id = fill_cart(client, shopper, widget)
    adders = [new_client(wsgi) for _ in range(RACERS - 1)]
    answers = released_together(
        [lambda: client.post_json("/api/orders", {"cart_id": cart_id}, headers=shopper,
                                  expect_errors=True)]
        + [lambda c=c: c.post_json(f"/api/carts/{cart_id}/items", {
            "product_id": widget.id, "quantity": 1}, expect_errors=True) for c in adders])
    assert statuses(answers) == [201] * RACERS, outcomes(answers)
    ordered = OrderItem.get().quantity
    left = dict(cart_lines(cart_id)).get(widget.id, 0)
    assert ordered + left == RACERS, f"{ordered} ordered and {left} left of {RACERS} added"


# The description: OpenAPI ##################################################################
# The document is built from the operations' declarations (part 8); these tests hold it to
# the routes, to the settings and models it takes its limits from, and the API to those limits.

DOCUMENT = storefront.openapi_document()


def operations(document=DOCUMENT):
    """(METHOD, path, operation) of every operation of the document."""
    return [(method.upper(), path, operation) for path, methods in document["paths"].items()
            for method, operation in methods.items()]


def test_the_document_is_valid_openapi_3_1(client):
    document = client.get("/api/openapi.json").json
    validate_openapi(document)
    assert document["openapi"].startswith("3.1")
    assert document == storefront.openapi_document()


def test_the_document_follows_a_prefix_the_site_is_mounted_under(client):
    document = client.get("/shop/api/openapi.json", extra_environ={"SCRIPT_NAME": "/shop"}).json
    assert document["servers"] == [{"url": "/shop"}]


def api_routes():
    """(METHOD, path as OpenAPI writes it, route name) of every route under /api/."""
    return {(r.method, re.sub(r"<(\w+)(:[^>]*)?>", r"{\1}", r.rule), r.name)
            for r in storefront.root.routes if r.rule.startswith("/api/")}


THE_DESCRIPTION_ITSELF = {("GET", "/api/openapi.json", "api_openapi"),
                          ("GET", "/api/docs", "api_docs")}


def test_every_route_declares_an_operation_and_every_operation_is_routed():
    documented = {(method, path, operation["operationId"])
                  for method, path, operation in operations()}
    assert documented == api_routes() - THE_DESCRIPTION_ITSELF
    for route in storefront.root.routes:
        if route.rule.startswith("/api/") and route.name not in ("api_openapi", "api_docs"):
            assert isinstance(route.config.get("openapi"), storefront.Operation), route.name
    for _, path, operation in operations():
        assert [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"] == \
            re.findall(r"{(\w+)}", path)
        for answer in operation["responses"].values():
            for link in answer.get("links", {}).values():
                assert link["operationId"] in {name for _, _, name in documented}


def test_every_pointer_of_the_document_leads_somewhere():
    def pointers(node):
        if isinstance(node, dict):
            yield from ([node["$ref"]] if "$ref" in node else [])
            for value in node.values():
                yield from pointers(value)
        elif isinstance(node, list):
            for value in node:
                yield from pointers(value)
    found = set(pointers(DOCUMENT))
    assert found and all(storefront.resolve(DOCUMENT, {"$ref": r}) for r in found)


def parameter(path, name, method="get", document=DOCUMENT):
    return next(p for p in document["paths"][path][method]["parameters"] if p["name"] == name)


def test_the_documented_limits_are_those_of_the_code():
    schemas = DOCUMENT["components"]["schemas"]
    assert parameter("/api/products", "sort")["schema"]["enum"] == list(models.CATALOG_SORTS)
    assert schemas["Id"]["maximum"] == models.MAX_INT
    for body, least in (("NewLine", 1), ("QuantityChange", 0)):
        quantity = schemas[body]["properties"]["quantity"]
        assert (quantity["minimum"], quantity["maximum"]) == (least, models.MAX_QUANTITY)
        assert models.parse_quantity(least, allow_zero=least == 0) == least
        with pytest.raises(models.ValidationError):
            models.parse_quantity(least - 1, allow_zero=least == 0)
    with pytest.raises(models.ValidationError):
        models.parse_quantity(models.MAX_QUANTITY + 1)
    assert schemas["Order"]["properties"]["payment_status"]["enum"] == \
        ["pending", "complete", "failed"]
    assert f"{storefront.CATALOG_COUNT_LIMIT:,}" in \
        schemas["ProductPage"]["properties"]["count"]["description"]
    assert f"{storefront.bottle.BaseRequest.MEMFILE_MAX // 1024} KiB" in \
        DOCUMENT["components"]["responses"]["TooLarge"]["description"]
    minutes = models.CARTS_WINDOW // datetime.timedelta(minutes=1)
    assert f"{models.CARTS_PER_CLIENT} carts in {minutes} minutes" in \
        DOCUMENT["paths"]["/api/carts"]["post"]["responses"]["429"]["description"]


def test_the_search_is_cut_where_the_document_says(client):
    length = storefront.SEARCH_LENGTH
    assert f"the first {length} characters" in parameter("/api/products", "q")["description"]
    storefront.bottle.request.bind({"QUERY_STRING": "q=" + "a" * (length + 50)})
    assert storefront.catalog_params()[0] == "a" * length


def test_the_document_and_the_answers_follow_the_page_size(client, shop, login_as, settings):
    settings.page_size = 7
    document = client.get("/api/openapi.json").json
    for path in ("/api/products", "/api/orders"):
        assert "(7 to a page)" in parameter(path, "page", document=document)["description"]
    assert len(client.get("/api/products").json["results"]) == 7
    assert client.get("/api/products", {"page": 9}).json["has_next"] is False   # 60 = 8×7 + 4
    assert storefront.openapi_document() != DOCUMENT      # made when asked, not at import


def limits(kind):
    """(path, METHOD, name, minimum, maximum) of each whole number the document bounds: the
    query parameters (kind "query") or the fields of request bodies (kind "body")."""
    for method, path, operation in operations():
        if kind == "query":
            fields = {p["name"]: p["schema"] for p in operation.get("parameters", [])
                      if p["in"] == "query"}
        else:
            body = operation.get("requestBody", {"content": {"application/json": {
                "schema": {"properties": {}}}}})["content"]["application/json"]["schema"]
            fields = storefront.resolve(DOCUMENT, body)["properties"]
        for name, schema in fields.items():
            schema = storefront.resolve(DOCUMENT, schema)
            if schema.get("type") == "integer":
                yield path, method, name, schema["minimum"], schema["maximum"]


@pytest.mark.parametrize("path,method,name,least,most", list(limits("query")))
def test_a_query_is_refused_exactly_past_its_documented_limits(client, shop, login_as, path,
                                                               method, name, least, most):
    login_as("alice")

    def refused(value):
        response = client.get(path, {name: value}, expect_errors=True)
        return response.status_int == 400 and name in response.json["errors"]
    assert refused(least - 1) and refused(most + 1)
    assert not refused(least) and not refused(most)


def test_a_sort_is_refused_exactly_outside_the_documented_ones(client, shop):
    for sort in parameter("/api/products", "sort")["schema"]["enum"]:
        client.get("/api/products", {"sort": sort}, status=200)
    is_json_error(client.get("/api/products", {"sort": "colour"}, status=400), 400)


@pytest.mark.parametrize("path,method,name,least,most", list(limits("body")))
def test_a_body_is_refused_exactly_past_its_documented_limits(client, cart, widget, path, method,
                                                              name, least, most):
    if method == "PATCH":       # a line to change (adding to one would count what it holds)
        client.post_json(f"/api/carts/{cart}/items", {"product_id": widget.id, "quantity": 1})
    url = path.format(cart_id=cart, product_id=widget.id)

    def refused(value):
        body = dict({"product_id": widget.id, "quantity": 1}, **{name: value})
        response = client.request(url, method=method, body=json.dumps(body).encode(),
                                  content_type="application/json", expect_errors=True)
        return response.status_int == 400 and name in response.json["errors"]
    assert refused(least - 1) and refused(most + 1)
    assert not refused(most)        # first: it is more than the stock, so it changes nothing
    assert not refused(least)


def planted(monkeypatch, change):
    """product_json, planted with a change of its answer."""
    real = storefront.product_json

    def product_json(p):
        body = real(p)
        change(body)
        return body
    monkeypatch.setattr(storefront, "product_json", product_json)


@pytest.mark.parametrize("change,complaint", [
    (lambda body: body.update(name=body.pop("title")), "'title' is a required property"),
    (lambda body: body.update(colour="red"), "'colour' was unexpected"),
    (lambda body: body.update(unit_price=12.5), "12.5 is not of type 'string'"),
    (lambda body: body.update(price="12.5"), "does not match"),
    (lambda body: body.update(last_update="yesterday"), "is not a 'date-time'"),
    (lambda body: body["collection"].update(id="7"), "'7' is not of type 'integer'"),
])
@pytest.mark.parametrize("path", ["/api/products/1", "/api/products"])
def test_an_answer_that_strays_from_the_document_fails_the_tests(client, widget, monkeypatch,
                                                                 change, complaint, path):
    planted(monkeypatch, change)
    with pytest.raises(AssertionError, match=re.escape(complaint)):
        client.get(path)


def test_a_status_the_document_does_not_list_fails_the_tests(client, widget, monkeypatch):
    def conflict(p):
        storefront.api_error(409, "Planted.")
    monkeypatch.setattr(storefront, "product_json", conflict)
    with pytest.raises(AssertionError, match="lists only 200, 400, 401, 404, 429"):
        client.get("/api/products/1", status=409)


def test_an_error_body_is_held_to_the_document_too(client, monkeypatch):
    real = storefront.json_response
    monkeypatch.setattr(storefront, "json_response", lambda data, status=200: real(
        {("reason" if k == "message" else k): v for k, v in data.items()}, status))
    with pytest.raises(AssertionError, match="'message' is a required property"):
        client.get("/api/products/999", status=404)


# The description as a page ##################################################################

def test_the_docs_page_shows_every_operation_with_a_curl_example(client):
    page = client.get("/api/docs")
    assert page.content_type == "text/html"
    for method, path, operation in operations():
        article = re.search(rf'<article[^>]*>\s*<h3 id="{operation["operationId"]}">'
                            rf'(.*?)</article>', page.text, re.S).group(1)
        assert f"{method}</span> <code>{path.replace('/', '/<wbr>')}</code>" in article
        for status in operation["responses"]:
            assert f'<th scope="row">{status}</th>' in article
        curl = re.search(r'aria-label="curl example of [^"]+"><code>(.*?)</code>', article,
                         re.S).group(1)
        assert curl.startswith("curl -s") and "http://localhost:80/api/" in curl
    for name in DOCUMENT["components"]["schemas"]:
        assert f'<h3 id="schema-{name}">{name}</h3>' in page.text


def test_the_curl_examples_send_the_documented_body_and_credentials(client):
    page = client.get("/api/docs").text

    def curl(operation):
        return html.unescape(re.search(rf'aria-label="curl example of {operation}"><code>(.*?)<',
                                       page, re.S).group(1))
    assert curl("POST /api/carts/{cart_id}/items") == (
        "curl -s -X POST 'http://localhost:80/api/carts/6f1c2a52-9b7e-4d0c-8a31-52c1f0e4b9d7"
        "/items' \\\n     -H 'Content-Type: application/json' "
        "-d '{\"product_id\": 1, \"quantity\": 2}'")
    assert curl("GET /api/products") == \
        "curl -s 'http://localhost:80/api/products?q=tea&sort=-price'"
    for operation in ("POST /api/orders", "GET /api/orders"):       # a program's token
        assert '-H "Authorization: Bearer $STOREFRONT_TOKEN"' in curl(operation)
        assert "cookies.txt" not in curl(operation) and "X-CSRF" not in curl(operation)


def test_every_link_on_the_docs_page_leads_somewhere(client):
    page = client.get("/api/docs").text
    ids = set(re.findall(r' id="([^"]+)"', page))
    anchors = set(re.findall(r'href="#([^"]+)"', page))
    assert anchors and anchors <= ids
    for path in set(re.findall(r'href="(/[^"#]*)"', page)):
        assert client.get(path).status_int == 200


def test_the_docs_page_scroll_boxes_are_reachable_by_keyboard(client):
    page = client.get("/api/docs").text
    boxes = re.findall(r"<pre[^>]*>", page)
    assert len(boxes) > 13
    assert all('tabindex="0" role="region" aria-label="' in box for box in boxes)


def test_the_index_links_the_description(client):
    index = client.get("/api/").json
    assert client.get(index["docs"]).status_int == 200
    validate_openapi(client.get(index["openapi"]).json)


# Fuzzed against its own description #########################################################

def log_in_over_http(base, username):
    """The session cookie and CSRF token of a login through the site's own login form."""
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def token(path):
        page = browser.open(base + path).read().decode()
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"username": username, "password": PASSWORD, "csrf_token": token("/accounts/login")}
    browser.open(base + "/accounts/login", urllib.parse.urlencode(form).encode())
    return {c.name: c.value for c in jar}[storefront.SESSION_COOKIE], token("/accounts/")


@pytest.mark.parametrize("credentials", ["session", "token"])
def test_schemathesis_finds_nothing_wrong(live_server, shop, make_user, tmp_path, credentials):
    """Schemathesis reads /api/openapi.json and calls every operation with data made from it,
    valid and not, by its four phases (the documented examples, the edges of each schema,
    random data, chains of calls along the links), with all its checks: no 500, no status
    or header or body that the document does not give, invalid data refused, valid data
    accepted, login enforced. As the logged-in user, so that orders are reached too: once
    with a browser's session cookie and CSRF token, once with an API token.

    Bounded and repeatable: a fixed number of examples per operation, derandomized, and a
    time limit. A failure prints schemathesis' report, with curl commands to replay it."""
    user = make_user("fuzzer")
    give_profile(user)
    if credentials == "session":
        session_id, token = log_in_over_http(live_server, "fuzzer")
        auth = f"""
[auth.openapi.session]
api_key = "{session_id}"

[auth.openapi.csrfToken]
api_key = "{token}"
"""
    else:
        auth = f"""
[auth.openapi.bearer]
bearer = "{models.issue_token(user, "schemathesis")[1]}"
"""
    config = tmp_path / "schemathesis.toml"
    config.write_text(f"""
[generation]
deterministic = true
max-examples = 50
{auth}""")
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
               live_server + "/api/openapi.json", "--checks", "all", "--request-timeout", "10",
               "--no-color"]
    try:
        run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(f"schemathesis took over 120 s:\n{timeout.stdout}")
    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]
    count = len(api_routes() - THE_DESCRIPTION_ITSELF)      # the API's operations
    assert f"{count} selected / {count} total" in run.stdout, \
        f"schemathesis should have called the {count} operations of the API's routes:\n" \
        + run.stdout[-5_000:]
    assert re.search(r"\d+ generated, \d+ passed", run.stdout), run.stdout[-5_000:]
    if credentials == "token":      # it did call with the token
        assert models.ApiToken.get().last_used_at is not None
