"""The shop charges what it shows: a product's price is its unit price less its best current
promotion, on every page, in the cart, at checkout, in the order, the API and the admin."""
import datetime
import re
from decimal import Decimal

import pytest

import models
from conftest import new_client
from models import Collection, OrderItem, Product, ProductPromotion, Promotion
from test_cart import add, checkout

TODAY = models.utcnow().date()
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def noon_of_one_day(monkeypatch):
    """Every test here runs at noon of TODAY: a run that passes midnight (UTC) would otherwise
    see the promotions dated from TODAY start or end under it."""
    noon = datetime.datetime.combine(TODAY, datetime.time(12))
    monkeypatch.setattr(models, "utcnow", lambda: noon)


@pytest.mark.parametrize("unit_price,discount,price", [
    ("10.01", "15", "8.51"),      # 8.5085
    ("1.05", "50", "0.53"),       # 0.525: half up, not to even
    ("19.99", "10", "17.99"),     # 17.991
    ("12.50", "0", "12.50"),
    ("12.50", "100", "0.00"),
])
def test_price_after_rounds_half_up_to_the_cent(unit_price, discount, price):
    assert models.price_after(Decimal(unit_price), Decimal(discount)) == Decimal(price)


@pytest.fixture
def lamp(wsgi):
    """A $40.00 lamp in Members' week (15% off, current), an expired 50% sale and a future
    60% one: it sells for $34.00."""
    collection = Collection.create(title="Home")
    lamp = Product.create(title="Brass Lamp", unit_price=Decimal("40.00"), inventory=9,
                          collection=collection)
    for description, discount, starts, ends in [("Members' week", 15, TODAY - DAY, TODAY + DAY),
                                                ("Summer sale", 50, None, TODAY - DAY),
                                                ("Next year", 60, TODAY + DAY, None)]:
        promotion = Promotion.create(description=description, discount=discount,
                                     starts_on=starts, ends_on=ends)
        ProductPromotion.create(product=lamp, promotion=promotion)
    return Product.get_by_id(lamp.id)


def shown_prices(html):
    """The prices of a page: (charged, struck through) as text, in order."""
    return re.findall(r"(\$[\d,.]+)\s*(?:<del class=\"price-was\"><span[^>]*>was </span>"
                      r"(\$[\d,.]+)</del>)?", html)


def test_only_current_promotions_count_and_the_best_one_wins(lamp):
    assert lamp.price == Decimal("34.00")
    extra = Promotion.create(description="Clearance", discount=30)
    ProductPromotion.create(product=lamp, promotion=extra)
    assert Product.get_by_id(lamp.id).price == Decimal("28.00")


def test_the_catalog_and_the_product_page_show_the_price_paid(client, lamp):
    catalog = client.get("/products")
    assert ("$34.00", "$40.00") in shown_prices(catalog.text)
    page = client.get(f"/products/{lamp.id}")
    assert ("$34.00", "$40.00") in shown_prices(page.text)
    assert "Members&#039; week — 15% off" in page.text
    assert "Summer sale" not in page.text and "Next year" not in page.text


def test_cart_checkout_and_order_charge_the_price_shown(client, login_as, lamp):
    login_as("alice")
    add(client, lamp, "2")
    cart = client.get("/cart")
    assert ("$34.00", "$40.00") in shown_prices(cart.text)
    assert re.search(r'class="num total">\$68.00<', cart.text)
    assert "Place order · $68.00" in client.get("/checkout").text
    _, done = checkout(client)
    item = OrderItem.get(OrderItem.product == lamp.id)
    assert (item.unit_price, item.list_price) == (Decimal("34.00"), Decimal("40.00"))
    order = done.follow()
    assert ("$34.00", "$40.00") in shown_prices(order.text)
    assert re.search(r'class="num total">\$68.00<', order.text)


def test_the_api_gives_the_list_price_and_the_price_paid(client, lamp):
    body = client.get(f"/api/products/{lamp.id}").json
    assert (body["unit_price"], body["price"]) == ("40.00", "34.00")
    cart = client.post("/api/carts").json["id"]
    body = client.post_json(f"/api/carts/{cart}/items", {"product_id": lamp.id, "quantity": 3},
                            status=201).json
    assert body["items"][0]["unit_price"] == "34.00" and body["total"] == "102.00"


def test_sorting_by_price_sorts_by_the_price_paid(client, lamp):
    cheaper = Product.create(title="Plain Lamp", unit_price=Decimal("35.00"), inventory=1,
                             collection=lamp.collection)
    ids = [p["id"] for p in client.get("/api/products", {"sort": "price"}).json["results"]]
    assert ids == [lamp.id, cheaper.id]     # $34.00 (from $40.00) before $35.00


def test_the_admin_reprices_when_promotions_or_links_change(client, login_as, lamp, csrf):
    login_as("boss", is_staff=True, is_superuser=True)
    members = Promotion.get(Promotion.description == "Members' week")
    form = client.get(f"/admin/promotion/{members.id}/").forms["admin-form"]
    form["discount"] = "25"
    form.submit(status=303)
    assert Product.get_by_id(lamp.id).price == Decimal("30.00")
    form = client.get(f"/admin/product/{lamp.id}/").forms["admin-form"]
    form["promotions"] = []             # the product leaves every promotion
    form.submit(status=303)
    assert Product.get_by_id(lamp.id).price == Decimal("40.00")
    form = client.get(f"/admin/product/{lamp.id}/").forms["admin-form"]
    form["promotions"] = [str(members.id)]
    form.submit(status=303)
    assert Product.get_by_id(lamp.id).price == Decimal("30.00")
    client.post(f"/admin/promotion/{members.id}/delete", {"csrf_token": csrf()}, status=303)
    assert Product.get_by_id(lamp.id).price == Decimal("40.00")
    page = client.get("/admin/product/")
    assert re.search(r'Brass Lamp</a>.*?value="40.00".*?\$40\.00', page.text, re.S)


def test_a_new_day_starts_and_ends_dated_promotions(client, wsgi, lamp, monkeypatch):
    stranger = new_client(wsgi)
    assert ("$34.00", "$40.00") in shown_prices(stranger.get("/products").text)  # now cached
    tomorrow = datetime.datetime.combine(TODAY + 2 * DAY, datetime.time(9))
    monkeypatch.setattr(models, "utcnow", lambda: tomorrow)
    page = stranger.get("/products")      # Members' week ended yesterday; next year is here
    assert ("$16.00", "$40.00") in shown_prices(page.text)
    assert Product.get_by_id(lamp.id).price == Decimal("16.00")
    assert models.PricingDay.get().day == TODAY + 2 * DAY


def test_a_promotion_cannot_end_before_it_starts(wsgi):
    with pytest.raises(models.ValidationError) as error:
        Promotion.create(description="Backwards", discount=5, starts_on=TODAY,
                         ends_on=TODAY - DAY)
    assert "ends_on" in error.value.errors
