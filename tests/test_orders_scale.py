"""Orders at scale: the sums an order and a customer keep (models.KEPT_SUMS) stay right
through every path that writes items or orders, `check --repair` finds and mends them, the
lists that read them, the streamed CSV export, and `seed --orders`."""
import csv
import datetime
import io
import re
import time
from decimal import Decimal

import peewee
import pytest
from webtest import TestRequest

import app as storefront
import models
from conftest import released_together, subprocess_env
from models import Customer, Order, OrderItem, Product


@pytest.fixture
def staff(login_as):
    return login_as("boss", is_staff=True, is_superuser=True)


def sums_of(order):
    """(total, item count) as the order keeps them, and as its items add up."""
    items = list(OrderItem.select().where(OrderItem.order == order.id))
    kept = Order.get_by_id(order.id)
    return ((kept.total, kept.item_count),
            (sum((i.unit_price * i.quantity for i in items), Decimal("0.00")),
             sum(i.quantity for i in items)))


def assert_kept_right(*orders):
    for order in orders:
        kept, added = sums_of(order)
        assert kept == added, order.id
    assert set(models.check_sums().values()) == {0}


def new_order(customer=None, lines=((1, "2.50"),)):
    customer = customer or Customer.select().order_by(Customer.id).first()
    order = Order.create(customer=customer)
    products = Product.select().order_by(Product.id)
    for product, (quantity, price) in zip(products, lines):
        OrderItem.create(order=order, product=product, quantity=quantity,
                         unit_price=Decimal(price))
    return order


# --- Every path that writes items ------------------------------------------------------------

def test_checkout_keeps_the_total_and_the_customers_count(client, login_as, shop):
    login_as("alice")
    products = list(Product.select().where(Product.inventory >= 3).order_by(Product.id)
                    .limit(2))
    for product, quantity in zip(products, ("3", "1")):
        page = client.get(f"/products/{product.id}")
        form = next(f for f in page.forms.values() if f.action == "/cart/items")
        form["quantity"] = quantity
        form.submit()
    form = next(f for f in client.get("/checkout").forms.values() if f.action == "/checkout")
    for name, value in {"first_name": "Alice", "last_name": "Liddell", "email": "a@example.com",
                        "street": "1 Rabbit Hole", "city": "Oxford", "zip": "OX1"}.items():
        form[name] = value
    form.submit(status=303)
    order = Order.select().order_by(Order.id.desc()).get()
    assert order.item_count == 4 and order.total == sum(
        p.price * q for p, q in zip(products, (3, 1)))
    assert order.customer.order_count == 1
    assert_kept_right(order)


def test_the_api_keeps_the_total(client, login_as, csrf, shop):
    login_as("alice")
    headers = {"X-CSRF-Token": csrf()}
    client.put_json("/api/profile", {"first_name": "Alice", "last_name": "Liddell",
                                     "email": "a@example.com", "street": "1 Rabbit Hole",
                                     "city": "Oxford", "zip": "OX1"}, headers=headers,
                    expect_errors=True)
    models.save_customer_profile(models.User.get(models.User.username == "alice"), "Alice",
                                 "Liddell", "a@example.com", "1 Rabbit Hole", "Oxford", "OX1")
    product = Product.select().where(Product.inventory >= 2).order_by(Product.id).first()
    cart = client.post("/api/carts", headers=headers).json["id"]
    client.post_json(f"/api/carts/{cart}/items", {"product_id": product.id, "quantity": 2},
                     headers=headers)
    body = client.post_json("/api/orders", {"cart_id": cart}, headers=headers, status=201).json
    order = Order.get_by_id(body["id"])
    assert order.total == product.price * 2 and body["total"] == str(order.total)
    assert body["item_count"] == order.item_count == 2
    assert_kept_right(order)


def test_the_admins_inline_rows_keep_the_total(client, staff, shop):
    order = new_order(lines=((1, "2.50"),))
    other = Product.select().order_by(Product.id.desc()).first()
    form = client.get(f"/admin/order/{order.id}/").forms["admin-form"]
    form["orderitem-0-quantity"] = "5"                      # change
    form["orderitem-1-product"] = str(other.id)             # add
    form["orderitem-1-quantity"] = "2"
    form["orderitem-1-unit_price"] = "3.00"
    form.submit("_continue", status=303)
    assert sums_of(order)[0] == (Decimal("18.50"), 7)
    form = client.get(f"/admin/order/{order.id}/").forms["admin-form"]
    form["orderitem-0-DELETE"] = "1"                        # delete
    form.submit("_continue", status=303)
    assert sums_of(order)[0] == (Decimal("6.00"), 2)
    assert_kept_right(order)


def test_an_added_order_keeps_its_total_and_counts_for_its_customer(client, staff, shop):
    customer = Customer.select().order_by(Customer.id).first()
    before = customer.order_count
    form = client.get("/admin/order/add").forms["admin-form"]
    form["customer"], form["payment_status"] = str(customer.id), "P"
    form["orderitem-0-product"] = str(Product.select().first().id)
    form["orderitem-0-quantity"], form["orderitem-0-unit_price"] = "3", "1.10"
    form.submit("_continue", status=303)
    order = Order.select().order_by(Order.id.desc()).get()
    assert sums_of(order)[0] == (Decimal("3.30"), 3)
    assert Customer.get_by_id(customer.id).order_count == before + 1
    assert_kept_right(order)


def test_deleting_items_and_orders_in_the_admin_keeps_the_sums(client, staff, shop):
    order = new_order(lines=((1, "2.50"), (2, "4.00"), (1, "1.00")))
    customer, count = order.customer, Customer.get_by_id(order.customer_id).order_count
    first, second = [i.id for i in order.items.order_by(OrderItem.id)][:2]
    client.post(f"/admin/orderitem/{first}/delete", {"csrf_token": csrf_token(client)},
                status=303)
    assert sums_of(order)[0] == (Decimal("9.00"), 3)
    page = client.post("/admin/orderitem/actions", {
        "csrf_token": csrf_token(client), "action": "delete_selected", "_selected": [second],
        "confirm": "1"})
    assert page.status_int == 303
    assert sums_of(order)[0] == (Decimal("1.00"), 1)
    client.post(f"/admin/order/{order.id}/delete", {"csrf_token": csrf_token(client)},
                status=303)
    assert Customer.get_by_id(customer.id).order_count == count - 1
    assert_kept_right()


def test_an_action_on_every_order_of_the_list_keeps_the_sums(client, staff, shop):
    client.post("/admin/order/actions", {
        "csrf_token": csrf_token(client), "action": "mark_complete", "select_across": "1",
        "_back": "payment_status=P", "confirm": "1"}, status=303)
    assert not Order.select().where(Order.payment_status == "P").exists()
    assert_kept_right(*Order.select())


def test_bulk_writes_of_the_model_layer_keep_the_sums(shop):
    order = new_order(lines=((1, "2.50"),))
    product = Product.select().order_by(Product.id.desc()).first()
    OrderItem.insert_many([{"order": order, "product": product, "quantity": 3,
                            "unit_price": Decimal("0.10")}] * 2).execute()
    assert_kept_right(order)
    OrderItem.update(quantity=OrderItem.quantity + 1).where(OrderItem.order == order).execute()
    assert_kept_right(order)
    moved = Order.create(customer=Customer.select().order_by(Customer.id.desc()).first())
    OrderItem.update(order=moved).where(OrderItem.product == product).execute()   # move
    assert_kept_right(order, moved)
    OrderItem.delete().where(OrderItem.order == moved).execute()
    Order.update(customer=order.customer).where(Order.id == moved.id).execute()
    assert_kept_right(order, moved)
    models.delete_rows(Order, Order.id.in_([order.id, moved.id]))
    assert_kept_right()


def test_items_written_at_once_all_count(shop):
    """Writes of one order's items in transactions at the same time: each trigger's UPDATE
    adds to what the others committed (PostgreSQL: the row lock; SQLite: one writer)."""
    order = new_order(lines=((1, "2.50"),))
    products = list(Product.select().order_by(Product.id).offset(1).limit(8))

    def write(product, n):
        def call():
            try:
                with models.write_transaction():
                    OrderItem.create(order=order.id, product=product, quantity=n,
                                     unit_price=Decimal("1.25"))
                    time.sleep(0.05)        # the others' transactions are open meanwhile
                    if n % 2:
                        OrderItem.update(quantity=OrderItem.quantity + 1).where(
                            (OrderItem.order == order.id) & (OrderItem.product == product)
                        ).execute()
            finally:
                models.db.close()
        return call
    results = released_together([write(p, n) for n, p in enumerate(products, 1)])
    assert [r for r in results if r is not None] == []
    assert_kept_right(order)
    assert Order.get_by_id(order.id).item_count == 1 + sum(n + n % 2 for n in range(1, 9))


# --- check --repair --------------------------------------------------------------------------

def spoil_sums(order):
    """Write with the triggers off, as a load or a hand-made fix might."""
    models.sum_triggers(False)
    OrderItem.update(quantity=OrderItem.quantity + 1).where(OrderItem.order == order).execute()
    Order.delete().where(Order.id == Order.create(customer=order.customer).id).execute()
    Order.insert(customer=order.customer).execute()
    models.sum_triggers(True)


def test_check_finds_wrong_sums_and_repair_mends_them(shop):
    order = new_order(lines=((1, "2.50"), (1, "1.00")))
    spoil_sums(order)
    assert models.check_sums() == {"order.total": 1, "order.item_count": 1,
                                   "customer.order_count": 1}
    assert models.check_sums(repair=True)["order.total"] == 1
    assert set(models.check_sums().values()) == {0}
    assert_kept_right(order)


def test_the_check_command_says_and_repairs(tmp_path):
    import subprocess
    import sys
    env = subprocess_env(tmp_path)
    for command in (["seed", "--products", "20", "--orders", "40"], ["check"]):
        done = subprocess.run([sys.executable, "app.py", *command], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    models.open_database(f"sqlite:///{tmp_path / 'storefront.sqlite3'}")
    spoil_sums(Order.select().first())
    models.db.close()
    done = subprocess.run([sys.executable, "app.py", "check"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "order.total is wrong in 1 rows" in done.stdout
    done = subprocess.run([sys.executable, "app.py", "check", "--repair"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Repaired order.total of 1 rows." in done.stdout
    done = subprocess.run([sys.executable, "app.py", "check"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout


ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


# --- seed --orders ---------------------------------------------------------------------------

def test_seed_makes_the_orders_asked_with_their_sums(wsgi):
    counts = models.seed(products=30, orders=400)
    assert counts == {"products": 30, "customers": 80, "orders": 400}
    assert Order.select().count() == 400 and Customer.select().count() == 80
    items = OrderItem.select().count()
    assert 400 <= items <= 4 * 400
    assert set(models.check_sums().values()) == {0}
    assert sum(c.order_count for c in Customer.select()) == 400
    # and the ids go on after those the load gave
    assert Order.create(customer=Customer.select().first()).id == 401 + Order.select(
        models.fn.MIN(Order.id)).scalar() - 1
    # and the foreign keys, which a load on PostgreSQL drops and adds again, are there
    with pytest.raises(peewee.IntegrityError), models.db.atomic():
        OrderItem.create(order=Order.select(models.fn.MAX(Order.id)).scalar() + 1,
                         product=Product.select().first(), quantity=1, unit_price=1)


# --- The lists -------------------------------------------------------------------------------

def csrf_token(client):
    page = client.get("/admin/")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


@pytest.mark.parametrize("sort", ["total", "-total", "customer", "payment_status", "-id"])
def test_orders_sort_by_the_kept_total(client, staff, shop, sort):
    spec = storefront.REGISTRY["order"]
    page = client.get("/admin/order/", {"sort": sort})
    ids = [int(i) for i in re.findall(r'name="_selected" value="(\d+)"', page.text)]
    assert ids == [o.id for o in storefront.ChangeList(spec, {"sort": sort}).query.limit(50)]
    if sort == "-total":
        totals = [Order.get_by_id(i).total for i in ids]
        assert totals == sorted(totals, reverse=True)


def in_python_order(rows, keys):
    """`rows` sorted by keys [(function of a row, descending)], first key first."""
    for key, descending in reversed(keys):
        rows = sorted(rows, key=key, reverse=descending)
    return rows


BY_CUSTOMER = [(lambda o: o.customer.last_name, False), (lambda o: o.customer.first_name, False),
               (lambda o: o.customer.id, False), (lambda o: o.id, False)]
BY_PRODUCT = [(lambda i: i.product.title, False), (lambda i: i.product.id, False),
              (lambda i: i.id, False)]


@pytest.mark.parametrize("model,params,keys,joined,left_out", [
    ("order", {"sort": "customer"}, BY_CUSTOMER, "customer", "product"),
    ("order", {"sort": "-customer", "payment_status": "C"},
     [(key, True) for key, _ in BY_CUSTOMER], "customer", "product"),
    ("orderitem", {"sort": "product"}, BY_PRODUCT, "product", "order"),
])
def test_deep_pages_sorted_by_a_related_name(client, staff, shop, monkeypatch, model, params,
                                             keys, joined, left_out):
    """Each deep page holds the rows a sort in Python puts there; their ids are found by
    joining only the table the sort names (the order items by product: not their orders),
    so that the rows skipped are read from indexes alone."""
    monkeypatch.setattr(models.Page, "DEFERRED_JOIN_AFTER", 2)
    monkeypatch.setattr(models.Page, "seek", lambda *args: None)    # as with the cache off
    monkeypatch.setattr(storefront.REGISTRY[model], "list_per_page", 3)
    rows = storefront.REGISTRY[model].model.select()
    if "payment_status" in params:
        rows = rows.where(Order.payment_status == params["payment_status"])
    expected = [row.id for row in in_python_order(list(rows), keys)]
    assert len(expected) > 9
    for page in (2, len(expected) // 3):
        with storefront.capture_queries() as queries:
            shown = client.get(f"/admin/{model}/", dict(params, page=page)).text
        ids = [int(i) for i in re.findall(r'name="_selected" value="(\d+)"', shown)]
        assert ids == expected[(page - 1) * 3:page * 3], (params, page)
        # (Few rows: picked among them, sorted on their own; more: found first, then joined.)
        ids_query = next(q["sql"] for q in queries if 'WITH "matches"' in q["sql"]
                         or "IN (SELECT" in q["sql"])
        inner = ids_query.split("IN (SELECT", 1)[-1]
        assert f'JOIN "{joined}"' in inner and f'JOIN "{left_out}"' not in inner, inner


@pytest.mark.parametrize("params,descending", [({"sort": "customer", "payment_status": "C"}, False),
                                               ({"sort": "-customer"}, True)])
def test_a_long_list_sorted_by_a_related_name_walks_that_table(client, staff, shop, monkeypatch,
                                                               params, descending):
    """More rows than the count's limit match: the page's ids are found by walking the
    customers in name order ("customer CROSS JOIN order", which SQLite takes as the order of
    its loops), not by sorting every match. Fewer: the matches are found and sorted on their
    own, not by walking every customer."""
    monkeypatch.setattr(storefront.REGISTRY["order"], "list_per_page", 3)
    rows = Order.select()
    if "payment_status" in params:
        rows = rows.where(Order.payment_status == params["payment_status"])
    expected = [o.id for o in in_python_order(list(rows), [(key, descending)
                                                            for key, _ in BY_CUSTOMER])]
    for limit, walked in ((3, True), (len(expected), False)):
        monkeypatch.setattr(storefront, "ADMIN_COUNT_LIMIT", limit)
        for page in (1, 2):
            with storefront.capture_queries() as queries:
                shown = client.get("/admin/order/", dict(params, page=page)).text
            ids = [int(i) for i in re.findall(r'name="_selected" value="(\d+)"', shown)]
            assert ids == expected[(page - 1) * 3:page * 3], (params, limit, page)
            crossed = any('"customer" AS "t2" CROSS JOIN "order"' in q["sql"] for q in queries)
            sorted_alone = any('WITH "matches"' in q["sql"] for q in queries)
            assert (crossed, sorted_alone) == (walked, not walked), (limit, page)


@pytest.mark.parametrize("cached", [False, True])
@pytest.mark.parametrize("model,params,in_order,joined", [
    ("order", {"sort": "-total", "payment_status": None}, True, False),    # an index of both
    ("order", {"sort": "customer"}, False, True),               # another table's column
    ("customer", {"sort": "first_name"}, False, False),
    ("customer", {}, True, False),                              # by name
])
def test_a_page_past_the_lists_limit_counts_further(client, staff, shop, monkeypatch, model,
                                                    params, in_order, joined, cached):
    """A page past the count's limit counts on, to DEEP_COUNT_TIMES the limit. Rows known
    to be that few are sorted on their own, unless an index holds them in order or a cache
    keeps boundary marks to start from (else the sort's index would be walked over the whole
    table to reach them); a page past their end is known to be empty without a walk. What
    the page says of the count stays "more than" the limit."""
    if not cached:
        monkeypatch.setattr(storefront, "cache", None)
    spec = storefront.REGISTRY[model]
    if "payment_status" in params:      # the status most orders have
        statuses = [o.payment_status for o in Order.select()]
        params = dict(params, payment_status=max(statuses, key=statuses.count))
    expected = [row.id for row in storefront.ChangeList(spec, params).query]
    reaching = -(-len(expected) // models.Page.DEEP_COUNT_TIMES)    # counts every row
    assert reaching > 1, "too few rows to count short of them"
    for limit in (reaching, reaching - 1):
        monkeypatch.setattr(storefront, "ADMIN_COUNT_LIMIT", limit)
        monkeypatch.setattr(spec, "list_per_page", limit)
        known = limit * models.Page.DEEP_COUNT_TIMES >= len(expected)
        for page in (1, 2, len(expected) + 1):
            with storefront.capture_queries() as queries:
                shown = client.get(f"/admin/{model}/", dict(params, page=page)).text
            ids = [int(i) for i in re.findall(r'name="_selected" value="(\d+)"', shown)]
            assert ids == expected[(page - 1) * limit:page * limit], (limit, page)
            sorted_alone = any('WITH "matches"' in q["sql"] for q in queries)
            # (Sorted by another table's column, few rows are sorted alone on any page.)
            assert sorted_alone == (page == 2 and known and (
                joined or not in_order and not cached)), (limit, page)
            if not ids:
                walked = [q["sql"] for q in queries if "OFFSET" in q["sql"]]
                assert bool(walked) == (not known), walked
                # Where the pages are, and no link to a page past the end either.
                last = f"or the last page ({-(-len(expected) // limit):,})"
                assert f"There is no page {page}." in shown and 'rel="prev"' not in shown
                assert (last in shown) == known, last
        # What the page says stays what the list's limit lets it say.
        assert f"More than {limit:,} results" in shown, limit


@pytest.mark.parametrize("sort", ["customer", "-customer"])
def test_a_deep_page_walks_the_other_table_from_its_mark(client, staff, shop, monkeypatch,
                                                         sort):
    """With a cache to keep the boundary marks, a deep page of a long list sorted by another
    table's column walks that table from the page's mark ("customer CROSS JOIN order", from
    the first key's range): the same rows as OFFSET gives. (Without the walk, SQLite sorted
    a year of orders to reach page 2,000 from its mark: 215 ms, then 9.)"""
    monkeypatch.setattr(models.Page, "DEFERRED_JOIN_AFTER", 2)
    monkeypatch.setattr(models.Page, "MARK_EVERY", 4)
    monkeypatch.setattr(storefront, "ADMIN_COUNT_LIMIT", 1)
    monkeypatch.setattr(storefront.REGISTRY["order"], "list_per_page", 3)
    expected = [o.id for o in storefront.ChangeList(storefront.REGISTRY["order"],
                                                    {"sort": sort}).query]
    assert len(expected) > 3 * 3, "too few orders for deep pages"
    for page in range(2, len(expected) // 3 + 1):       # each from its mark
        with storefront.capture_queries() as queries:
            shown = client.get("/admin/order/", {"sort": sort, "page": page}).text
        ids = [int(i) for i in re.findall(r'name="_selected" value="(\d+)"', shown)]
        assert ids == expected[(page - 1) * 3:page * 3], (sort, page)
        walk = [q["sql"] for q in queries if "CROSS JOIN" in q["sql"]]
        assert walk and ('"t2"."last_name" >=' in walk[0] or '"t2"."last_name" <=' in walk[0]) \
            and "ROW_NUMBER" not in walk[0], walk


@pytest.mark.parametrize("descending", [False, True])
def test_deep_pages_sorted_by_a_column_that_may_be_null_hold_every_row(shop, monkeypatch,
                                                                      descending):
    """No comparison with a boundary mark keeps a NULL: sorted by a column that may be NULL,
    a deep page skips by OFFSET (a page starting at a NULL mark was empty)."""
    for n, customer in enumerate(Customer.select().order_by(Customer.id)):
        customer.birth_date = None if n % 3 == 0 else datetime.date(1970 + n % 4, 1, 1)
        customer.save()
    monkeypatch.setattr(models.Page, "DEFERRED_JOIN_AFTER", 2)
    monkeypatch.setattr(models.Page, "MARK_EVERY", 2)
    memo = {}
    order = (Customer.birth_date.desc(), Customer.id.desc()) if descending else \
        (Customer.birth_date, Customer.id)
    query = Customer.select().order_by(*order)
    expected = [c.id for c in query]
    for number in range(1, len(expected) // 2 + 2):
        page = models.Page(query, number, 2, count_limit=1,
                           remember=lambda key, compute: memo.setdefault(key(), compute()))
        assert [c.id for c in page.items] == expected[(number - 1) * 2:number * 2], number
    assert any(key.startswith("marks ") for key in memo) is False


def test_a_page_stays_one_page_when_its_rows_changed_since_they_were_counted(shop,
                                                                           monkeypatch):
    """Counted few, the rows are picked among the matches; if by then they are no longer few
    (or the page is past their new end), the page is found as any list's: never every row."""
    query = storefront.ChangeList(storefront.REGISTRY["order"], {"sort": "customer"}).query
    expected = [o.id for o in in_python_order(list(Order.select()), BY_CUSTOMER)]
    monkeypatch.setattr(models.Page, "among_matches", lambda self, query, offset: (None, None))
    page = models.Page(query, 2, 3, count_limit=len(expected))
    assert [row.id for row in page.items] == expected[3:6]
    assert len(page._rows) == 4         # the page and one row to tell there is a next


def test_a_list_counts_and_picks_its_page_from_its_own_table(client, staff, shop):
    """The order items join their orders and products for their columns only: counting
    10,000 of them, or sorting a year of orders, should not make those joins for every row.
    The count reads the list's rows alone; the page's ids are found first, then their rows
    are joined."""
    with storefront.capture_queries() as queries:
        page = client.get("/admin/orderitem/", {"sort": "-quantity"})
    count = next(q["sql"] for q in queries if "COUNT(" in q["sql"] and "order_item" in q["sql"])
    assert "JOIN" not in count, count
    rows = next(q["sql"] for q in queries if "IN (SELECT" in q["sql"])
    assert "JOIN" not in rows.split("IN (SELECT", 1)[1], rows
    shown = [int(i) for i in re.findall(r'name="_selected" value="(\d+)"', page.text)]
    assert shown == [i.id for i in in_python_order(
        list(OrderItem.select()), [(lambda i: i.quantity, True), (lambda i: i.id, True)])][:50]


def zuses():
    """Five customers named Zuse, who sort after every other customer: the name to search."""
    for n, first in enumerate(("Konrad", "Horst", "Ada", "Konrad", "Ursula")):
        Customer.create(first_name=first, last_name="Zuse", email=f"k{n}.zuse@example.com")
    assert Customer.select().order_by(Customer.last_name.desc()).first().last_name == "Zuse"
    return "Zuse"


# The customer list's order: by last name, first name, then id.
BY_NAME = [(lambda c: c.last_name, False), (lambda c: c.first_name, False),
           (lambda c: c.id, False)]


def searched_for(term):
    """The customers CustomerAdmin's search finds for one word, found in Python."""
    term = term.lower()
    return [c for c in Customer.select() if c.first_name.lower().startswith(term)
            or c.last_name.lower().startswith(term) or term in c.email.lower()]


@pytest.mark.parametrize("sort", [None, "-email"])
def test_a_search_picks_its_page_among_its_matches(client, staff, shop, monkeypatch, sort):
    """A search no index answers finds its matches first and sorts them for the page: walking
    the name index instead, testing each customer, would read the whole table to reach a name
    that sorts last. Each page holds what a sort in Python puts there."""
    monkeypatch.setattr(storefront.REGISTRY["customer"], "list_per_page", 2)
    last = zuses()
    keys = ([(lambda c: c.email, True)] if sort else
            [(lambda c: c.last_name, False), (lambda c: c.first_name, False)]) + \
        [(lambda c: c.id, bool(sort))]
    expected = [c.id for c in in_python_order(searched_for(last), keys)]
    assert len(expected) > 2, last
    for page in (1, 2):
        with storefront.capture_queries() as queries:
            shown = client.get("/admin/customer/", dict(q=last, page=page, **(
                {"sort": sort} if sort else {}))).text
        ids = [int(i) for i in re.findall(r'name="_selected" value="(\d+)"', shown)]
        assert ids == expected[(page - 1) * 2:page * 2], (sort, page)
        assert any('WITH "matches"' in q["sql"] for q in queries), "no page among the matches"
        assert not any("COUNT(1)" in q["sql"] and "WHERE" in q["sql"] for q in queries), \
            "the matches are counted in the same pass"
        trigrams = any("customer_search MATCH" in q["sql"] for q in queries)
        assert trigrams == models.is_sqlite(), "SQLite's index of trigrams, and only it"


def test_a_picker_finds_a_name_among_its_matches(client, staff, shop, monkeypatch):
    """The customer picker (at each letter typed) and the order list's customer filter find
    their rows as the customer list's first page does: a name that sorts last is picked
    among its matches, where walking the customers in name order would read them all."""
    monkeypatch.setattr(storefront.FieldFilter, "SHOWN", 2)
    last = zuses()
    expected = [c.id for c in in_python_order(searched_for(last), BY_NAME)]
    with storefront.capture_queries() as queries:
        picked = client.get("/admin/customer/autocomplete", {"q": last}).json["results"]
    assert [int(row["id"]) for row in picked] == expected[:20]
    assert any('WITH "matches"' in q["sql"] for q in queries), "walked, not picked"
    # Two letters make no trigram: no index finds their matches, and the rows are walked.
    prefix = last[:2]
    with storefront.capture_queries() as queries:
        picked = client.get("/admin/customer/autocomplete", {"q": prefix}).json["results"]
    assert [int(row["id"]) for row in picked] == [
        c.id for c in in_python_order(searched_for(prefix), BY_NAME)][:20]
    assert not any('WITH "matches"' in q["sql"] or "COUNT" in q["sql"] for q in queries)
    with storefront.capture_queries() as queries:
        page = client.get("/admin/order/", {"customer__search": last}).text
    shown = [int(i) for i in re.findall(r'customer=(\d+)"', page)]
    assert shown == expected[:storefront.FieldFilter.SHOWN], shown
    assert any('WITH "matches"' in q["sql"] for q in queries), "walked, not picked"
    every_customer = [q["sql"] for q in queries if 'FROM "customer"' in q["sql"]
                      and not re.search(r"\b(WHERE|LIMIT)\b", q["sql"])]
    assert not every_customer, every_customer


def test_every_picker_offers_what_its_search_run_whole_puts_first(client, staff, shop):
    """Each model's picker, searched for a word of its first row: the rows picked among the
    matches are those the spec's search, sorted and run whole, puts first."""
    asked = set()
    for name, spec in storefront.REGISTRY.items():
        term = a_term_found_in(spec)
        if term is None or not models.has_trigrams(term):
            continue
        whole = spec.sorted(spec.search(spec.model.select(), term), ())
        picked = client.get(f"/admin/{name}/autocomplete", {"q": term}).json["results"]
        assert [row["id"] for row in picked] == [str(r.get_id()) for r in whole][:20], name
        asked.add(name)
    assert {"customer", "product"} <= asked, asked      # the pickers searched by name


@pytest.mark.parametrize("sort,descending", [("product", False), ("-product", True)])
def test_a_search_sorted_by_a_related_name_picks_among_its_matches(client, staff, shop,
                                                                   monkeypatch, sort,
                                                                   descending):
    monkeypatch.setattr(storefront.REGISTRY["orderitem"], "list_per_page", 2)
    order = new_order(lines=[(1, "2.50")] * 5)
    expected = [i.id for i in in_python_order(
        list(OrderItem.select().where(OrderItem.order == order.id)),
        [(key, descending) for key, _ in BY_PRODUCT])]
    assert len(expected) == 5
    for page in (1, 3):
        shown = client.get("/admin/orderitem/", {"q": order.id, "sort": sort, "page": page})
        ids = [int(i) for i in re.findall(r'name="_selected" value="(\d+)"', shown.text)]
        assert ids == expected[(page - 1) * 2:page * 2], (sort, page)


def a_term_found_in(spec):
    """A word of the first row of `spec`'s list that its search finds (None: nothing to find)."""
    row = spec.model.select().order_by(spec.model._meta.primary_key).first()
    for field in spec.search_fields:
        value = getattr(row, field.lstrip("^="), None) if row else None
        value = getattr(value, "id", value)     # a foreign key's search is by its id
        if value not in (None, ""):
            return str(value).split()[0]
    return None


def test_every_list_searched_and_sorted_shows_what_its_query_does(client, staff, shop,
                                                                  monkeypatch):
    """Each list with a search, under each sortable column both ways and a page past the
    first: the page picked among the matches holds what the list's query, run whole, puts
    there (a spec's joins, related names, counts under an alias)."""
    asked = 0
    for name, spec in storefront.REGISTRY.items():
        term = a_term_found_in(spec)
        if term is None:
            continue
        monkeypatch.setattr(spec, "list_per_page", 2)
        columns = [c.name for c in spec.columns() if c.sort]
        for sort in [""] + [way + column for column in columns for way in ("", "-")]:
            params = {"q": term, "sort": sort}
            whole = [row.get_id() for row in storefront.ChangeList(spec, params).query]
            for page in (1, 2):
                shown = client.get(f"/admin/{name}/", dict(params, page=page)).text
                ids = re.findall(r'name="_selected" value="([^"]+)"', shown)
                assert ids == [str(i) for i in whole[(page - 1) * 2:page * 2]], (name, sort, page)
                asked += 1
    assert asked > 2 * len(storefront.REGISTRY), asked


def test_a_search_counts_further_than_a_list(client, staff, shop, monkeypatch):
    """Its matches are counted up to ADMIN_SEARCH_COUNT_LIMIT, to be sorted for its page; past
    that, the page walks the sort's index like any list's."""
    last = zuses()
    matches = len(searched_for(last))
    monkeypatch.setattr(storefront, "ADMIN_COUNT_LIMIT", 1)
    assert "More than 1 results" in client.get("/admin/customer/").text
    assert f"{matches:,} results" in client.get("/admin/customer/", {"q": last}).text
    past_the_end = client.get("/admin/customer/", {"q": last, "page": 9}).text
    assert f"{matches:,} results" in past_the_end and 'name="_selected"' not in past_the_end
    assert "0 results" in client.get("/admin/customer/", {"q": "no such name"}).text
    monkeypatch.setattr(storefront, "ADMIN_SEARCH_COUNT_LIMIT", matches - 1)
    by_name = [str(c.id) for c in in_python_order(searched_for(last), BY_NAME)][:50]
    # Walked, the customers are tested against the index's candidates while they are few
    # (SQLite), and one by one past CANDIDATES_AT_MOST: the same rows either way.
    for at_most, narrowed in ((matches, models.is_sqlite()), (matches - 1, False)):
        monkeypatch.setattr(Customer, "CANDIDATES_AT_MOST", at_most)
        with storefront.capture_queries() as queries:
            shown = client.get("/admin/customer/", {"q": last}).text
        assert f"More than {matches - 1:,} results" in shown
        walk = next(q["sql"] for q in queries
                    if "OFFSET" in q["sql"] and 'WITH "matches"' not in q["sql"])
        assert ("customer_search MATCH ?)" in walk) == narrowed, walk
        assert re.findall(r'name="_selected" value="(\d+)"', shown) == by_name, at_most


def test_customers_sort_by_their_kept_order_count(client, staff, shop):
    page = client.get("/admin/customer/", {"sort": "-orders"})
    ids = [int(i) for i in re.findall(r'name="_selected" value="(\d+)"', page.text)]
    counts = [Customer.get_by_id(i).order_count for i in ids]
    assert counts == sorted(counts, reverse=True) and counts[0] == max(
        Order.select(models.fn.COUNT(Order.id)).group_by(Order.customer).tuples())[0]


def test_a_big_tables_count_is_the_databases_estimate(client, staff, shop, monkeypatch):
    models.analyze()
    monkeypatch.setattr(models.row_count, "__defaults__", (1,))
    page = client.get("/admin/")
    assert re.search(r"about [\d,]+", page.text)
    monkeypatch.setattr(models.row_count, "__defaults__", (10 ** 9,))
    models.data_changed()       # forget the cached counts
    assert f">{Order.select().count():,}<" in client.get("/admin/").text


def test_the_date_drill_down_counts_no_further_than_its_limit(client, staff, shop,
                                                             monkeypatch):
    monkeypatch.setattr(models, "DATE_COUNT_LIMIT", 2)
    page = client.get("/admin/order/")
    assert "more than 2" in page.text


def test_select_all_counts_no_further_than_the_lists_limit(client, staff, shop, monkeypatch):
    monkeypatch.setattr(storefront, "ADMIN_COUNT_LIMIT", 3)
    page = client.post("/admin/order/actions", {
        "csrf_token": csrf_token(client), "action": "mark_complete", "select_across": "1",
        "_back": ""})
    assert "This will touch <strong>more than 3 orders</strong>" in page.text
    last = zuses()          # the list searched counts as far as it does
    page = client.post("/admin/customer/actions", {
        "csrf_token": csrf_token(client), "action": "delete_selected", "select_across": "1",
        "_back": f"q={last}"})
    assert f"<strong>{len(searched_for(last))} customers</strong>" in page.text


def test_a_deletion_plan_counts_no_further_than_the_lists_limit(client, staff, shop,
                                                                 monkeypatch):
    """What a deletion takes along is counted as a list counts (select all of a million
    orders counted their 2.5 million items: 396 ms on PostgreSQL, then 28), on the delete
    page and on an action's confirmation."""
    tag = models.Tag.create(label="everything")
    models.TaggedItem.insert_many([{"tag": tag.id, "content_type": "product", "object_id": i}
                                   for i in range(1, 151)]).execute()
    monkeypatch.setattr(storefront, "ADMIN_COUNT_LIMIT", 120)
    page = client.get(f"/admin/tag/{tag.id}/delete")
    assert "more than 120 tagged items</h3>" in page.text
    assert "… and more than 20 more" in page.text
    page = client.post("/admin/tag/actions", {
        "csrf_token": csrf_token(client), "action": "delete_selected", "select_across": "1",
        "_back": ""})
    assert "more than 120 tagged items</h3>" in page.text
    monkeypatch.setattr(storefront, "ADMIN_COUNT_LIMIT", 150)
    assert "150 tagged items</h3>" in client.get(f"/admin/tag/{tag.id}/delete").text


def test_a_deletion_plan_looks_for_tags_only_of_a_kind_of_row_that_has_them(client, staff,
                                                                            shop):
    """Looking for the tags of 200,000 orders gathered every one of their keys, when no order
    had a tag; an order that has one still shows it, and deleting takes it along."""
    order = Order.select().order_by(Order.id).first()
    with storefront.capture_queries() as queries:
        page = client.get(f"/admin/order/{order.id}/delete")
    assert "tagged item" not in page.text
    assert not any('"object_id" IN' in q["sql"] for q in queries), "looked for tags"
    models.TaggedItem.create(tag=models.Tag.create(label="rush"), content_type="order",
                             object_id=order.id)
    page = client.get(f"/admin/order/{order.id}/delete")
    assert "1 tagged item</h3>" in page.text
    page.forms["delete-form"].submit(status=303)
    assert not models.TaggedItem.select().where(models.TaggedItem.content_type == "order").exists()


def test_a_deletion_plan_names_the_first_rows_of_the_first_parents(client, staff, shop,
                                                                   monkeypatch):
    """The rows named are taken in the order of the foreign key's index, where the database
    stops at the sample: sorted by their own key, every order's items were sorted first."""
    monkeypatch.setattr(models.deletion_plan, "__defaults__", (5, None))
    first = Order.select().order_by(Order.id).first()
    late = OrderItem.create(order=first, product=Product.select().first(), quantity=1,
                            unit_price=Decimal("1.00"))
    page = client.post("/admin/order/actions", {
        "csrf_token": csrf_token(client), "action": "delete_selected", "select_across": "1",
        "_back": ""})
    named = [int(i) for i in re.findall(r'href="/admin/orderitem/(\d+)/"', page.text)]
    assert named == [i.id for i in OrderItem.select().order_by(OrderItem.order, OrderItem.id)
                     .limit(5)] and late.id in named, named


def test_a_shoppers_orders_come_a_page_at_a_time(client, login_as, shop, monkeypatch):
    user = login_as("alice")
    customer = models.save_customer_profile(user, "Alice", "Liddell", "a@example.com",
                                            "1 Rabbit Hole", "Oxford", "OX1")
    orders = [new_order(customer) for _ in range(storefront.settings.page_size + 1)]
    page = client.get("/orders")
    assert f"Order #{orders[-1].id}<" in page.text and f"Order #{orders[0].id}<" not in page.text
    page = client.get("/orders", {"page": 2})
    assert f"Order #{orders[0].id}<" in page.text


# --- CSV export ------------------------------------------------------------------------------

def test_the_export_streams_and_holds_every_row(client, staff, shop):
    cookie = "; ".join(f"{c.name}={c.value}" for c in client.cookiejar)
    request = TestRequest.blank("/admin/order/export.csv?payment_status=F",
                                headers={"Cookie": cookie},
                                environ={"REMOTE_ADDR": "127.0.0.1"})
    started = []
    body = client.app(request.environ, lambda status, headers, exc=None: started.append(status))
    assert started == ["200 OK"]
    assert not isinstance(body, (list, tuple, bytes)), "the body was built before it was sent"
    text = b"".join(body).decode()
    if hasattr(body, "close"):
        body.close()
    rows = list(csv.reader(io.StringIO(text)))
    failed = list(Order.select().where(Order.payment_status == "F").order_by(
        Order.placed_at.desc(), Order.id.desc()))
    assert rows[0] == ["id", "Placed at", "Customer", "Payment status", "Total"]
    assert [(int(r[0]), Decimal(r[4])) for r in rows[1:]] == [(o.id, o.total) for o in failed]


def test_every_export_writes_each_cell_as_its_row_says_across_batches(
        client, staff, shop, monkeypatch):
    # The export makes a whole batch's column text at once, from the database's own values:
    # each cell must still be what the row object's value says (a choice by its label, a related
    # row by its name, a number as it is, text defused), with batches of 3 rows.
    monkeypatch.setattr(storefront, "EXPORT_BATCH", 3)
    Product.update(title="=1+1").where(Product.id == 1).execute()
    Customer.update(first_name="-Eve").where(Customer.id == 1).execute()
    models.add_to_cart(models.Cart.create().id, 1, "2")
    models.Group.create(name="@editors")
    checked = set()
    for name, spec in storefront.REGISTRY.items():
        text = client.get(f"/admin/{name}/export.csv").text
        header, *rows = list(csv.reader(io.StringIO(text)))
        labels = {spec.field_label(n): n for n in spec.model._meta.fields}
        fields = [spec.model._meta.fields.get(labels.get(label)) for label in header[1:]]
        if any(field is None for field in fields):      # a computed column: read as objects
            continue
        query = storefront.ChangeList(spec, {}).query
        assert rows == [[str(obj.get_id())] + [expected_cell(obj, f) for f in fields]
                        for obj in query], name
        if rows:
            checked.add(name)
    assert {"order", "orderitem", "cart", "cartitem", "group", "address"} <= checked


def expected_cell(obj, field):
    value = getattr(obj, field.name)
    if field.choices and value in dict(field.choices):
        value = dict(field.choices)[value]
    return storefront.csv_text(value)


def test_an_exported_order_is_written_as_it_is_kept(client, staff, shop):
    # The export writes each cell from the database's own value: a moment and an amount as
    # they are (a spreadsheet reads them), a choice by its label, a related row by its name,
    # and a name that would start a formula defused.
    customer = Customer.create(first_name="=Eve", last_name="Moneypenny",
                               email="eve@example.com")
    order = new_order(customer, lines=((3, "2.50"), (1, "0.99")))
    Order.update(payment_status="F", placed_at=datetime.datetime(2026, 3, 4, 5, 6, 7, 89)) \
        .where(Order.id == order.id).execute()
    text = client.get("/admin/order/export.csv", {"payment_status": "F"}).text
    row = next(r for r in csv.reader(io.StringIO(text)) if r[0] == str(order.id))
    assert row == [str(order.id), "2026-03-04 05:06:07.000089", "'=Eve Moneypenny", "Failed",
                   "8.49"]


def select_all(client, model, back, action="delete_selected"):
    with storefront.capture_queries() as queries:
        page = client.post(f"/admin/{model}/actions", {
            "csrf_token": csrf_token(client), "action": action, "select_across": "1",
            "_back": back})
    return page, [q["sql"] for q in queries]


def test_a_plan_of_many_rows_reads_what_their_first_rows_take_along(client, staff, shop,
                                                                     monkeypatch):
    """Past the list's limit, a plan counts and names what the first rows selected take
    along: naming all the 200,000 pending orders in a query of their items gathered every
    key (40 ms a query); the keys' own condition is tested as rows are read."""
    pending = Order.select().where(Order.payment_status == "P")
    limit = pending.count() - 1
    assert limit >= 1, "too few pending orders to pass the limit"
    monkeypatch.setattr(models.deletion_plan, "__defaults__", (3, None))
    monkeypatch.setattr(storefront, "ADMIN_COUNT_LIMIT", limit)
    page, queries = select_all(client, "order", "payment_status=P")
    assert f"more than {limit} order items</h3>" in page.text
    named = [int(i) for i in re.findall(r'href="/admin/orderitem/(\d+)/"', page.text)]
    assert named == [i.id for i in OrderItem.select().where(OrderItem.order.in_(pending))
                     .order_by(OrderItem.order, OrderItem.id).limit(3)], named
    # A subquery "WHERE (payment_status = ?)" closed at once (no ORDER BY ... LIMIT) is
    # every pending order's key gathered.
    assert [q for q in queries if re.search(r'"payment_status" = (\?|%s)\)', q)], queries
    assert not [q for q in queries if re.search(r'"payment_status" = (\?|%s)\)\)', q)], queries


def test_a_plan_counts_every_row_where_the_first_ones_take_too_few_along(client, staff,
                                                                         shop, monkeypatch):
    monkeypatch.setattr(models.deletion_plan, "__defaults__", (2, None))
    monkeypatch.setattr(storefront, "ADMIN_COUNT_LIMIT", 2)
    Customer.update(membership="S").execute()
    gold = [Customer.create(first_name="Au", last_name=f"Rum {n}", email=f"au{n}@example.com",
                            membership="G") for n in range(4)]
    late = [new_order(gold[-1]) for _ in range(3)]
    page, _ = select_all(client, "customer", "membership=G")
    assert "more than 2 orders have them as their customer</h3>" in page.text
    named = [int(i) for i in re.findall(r'href="/admin/order/(\d+)/"', page.text)]
    assert named == [o.id for o in late[:2]], named


def test_a_plan_of_every_item_stops_at_the_orders_it_would_empty(client, staff, shop,
                                                                monkeypatch):
    """Every order keeps an item: selected all, the items group by order as far as the limit
    (every item of a million orders: 1.7 s a query, then 10 ms)."""
    monkeypatch.setattr(models.deletion_plan, "__defaults__", (3, None))
    monkeypatch.setattr(storefront, "ADMIN_COUNT_LIMIT", 5)
    page, queries = select_all(client, "orderitem", "")
    assert "more than 5 orders have them as their last order item</h3>" in page.text
    named = [int(i) for i in re.findall(r'href="/admin/order/(\d+)/"', page.text)]
    assert named == [o.id for o in Order.select().order_by(Order.id).limit(3)], named
    grouped = [q for q in queries if "HAVING" in q]
    assert grouped and all(
        re.search(r'HAVING .* ORDER BY "t\d+"\."order_id" LIMIT (\?|%s)\)', q)
        for q in grouped), grouped


def test_select_all_of_a_whole_list_deletes_every_row_and_what_they_take_along(client, staff,
                                                                                shop):
    tags = [models.Tag.create(label=f"t{n}") for n in range(3)]
    models.TaggedItem.insert_many([{"tag": t.id, "content_type": "product", "object_id": 1}
                                   for t in tags]).execute()
    page, _ = select_all(client, "tag", "")
    assert f"<h3>{models.TaggedItem.select().count()} tagged items</h3>" in page.text
    page.forms["confirm-form"].submit(status=303)
    assert not models.Tag.select().exists() and not models.TaggedItem.select().exists()


def test_keys_of_an_alias_are_named_by_their_keys(shop):
    """selected_by() gives a list's own condition only where it is written on the model
    itself: an alias's names another table."""
    pending = Order.alias()
    keys = pending.select(pending.id).where(pending.payment_status == "P")
    chosen = models.selected_by(keys)
    assert [o.id for o in Order.select().where(chosen).order_by(Order.id)] == \
        [o.id for o in Order.select().where(Order.payment_status == "P").order_by(Order.id)]


def test_an_action_on_many_rows_commits_a_chunk_at_a_time(client, staff, shop, monkeypatch):
    """Marking 200,000 orders complete held the write lock 25 s, and every checkout on SQLite
    failed meanwhile: each chunk of rows is a transaction of its own, and every row of the
    list is changed and logged once, whatever the chunks."""
    chunk, begun = 3, []
    monkeypatch.setattr(storefront, "ACTION_CHUNK", chunk)
    write_transaction = models.write_transaction
    monkeypatch.setattr(models, "write_transaction",
                        lambda: begun.append(1) or write_transaction())
    orders = [o.id for o in Order.select(Order.id).where(Order.payment_status != "C")]
    assert len(orders) > chunk, "too few orders to need chunks"
    page = client.post("/admin/order/actions", {
        "csrf_token": csrf_token(client), "action": "mark_complete", "select_across": "1",
        "_back": "", "confirm": "1"}, status=303).follow()
    assert f"{len(orders):,} rows changed" in page.text
    assert not Order.select().where(Order.payment_status != "C").exists()
    logged = [int(e.object_id) for e in models.AdminLogEntry.select().where(
        models.AdminLogEntry.model == "order")]
    assert sorted(logged) == sorted(o.id for o in Order.select(Order.id)), "logged once each"
    assert len(begun) >= -(-Order.select().count() // chunk), begun
