"""The cart, checkout and the customer's orders (part 6 of app.py), and requests that race."""
import http.cookiejar
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal

import pytest

import app as storefront
import models
from conftest import PASSWORD, csrf_of, outcomes, released_together, statuses, twin
from models import Address, CartItem, Collection, Customer, Order, OrderItem, Product

HUGE = str(10 ** 30)
ADDRESS = {"first_name": "Alice", "last_name": "Liddell", "email": "alice@example.com",
           "street": "1 Rabbit Hole", "city": "Oxford", "zip": "OX1"}


@pytest.fixture
def widget(wsgi):
    collection = Collection.create(title="Gadgets")
    return Product.create(title="Widget", unit_price=Decimal("12.25"), inventory=5,
                          collection=collection)


@pytest.fixture
def gizmo(widget):
    return Product.create(title="Gizmo", unit_price=Decimal("3.10"), inventory=10,
                          collection=widget.collection)


def form_for(page, action):
    """The first form of the page that posts to `action`."""
    for form in page.forms.values():
        if form.action == action:
            return form
    raise AssertionError(f"no form posts to {action}")


def add(client, product, quantity="1"):
    """Add to the cart through the product page's form."""
    form = form_for(client.get(f"/products/{product.id}"), "/cart/items")
    form["quantity"] = quantity
    return form.submit(expect_errors=True)


def set_quantity(client, product, quantity):
    form = form_for(client.get("/cart"), f"/cart/items/{product.id}")
    form["quantity"] = quantity
    return form.submit(expect_errors=True)


def checkout(client, **changes):
    form = form_for(client.get("/checkout"), "/checkout")
    for name, value in dict(ADDRESS, **changes).items():
        form[name] = value
    return form, form.submit(expect_errors=True)


def lines():
    return [(item.product_id, item.quantity) for item in CartItem.select().order_by(CartItem.id)]


def badge(page):
    return int(re.search(r'class="cart-link"[^>]*>Cart <span class="badge">(\d+)<', page.text)
               .group(1))


# The cart ###################################################################################

def test_add_from_the_product_page(client, widget):
    response = add(client, widget, "2")
    assert response.status_int == 303 and response.headers["Location"].endswith("/cart")
    page = response.follow()
    assert "Added Widget to your cart." in page.text
    assert "$12.25" in page.text and "$24.50" in page.text
    assert lines() == [(widget.id, 2)] and badge(page) == 2


def test_add_from_the_catalog_grid_returns_to_the_catalog(client, widget, gizmo):
    catalog = client.get("/products", {"sort": "price"})
    form = next(f for f in catalog.forms.values()
                if f.action == "/cart/items" and f["product_id"].value == str(widget.id))
    response = form.submit()
    assert response.status_int == 303
    # Back to the same card of the same page, not the top of the catalog.
    assert response.headers["Location"].endswith(f"/products?sort=price#product-{widget.id}")
    page = response.follow()
    assert f'id="product-{widget.id}"' in page.text
    assert "Added Widget to your cart." in page.text and badge(page) == 1
    assert lines() == [(widget.id, 1)]


def test_adding_again_adds_to_the_line_and_the_nav_counts_items(client, widget, gizmo):
    add(client, widget, "2")
    add(client, widget, "1")
    add(client, gizmo, "4")
    assert lines() == [(widget.id, 3), (gizmo.id, 4)]
    assert badge(client.get("/products")) == 7
    assert badge(client.get("/")) == 7


def test_change_the_quantity_and_remove_a_line(client, widget, gizmo):
    add(client, widget, "1")
    add(client, gizmo, "1")
    response = set_quantity(client, widget, "4")
    assert response.status_int == 303
    assert "Updated Widget." in response.follow().text
    assert lines() == [(widget.id, 4), (gizmo.id, 1)]
    remove = [f for f in client.get("/cart").forms.values()
              if f.action == f"/cart/items/{gizmo.id}"][-1]       # the "Remove" button
    assert remove["quantity"].value == "0"
    page = remove.submit().follow()
    assert "Removed Gizmo from your cart." in page.text
    assert lines() == [(widget.id, 4)] and badge(page) == 4
    page = set_quantity(client, widget, "00").follow()      # zero, however it is written
    assert "Removed Widget from your cart." in page.text
    assert "Your cart is empty." in page.text and badge(page) == 0 and lines() == []


@pytest.mark.parametrize("quantity,message", [
    ("abc", "The quantity must be a whole number."),
    ("", "The quantity must be a whole number."),
    ("1.5", "The quantity must be a whole number."),
    ("0", "The quantity must be at least 1."),
    ("-2", "The quantity must be at least 1."),
    ("6", "Only 5 of Widget in stock; you asked for 6."),
    ("99999999999999999999", "The quantity can be at most 1,000,000."),
    ('"><b>bold</b>', "The quantity must be a whole number."),
])
def test_adding_a_bad_quantity_shows_the_product_page_and_changes_nothing(client, widget,
                                                                         quantity, message):
    response = add(client, widget, quantity)
    assert response.status_int == 400
    assert message in response.text and "<h1>Widget</h1>" in response.text
    assert "<b>bold</b>" not in response.text
    assert lines() == []


def test_the_stock_limit_counts_what_is_already_in_the_cart(client, widget):
    add(client, widget, "3")
    response = add(client, widget, "3")
    assert response.status_int == 400
    assert "Only 5 of Widget in stock; you asked for 6." in response.text
    assert lines() == [(widget.id, 3)]


def test_notices_never_unread_pile_up_past_what_a_cookie_holds(client, widget):
    """Attack: a script that never followed its redirects grew the notices' cookie to 260 KB
    (a browser drops any cookie over 4 KB, and with it every notice)."""
    Product.update(inventory=1000).where(Product.id == widget.id).execute()
    token = csrf_of(client)
    for _ in range(40):
        response = client.post("/cart/items", {"csrf_token": token, "product_id": widget.id,
                                                "quantity": "1"}, status=303)
    assert len(response.headers["Set-Cookie"]) < 4096
    page = response.follow()
    assert page.text.count("Added Widget to your cart.") == storefront.FLASHES_KEPT
    assert lines() == [(widget.id, 40)]


def test_adding_again_cannot_pass_the_most_a_line_may_hold(client, widget):
    """Attack: three adds of 1,000,000 (the most one add may ask) made a line of 3,000,000."""
    Product.update(inventory=5_000_000).where(Product.id == widget.id).execute()
    add(client, widget, "1000000")
    response = add(client, widget, "1")
    assert response.status_int == 400
    assert "The quantity can be at most 1,000,000." in response.text
    assert lines() == [(widget.id, 1_000_000)]


@pytest.mark.parametrize("quantity,message", [
    ("abc", "The quantity must be a whole number."),
    ("-1", "The quantity must be at least 0."),
    ("6", "Only 5 of Widget in stock; you asked for 6."),
    ("99999999999999999999", "The quantity can be at most 1,000,000."),
])
def test_changing_to_a_bad_quantity_shows_the_cart_and_changes_nothing(client, widget,
                                                                      quantity, message):
    add(client, widget, "2")
    response = set_quantity(client, widget, quantity)
    assert response.status_int == 400
    assert message in response.text and 'id="line-%d-error"' % widget.id in response.text
    assert lines() == [(widget.id, 2)]


def test_unknown_products_and_missing_carts_are_404(client, csrf, widget, gizmo):
    token = csrf()
    client.post("/cart/items", {"csrf_token": token, "product_id": "999999", "quantity": "1"},
                status=404)
    client.post("/cart/items", {"csrf_token": token, "product_id": "abc", "quantity": "1"},
                status=404)
    client.post(f"/cart/items/{widget.id}", {"csrf_token": token, "quantity": "1"},
                status=404)                     # no cart yet
    add(client, widget)
    client.post(f"/cart/items/{gizmo.id}", {"csrf_token": csrf(), "quantity": "1"},
                status=404)                     # not in the cart
    assert lines() == [(widget.id, 1)]


@pytest.mark.parametrize("path,data", [
    ("/cart/items", {"product_id": HUGE, "quantity": "1"}),
    (f"/cart/items/{HUGE}", {"quantity": "1"}),
])
def test_a_product_id_too_big_for_the_database_is_a_404(client, csrf, widget, path, data):
    add(client, widget)
    assert client.post(path, dict(data, csrf_token=csrf()), expect_errors=True).status_int == 404


def test_prices_show_two_decimals(client, widget):
    Product.update(unit_price=Decimal("12.50")).where(Product.id == widget.id).execute()
    assert "$12.50" in client.get(f"/products/{widget.id}").text


def test_the_cart_a_visitor_filled_survives_logging_in(client, login_as, widget):
    add(client, widget, "2")
    login_as("alice")
    page = client.get("/cart")
    assert "Widget" in page.text and badge(page) == 2
    assert lines() == [(widget.id, 2)]


# Checkout ###################################################################################

def test_checkout_requires_a_login(client, csrf, widget):
    add(client, widget)
    response = client.get("/checkout")
    assert response.status_int == 303
    location = urllib.parse.unquote(response.headers["Location"])
    assert "/accounts/login?next=/checkout" in location
    response = client.post("/checkout", dict(ADDRESS, csrf_token=csrf()))
    assert response.status_int == 303 and "/accounts/login" in response.headers["Location"]
    assert Order.select().count() == 0 and lines() == [(widget.id, 1)]


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(client, login_as):
    login_as("alice")
    response = client.get("/checkout")
    assert response.status_int == 303 and response.headers["Location"].endswith("/cart")
    assert "Your cart is empty." in response.follow().text


def test_the_first_checkout_creates_the_customer_profile(client, login_as, widget, gizmo):
    user = login_as("alice", first_name="Alice")
    add(client, widget, "2")
    add(client, gizmo, "1")
    review = client.get("/checkout")
    assert "Widget" in review.text and "$27.60" in review.text
    form = form_for(review, "/checkout")
    assert form["email"].value == "alice@example.com" and form["first_name"].value == "Alice"
    form, response = checkout(client)
    order = Order.get()
    assert response.status_int == 303 and response.headers["Location"].endswith(
        f"/orders/{order.id}")
    page = response.follow()
    assert f"Thank you! Order #{order.id} has been placed." in page.text
    customer = Customer.get(Customer.user == user)
    assert (customer.first_name, customer.last_name, customer.email) == \
        ("Alice", "Liddell", "alice@example.com")
    assert [(a.street, a.city, a.zip) for a in Address.select()] == \
        [("1 Rabbit Hole", "Oxford", "OX1")]
    assert order.customer_id == customer.id
    assert badge(page) == 0 and lines() == []
    # The next checkout finds the profile and fills the form with it.
    add(client, widget, "1")
    assert form_for(client.get("/checkout"), "/checkout")["street"].value == "1 Rabbit Hole"


def test_the_order_keeps_the_prices_paid_and_takes_the_stock(client, login_as, widget, gizmo):
    login_as("alice")
    add(client, widget, "2")
    add(client, gizmo, "3")
    checkout(client)
    items = {i.product_id: (i.quantity, i.unit_price) for i in OrderItem.select()}
    assert items == {widget.id: (2, Decimal("12.25")), gizmo.id: (3, Decimal("3.10"))}
    assert Product.get_by_id(widget.id).inventory == 3
    assert Product.get_by_id(gizmo.id).inventory == 7
    Product.update(unit_price=Decimal("99.99")).where(Product.id == widget.id).execute()
    page = client.get(f"/orders/{Order.get().id}")
    assert "$12.25" in page.text and "$24.50" in page.text and "$99.99" not in page.text


@pytest.mark.parametrize("changes,message", [
    ({"city": ""}, "This field is required."),
    ({"email": "not-an-email"}, "Enter a valid email address."),
    ({"first_name": "x" * 300}, "Field cannot be longer than 255 characters."),
    ({"first_name": " ", "city": "\t"}, "Write something here, not only spaces."),  # placed
])
def test_a_bad_address_re_renders_the_form_and_writes_nothing(client, login_as, widget, changes,
                                                              message):
    login_as("alice")
    add(client, widget, "1")
    form, response = checkout(client, **changes)
    assert response.status_int == 400 and message in response.text
    assert 'value="1 Rabbit Hole"' in response.text           # the shopper's input is kept
    assert Order.select().count() == 0 and Customer.select().count() == 0
    assert lines() == [(widget.id, 1)] and Product.get_by_id(widget.id).inventory == 5


@pytest.mark.parametrize("taken,typed", [("bob@example.com", "BOB@example.com"),
                                         ("Émile@example.com", "Émile@example.com")])
def test_checkout_does_not_tell_whose_email_an_address_is(client, login_as, make_user,
                                                         widget, taken, typed):
    """Attack (enumeration): "Another customer has this email" told any shopper who shops
    here. An address that is another customer's is simply not put on the profile. (One with
    a letter beyond ASCII was missed by the check, on SQLite, and was a 500.)"""
    bob = models.save_customer_profile(make_user("bob"), "Bob", "B", taken, "x", "y", "")
    login_as("alice")
    answers = []
    for email in [typed, "new@example.com"]:
        add(client, widget, "1")
        form, response = checkout(client, email=email)
        assert response.status_int == 303, response.text
        answers.append(response.follow().text.replace(email, ""))
        if email == typed:
            # The profile took the account's address, not bob's; bob's profile is as it was.
            assert Customer.get(Customer.user != bob.user).email == "alice@example.com"
            assert Customer.get_by_id(bob.id).email == taken
    first, second = (re.sub(r"\d+", "N", answer) for answer in answers)   # order numbers
    assert first == second
    assert Order.select().count() == 2
    assert Customer.get(Customer.user != bob.user).email == "new@example.com"


def test_out_of_stock_at_checkout_names_the_line_and_writes_nothing(client, login_as, widget,
                                                                    gizmo):
    login_as("alice")
    add(client, widget, "3")
    add(client, gizmo, "2")
    Product.update(inventory=1).where(Product.id == widget.id).execute()   # someone was faster
    form, response = checkout(client)
    assert response.status_int == 409
    assert "nothing was ordered" in response.text
    error = re.search(rf'id="line-{widget.id}-error"><li>([^<]+)<', response.text).group(1)
    assert error == "Only 1 of Widget in stock; you asked for 3."
    assert f'id="line-{gizmo.id}-error"' not in response.text
    assert Order.select().count() == 0 and OrderItem.select().count() == 0
    assert Product.get_by_id(widget.id).inventory == 1
    assert Product.get_by_id(gizmo.id).inventory == 10
    assert lines() == [(widget.id, 3), (gizmo.id, 2)]
    assert Customer.select().count() == 0 and Address.select().count() == 0   # no profile either


def test_a_double_submitted_checkout_places_one_order(client, login_as, widget):
    login_as("alice")
    add(client, widget, "2")
    form, first = checkout(client)
    assert first.status_int == 303
    second = form.submit()
    assert second.status_int == 303 and second.headers["Location"].endswith("/orders")
    assert "Your cart is empty; nothing was ordered." in second.follow().text
    assert Order.select().count() == 1 and Product.get_by_id(widget.id).inventory == 3


# Orders #####################################################################################

def test_the_orders_list_and_an_order(client, login_as, widget, gizmo):
    login_as("alice")
    page = client.get("/orders")
    assert "You have not ordered anything yet." in page.text
    add(client, widget, "2")
    checkout(client)
    add(client, gizmo, "1")
    checkout(client)
    first, second = Order.select().order_by(Order.id)
    page = client.get("/orders")
    assert page.text.index(f"#{second.id}") < page.text.index(f"#{first.id}")   # newest first
    assert "$24.50" in page.text and "$3.10" in page.text
    page = client.get(f"/orders/{first.id}")
    assert f"Order #{first.id}" in page.text and "Widget" in page.text and "Gizmo" not in page.text
    assert "Pending" in page.text


def test_a_product_title_is_escaped_in_the_cart_the_notices_and_the_order(client, login_as,
                                                                          widget):
    Product.update(title='Widget <script>alert("x")</script>').where(
        Product.id == widget.id).execute()
    login_as("alice")
    pages = [add(client, widget, "1").follow()]            # the notice and the cart
    checkout(client)
    pages.append(client.get(f"/orders/{Order.get().id}"))
    for page in pages:
        assert "Widget &lt;script&gt;" in page.text and "<script>alert(" not in page.text
    assert "<script>alert(" not in add(client, widget, "99").text    # the error names it too


def test_orders_need_a_login(client):
    for path in ("/orders", "/orders/1"):
        response = client.get(path)
        assert response.status_int == 303 and "/accounts/login" in response.headers["Location"]


def test_someone_elses_order_is_a_404(client, login_as, make_user, widget):
    models.add_to_cart("6f1c2a52-0000-4000-8000-000000000000", widget.id, 1)
    bobs = models.place_order("6f1c2a52-0000-4000-8000-000000000000", models.save_customer_profile(
        make_user("bob"), "Bob", "B", "bob@example.com", "x", "y", ""))
    login_as("alice")
    add(client, widget, "1")
    checkout(client)                        # alice has orders too: her list is not just empty
    for ident in (bobs.id, 999999, "abc", "-1"):
        client.get(f"/orders/{ident}", status=404)
    listed = {int(n) for n in re.findall(r'href="/orders/(\d+)"', client.get("/orders").text)}
    assert listed == {Order.get(Order.id != bobs.id).id}


# Requests that arrive together ##############################################################
# Each test releases its requests at once through a barrier, each from a thread and a client of
# its own, on the same application. On SQLite writers queue up; on PostgreSQL they interleave,
# and a rule that reads, decides, then writes breaks there first.

RACERS = 20


def test_a_first_checkout_sent_many_times_at_once_places_one_order(client, login_as, widget):
    """Attack (issue 25, case 4): a double-submitted first checkout, before the account had a
    customer profile, was a 500 for 3 of 20 on PostgreSQL: each made the profile, and the
    database refused all but one (unique customer email)."""
    login_as("alice")
    add(client, widget, "2")
    form = dict(ADDRESS, csrf_token=csrf_of(client))
    tabs = [twin(client) for _ in range(RACERS)]
    answers = released_together([lambda tab=tab: tab.post("/checkout", form, expect_errors=True)
                                 for tab in tabs])
    assert statuses(answers) == [303] * RACERS, outcomes(answers)
    order = Order.get()
    places = sorted(a.headers["Location"].split("/", 3)[-1] for a in answers)
    # One checkout placed the order; every other found the cart empty and ordered nothing.
    assert places == ["orders"] * (RACERS - 1) + [f"orders/{order.id}"]
    assert Customer.select().count() == 1 and Address.select().count() == 1
    assert order.customer.email == ADDRESS["email"]
    assert Product.get_by_id(widget.id).inventory == 3 and lines() == []


def test_adds_of_one_product_at_once_all_count(client, csrf, widget):
    """Attack (issue 25, case 4): 20 adds at once of one product to one cart lost 6 to 8 of
    them on PostgreSQL (each read the line, then wrote its quantity plus one), and one was a
    500 (two inserted the line)."""
    Product.update(inventory=RACERS).where(Product.id == widget.id).execute()
    add(client, widget)             # the session and its cart exist: every tab adds to it
    form = {"csrf_token": csrf(), "product_id": widget.id, "quantity": "1"}
    tabs = [twin(client) for _ in range(RACERS - 1)]
    answers = released_together([lambda tab=tab: tab.post("/cart/items", form,
                                                          expect_errors=True) for tab in tabs])
    assert statuses(answers) == [303] * (RACERS - 1), outcomes(answers)
    assert lines() == [(widget.id, RACERS)]


# Racing checkouts on a real server ##########################################################

class Browser:
    """A client with its own cookies, talking HTTP to a real server; follows no redirect."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), self._NoRedirect)
        self.token = None

    def request(self, method, path, form=None, json_body=None):
        headers, data = {}, None
        if form is not None:
            data = urllib.parse.urlencode(dict(form, csrf_token=self.token)).encode()
        elif json_body is not None:
            data, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        if self.token:
            headers["X-CSRF-Token"] = self.token
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def read_token(self, path):
        status, text = self.request("GET", path)
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)

    def log_in(self, username):
        self.read_token("/accounts/login")
        status, _ = self.request("POST", "/accounts/login",
                                 form={"username": username, "password": PASSWORD})
        assert status == 303
        self.read_token("/cart")          # the session's new token, from the logout form


@pytest.mark.parametrize("via", ["api", "checkout page"])
def test_racing_checkouts_sell_exactly_the_stock(live_server, make_user, via):
    collection = Collection.create(title="Limited")
    product = Product.create(title="Last Few", unit_price=Decimal("9.99"), inventory=5,
                             collection=collection)
    browsers = []
    for n in range(20):
        user = make_user(f"racer{n}")
        models.save_customer_profile(user, "Racer", str(n), f"racer{n}@example.com",
                                     f"{n} Track Road", "Monza", "")
        browser = Browser(live_server)
        browser.log_in(user.username)
        if via == "api":
            status, text = browser.request("POST", "/api/carts")
            assert status == 201, text
            browser.cart_id = json.loads(text)["id"]
            status, text = browser.request("POST", f"/api/carts/{browser.cart_id}/items",
                                           json_body={"product_id": product.id, "quantity": 1})
        else:
            status, text = browser.request("POST", "/cart/items",
                                           form={"product_id": product.id, "quantity": 1})
        assert status in (201, 303), text
        browsers.append(browser)

    start, results = threading.Barrier(len(browsers)), []

    def buy(browser, n):
        start.wait()
        if via == "api":
            results.append(browser.request("POST", "/api/orders",
                                           json_body={"cart_id": browser.cart_id}))
        else:
            results.append(browser.request("POST", "/checkout", form=dict(
                ADDRESS, email=f"racer{n}@example.com", first_name="Racer", last_name=str(n))))

    threads = [threading.Thread(target=buy, args=(b, n)) for n, b in enumerate(browsers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    statuses = sorted(status for status, _ in results)
    sold, refused = (201, 409) if via == "api" else (303, 409)
    assert statuses == [sold] * 5 + [refused] * 15, results
    assert not any("database is locked" in text for _, text in results)
    assert all("Last Few is out of stock." in text for status, text in results if status == 409)
    assert Product.get_by_id(product.id).inventory == 0
    assert Order.select().count() == 5
    assert OrderItem.select(models.fn.SUM(OrderItem.quantity)).scalar() == 5
