"""Order emails (part 6 of app.py): the customer's confirmation and the staff's notice of a
new order, the customer told when the admin completes or fails it; sent after the answer,
never failing a checkout."""
import datetime
import logging
import os
import re
import socket
import threading
import time
from decimal import Decimal

import pytest

import app as storefront
import models
from conftest import PASSWORD
from models import Collection, Order, Product, ProductPromotion, Promotion
from test_accounts import mails
from test_cart import ADDRESS, add, checkout
from test_saves import admins, race

STAFF = ["orders@example.com", "boss@example.com"]


@pytest.fixture
def lamp(wsgi):
    """A $40.00 lamp at 15% off today: it sells for $34.00."""
    lamp = Product.create(title="Brass Lamp <Deluxe>", unit_price=Decimal("40.00"),
                          inventory=9, collection=Collection.create(title="Home"))
    ProductPromotion.create(product=lamp, promotion=Promotion.create(
        description="Members' week", discount=15))
    return Product.get_by_id(lamp.id)


@pytest.fixture
def ordered(client, login_as, settings, lamp):
    """Alice ordered two lamps through the checkout, with the staff told of new orders."""
    settings.order_notify = STAFF
    login_as("alice")
    add(client, lamp, "2")
    checkout(client)[1].follow()
    return Order.get()


def parts(message):
    """The plain text and the HTML of a mail (it has both)."""
    assert message.get_content_type() == "multipart/alternative"
    return (message.get_body(("plain",)).get_content(),
            message.get_body(("html",)).get_content())


def test_the_customer_gets_a_confirmation_of_the_order(ordered, settings):
    customer_mails = [m for m in mails(settings) if m["To"] == ADDRESS["email"]]
    assert len(customer_mails) == 1
    message = customer_mails[0]
    assert message["Subject"] == f"Your order #{ordered.id} at Storefront"
    text, html = parts(message)
    link = f"http://localhost:80/orders/{ordered.id}"
    lines = list(models.order_lines(ordered))
    for line in lines:
        price, total = storefront.format_money(line.unit_price), \
            storefront.format_money(line.line_total)
        assert f"{line.quantity} × {line.product.title} at {price} (was $40.00): {total}" in text
        assert bottle_escape(line.product.title) in html and price in html
    assert f"Total: {storefront.format_money(models.lines_total(lines))}" in text
    assert "$68.00" in text                     # 2 × $34.00: the discount was charged
    for value in (ADDRESS["street"], ADDRESS["city"], ADDRESS["zip"], link):
        assert value in text and value in html
    assert f'href="{link}"' in html and "<Deluxe>" not in html    # escaped in HTML only


def bottle_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_the_staff_get_a_notice_with_a_link_to_the_admin(ordered, settings):
    staff_mails = {m["To"]: m for m in mails(settings) if m["To"] in STAFF}
    assert sorted(staff_mails) == sorted(STAFF)
    for message in staff_mails.values():
        assert message["Subject"] == f"New order #{ordered.id}: $68.00"
        text, html = parts(message)
        link = f"http://localhost:80/admin/order/{ordered.id}/"
        assert link in text and f'href="{link}"' in html
        assert ADDRESS["email"] in text and "Brass Lamp <Deluxe>" in text


def test_an_order_through_the_api_is_confirmed_too(client, login_as, csrf, lamp, settings):
    user = login_as("bob")
    models.save_customer_profile(user, "Bob", "Builder", "bob@example.com", "2 Yard", "Leeds",
                                 "LS1")
    headers = {"X-CSRF-Token": csrf()}
    cart_id = client.post("/api/carts", headers=headers).json["id"]
    client.post_json(f"/api/carts/{cart_id}/items", {"product_id": lamp.id, "quantity": 1},
                     headers=headers)
    order_id = client.post_json("/api/orders", {"cart_id": cart_id}, headers=headers,
                                status=201).json["id"]
    [message] = mails(settings)
    assert message["To"] == "bob@example.com"
    text, _ = parts(message)
    assert f"/orders/{order_id}" in text and "2 Yard" in text and "$34.00" in text


@pytest.fixture
def admin_client(client, ordered, settings, login_as):
    mails(settings)                     # the order's mails are out of the way
    for name in os.listdir(settings.data_dir + "/mail"):
        os.remove(os.path.join(settings.data_dir, "mail", name))
    client.post("/accounts/logout", {"csrf_token": csrf_token(client)})
    login_as("boss", is_staff=True, is_superuser=True)
    return client


def csrf_token(client):
    page = client.get("/accounts/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_completing_an_order_in_its_form_tells_the_customer(admin_client, ordered, settings):
    form = admin_client.get(f"/admin/order/{ordered.id}/").forms["admin-form"]
    form["payment_status"] = "C"
    form.submit(status=303)
    [message] = mails(settings)
    assert message["To"] == ADDRESS["email"]
    assert message["Subject"] == f"Your order #{ordered.id} is complete"
    text, html = parts(message)
    assert "$68.00" in text and f"/orders/{ordered.id}" in html
    form = admin_client.get(f"/admin/order/{ordered.id}/").forms["admin-form"]
    form.submit(status=303)             # saved again, the status unchanged: nobody is told
    assert len(mails(settings)) == 1


def test_the_failed_action_tells_each_customer_whose_order_it_changes(admin_client, ordered,
                                                                       settings):
    token = csrf_token(admin_client)
    admin_client.post("/admin/order/actions", [
        ("csrf_token", token), ("action", "mark_failed"), ("confirm", "1"),
        ("_selected", str(ordered.id))], status=303)
    assert Order.get_by_id(ordered.id).payment_status == "F"
    [message] = mails(settings)
    assert message["Subject"] == f"The payment of your order #{ordered.id} failed"
    assert f"http://localhost:80/orders/{ordered.id}" in parts(message)[0]
    admin_client.post("/admin/order/actions", [     # already failed: nothing changes, no mail
        ("csrf_token", token), ("action", "mark_failed"), ("confirm", "1"),
        ("_selected", str(ordered.id))], status=303)
    assert len(mails(settings)) == 1


def more_orders(ordered, count):
    """The order placed, and `count` more of its customer's."""
    return [ordered] + [Order.create(customer=ordered.customer) for _ in range(count)]


def marking_complete(client, orders):
    """A call that confirms the admin's action "mark complete" on `orders`."""
    token = csrf_token(client)
    return lambda: client.post("/admin/order/actions", [
        ("csrf_token", token), ("action", "mark_complete"), ("confirm", "1"),
        *[("_selected", str(order.id)) for order in orders]], status=303)


def test_the_mails_of_many_orders_go_to_the_mail_server_a_few_at_a_time(admin_client, ordered,
                                                                        settings, monkeypatch):
    """An action on thousands of orders opens a few connections at once, not one each."""
    at_once = 2
    monkeypatch.setattr(storefront, "_smtp_slots", threading.BoundedSemaphore(at_once))
    orders = more_orders(ordered, 3 * at_once)
    sent, open_now, most_open, lock = [], [0], [0], threading.Lock()

    class SlowSMTP:
        def __init__(self, host, port, timeout):
            with lock:
                open_now[0] += 1
                most_open[0] = max(most_open[0], open_now[0])

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            with lock:
                open_now[0] -= 1

        def send_message(self, message):
            time.sleep(0.1)         # a server's answer: time for other connections to open
            sent.append(message["Subject"])

    monkeypatch.setattr("smtplib.SMTP", SlowSMTP)
    settings.email_url = "smtp://mail.example.com:25"
    marking_complete(admin_client, orders)()
    storefront.background_done()
    deadline = time.monotonic() + 10        # the last few are sent by threads of their own
    while len(sent) < len(orders) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(sent) == sorted(f"Your order #{order.id} is complete" for order in orders)
    assert most_open[0] == at_once


def test_a_checkout_waits_for_a_turn_of_an_actions_mails_not_all_of_them(admin_client,
                                                                          ordered, monkeypatch):
    orders = more_orders(ordered, 5)
    turn = 2
    monkeypatch.setattr(storefront, "ORDER_MAILS_A_TURN", turn)
    sent, gate = [], threading.Event()
    monkeypatch.setattr(storefront, "send_order_mail", lambda order, *_: sent.append(order.id))
    storefront.in_background(gate.wait, 10)         # the background thread is busy meanwhile
    marking_complete(admin_client, orders)()
    storefront.in_background(sent.append, "a checkout's mail")
    gate.set()
    storefront.background_done()                    # every turn of the action's mails too
    assert sent.index("a checkout's mail") == turn
    assert sorted(sent[:turn] + sent[turn + 1:]) == [order.id for order in orders]


def test_admins_completing_the_same_orders_at_once_tell_each_customer_once(admin_client, wsgi,
                                                                          ordered, settings,
                                                                          monkeypatch):
    """On PostgreSQL each action reads the pending orders before the others commit (SQLite's
    writes take turns): the UPDATE checks the status again, and mails what it changed."""
    orders = more_orders(ordered, 19)
    update = Order.update       # each action reads the pending orders, then a moment passes
    monkeypatch.setattr(Order, "update", lambda *args, **kwargs: time.sleep(0.05) or
                        update(*args, **kwargs))
    race(*[marking_complete(browser, orders) for browser in admins(wsgi, 10)])
    storefront.background_done()
    assert sorted(message["Subject"] for message in mails(settings)) == \
        sorted(f"Your order #{order.id} is complete" for order in orders)


def test_a_rolled_back_status_change_tells_nobody(wsgi, lamp, settings):
    """The mail waits for the commit (models.on_commit): a change undone is never told."""
    told = []
    with pytest.raises(ZeroDivisionError):
        with models.write_transaction():
            models.on_commit(told.append, "sent")
            1 / 0
    with models.write_transaction():
        models.on_commit(told.append, "after commit")
        assert told == []
    assert told == ["after commit"]


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]       # closed once the block ends: nobody listens


def test_a_mail_server_that_is_down_fails_no_checkout(client, login_as, lamp, settings, caplog):
    settings.email_url = f"smtp://127.0.0.1:{closed_port()}"
    settings.order_notify = STAFF
    login_as("alice")
    add(client, lamp, "1")
    caplog.set_level(logging.ERROR, logger="storefront")
    page = checkout(client)[1].follow()
    order = Order.get()
    assert f"Order #{order.id} has been placed" in page.text
    storefront.background_done()
    deadline = time.monotonic() + 10
    while len([r for r in caplog.records if "Could not send" in r.getMessage()]) < 3 \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    failures = [r.getMessage() for r in caplog.records if "Could not send" in r.getMessage()]
    assert len(failures) == 1 + len(STAFF)
    assert any(ADDRESS["email"] in f and "refused" in f.lower() for f in failures), failures
    assert Order.get_by_id(order.id).items.count() == 1      # the order is kept
