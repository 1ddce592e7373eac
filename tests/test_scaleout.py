"""Several processes on PostgreSQL and Redis: gunicorn workers share sessions, cache and stock.

Runs in the PostgreSQL + Redis pass of the suite (see tests/conftest.py); skipped otherwise.
"""
import concurrent.futures
import html
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

import app as storefront
import models
from conftest import PASSWORD, REDIS_URL, SERVER_URL, subprocess_env

pytestmark = pytest.mark.skipif(not (SERVER_URL and REDIS_URL and shutil.which("gunicorn")),
                                reason="needs STOREFRONT_TEST_DATABASE_URL, "
                                       "STOREFRONT_TEST_REDIS_URL and gunicorn")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKERS = 3


class Browser:
    """A client with its own cookies, speaking to the server over real HTTP."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, path, data=None, method=None, headers=None):
        body = urllib.parse.urlencode(data).encode() if isinstance(data, dict) else data
        request = urllib.request.Request(self.base + path, data=body, method=method,
                                         headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def token(self):
        _, page = self.request("/accounts/login")
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def login(self, username):
        status, page = self.request("/accounts/login", {
            "username": username, "password": PASSWORD, "csrf_token": self.token()})
        assert status == 200 and "Log out" in page, page[:500]


@pytest.fixture
def gunicorn(settings, tmp_path):
    storefront.build(settings)                 # migrate the test database
    models.seed(products=40, customers=5)
    models.db.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = subprocess_env(tmp_path, DATABASE_URL=settings.database_url,
                         SESSION_URL=settings.session_url, CACHE_URL=settings.cache_url,
                         SECRET_KEY=settings.secret_key)
    log = open(tmp_path / "access.log", "w+")
    server = subprocess.Popen(
        [shutil.which("gunicorn"), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
         "--access-logfile", "-", "--access-logformat", "%(p)s %(m)s %(U)s %(s)s",
         "app:application"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/static/css/base.css", timeout=2)
            break
        except OSError:
            time.sleep(0.1)
    yield base, log
    server.terminate()
    server.wait(timeout=10)
    log.close()


def fetch_many(browser, path, times=30, at_once=6):
    """GET `path` many times, several at once: a worker busy with one request leaves the next
    to another worker, so every answer below came from more than one process."""
    with concurrent.futures.ThreadPoolExecutor(at_once) as pool:
        return list(pool.map(lambda _: browser.request(path), range(times)))


def served_by(log, path):
    """The worker pids that answered `path` with 200, from gunicorn's access log."""
    log.flush()
    log.seek(0)
    return {line.split()[0] for line in log if f" {path} 200" in line}


def test_a_session_made_in_one_worker_is_seen_by_the_others(gunicorn, make_user):
    base, log = gunicorn
    make_user("alice")
    browser = Browser(base)
    browser.login("alice")
    for status, page in fetch_many(browser, "/accounts/"):
        assert status == 200 and "alice@example.com" in page
    assert len(served_by(log, "/accounts/")) >= 2


def test_an_admin_edit_invalidates_the_cache_in_every_worker(gunicorn, make_user):
    base, log = gunicorn
    visitor = Browser(base)
    product = models.Product.get_by_id(7)
    models.TaggedItem.delete().where(models.TaggedItem.object_id == 7).execute()  # no inline rows
    for _ in range(15):
        assert product.title in visitor.request("/products/7")[1]
    make_user("boss", is_staff=True, is_superuser=True)
    staff = Browser(base)
    staff.login("boss")
    _, form = staff.request("/admin/product/7/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    status, page = staff.request("/admin/product/7/", {
        "csrf_token": token, "title": "Renamed Everywhere", "slug": "renamed",
        "description": "", "unit_price": "9.99", "inventory": "5",
        "collection": str(product.collection_id), "_save": ""})
    assert status == 200, re.findall(r'(?:class="errors"|flash-error).*?</', page, re.S)
    for status, page in fetch_many(visitor, "/products/7"):
        assert status == 200 and "Renamed Everywhere" in page
    assert len(served_by(log, "/products/7")) >= 2


def test_concurrent_checkouts_never_oversell(gunicorn, make_user):
    base, _ = gunicorn
    lamp = models.Product.create(title="Last Lamps", unit_price=25, inventory=4,
                                 collection=models.Collection.select().first())
    buyers = []
    for n in range(12):
        user = make_user(f"buyer{n}")
        models.save_customer_profile(user, "B", str(n), f"buyer{n}@example.com", "1 Road",
                                     "Town", "123")
        browser = Browser(base)
        browser.login(f"buyer{n}")
        status, cart = browser.request("/api/carts", b"{}", headers={
            "Content-Type": "application/json", "X-CSRF-Token": browser.token()})
        cart_id = json.loads(cart)["id"]
        status, _ = browser.request(f"/api/carts/{cart_id}/items", json.dumps(
            {"product_id": lamp.id, "quantity": 1}).encode(), headers={
            "Content-Type": "application/json", "X-CSRF-Token": browser.token()})
        assert status == 201
        buyers.append((browser, cart_id, browser.token()))

    def checkout(buyer):
        browser, cart_id, token = buyer
        return browser.request("/api/orders", json.dumps({"cart_id": cart_id}).encode(),
                               headers={"Content-Type": "application/json",
                                        "X-CSRF-Token": token})[0]
    with concurrent.futures.ThreadPoolExecutor(len(buyers)) as pool:
        statuses = list(pool.map(checkout, buyers))
    assert sorted(statuses) == [201] * 4 + [409] * 8, statuses
    assert models.Product.get_by_id(lamp.id).inventory == 0
    assert models.OrderItem.select().where(models.OrderItem.product == lamp.id).count() == 4


def staff_form(staff, path):
    """The admin form at `path` as a dict of its current values (text inputs and selects),
    read as a browser reads them: "&quot;" in a value is a quote."""
    _, page = staff.request(path)
    values = {name: html.unescape(value) for name, value in re.findall(
        r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)}
    values.update((name, html.unescape(text)) for name, text in re.findall(
        r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)<', page))
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page,
                                    re.S):
        chosen = [re.search(r'value="([^"]*)"', tag).group(1)
                  for tag in re.findall(r"<option[^>]*>", options) if " selected" in tag]
        if chosen:
            values[name] = chosen[0]
    values.pop("_selected", None)
    return values


def post_form(staff, path, **changes):
    data = dict(staff_form(staff, path), **changes)
    status, page = staff.request(path, data)
    assert status == 200, re.findall(r'(?:class="errors"|flash-error).*?</', page, re.S)


def buy(base, make_user, product, quantity):
    user = make_user("buyer")
    models.save_customer_profile(user, "B", "Uyer", "buyer@example.com", "1 Road", "Town", "1")
    buyer = Browser(base)
    buyer.login("buyer")
    headers = {"Content-Type": "application/json", "X-CSRF-Token": buyer.token()}
    cart = json.loads(buyer.request("/api/carts", b"{}", headers=headers)[1])["id"]
    buyer.request(f"/api/carts/{cart}/items", json.dumps(
        {"product_id": product.id, "quantity": quantity}).encode(), headers=headers)
    assert buyer.request("/api/orders", json.dumps({"cart_id": cart}).encode(),
                         headers=headers)[0] == 201


# Each kind of write the shop knows, and what a page shows once it is done: (the page, what
# the write does, text that must be on the page afterwards). The product is one with stock,
# no tags and no promotion.
WRITES = {
    "admin change": ("/products/{id}", lambda base, staff, make_user, p: post_form(
        staff, f"/admin/product/{p.id}/", title="Renamed Everywhere"), "Renamed Everywhere"),
    "admin list edit": ("/products?sort=-price", lambda base, staff, make_user, p: staff.request(
        "/admin/product/?q=" + urllib.parse.quote(p.title), {
            "csrf_token": staff.token(), "_row": str(p.id),
            f"row-{p.id}-unit_price": "999.99"}), "$999.99"),
    "admin action": ("/products/{id}", lambda base, staff, make_user, p: staff.request(
        f"/admin/product/actions", {"csrf_token": staff.token(), "action": "clear_inventory",
                                    "confirm": "1", "_selected": str(p.id)}), "Out of stock"),
    "checkout": ("/products/{id}", lambda base, staff, make_user, p: buy(
        base, make_user, p, p.inventory - 1), "Only 1 left"),
    "a like": ("/products/{id}", lambda base, staff, make_user, p: staff.request(
        f"/products/{p.id}/like", {"csrf_token": staff.token()}), "1 person likes this"),
    "a promotion's new discount": ("/products/{id}", lambda base, staff, make_user, p: post_form(
        staff, f"/admin/promotion/{models.Promotion.get(models.Promotion.discount > 0).id}/",
        discount="50"), "{half}"),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_every_kind_of_write_reaches_every_worker_and_every_visitor(gunicorn, make_user, write):
    base, log = gunicorn
    product = (models.Product.select().where(
        (models.Product.inventory >= 3) & models.Product.id.not_in(
            models.ProductPromotion.select(models.ProductPromotion.product)))
        .order_by(models.Product.id).first())
    models.TaggedItem.delete().where(models.TaggedItem.object_id == product.id).execute()
    promotion = models.Promotion.get(models.Promotion.discount > 0)
    models.ProductPromotion.create(product=product, promotion=promotion)
    product = models.Product.get_by_id(product.id)
    models.data_changed()
    path, do, expected = WRITES[write]
    path = path.format(id=product.id)
    expected = expected.format(half=f"${models.price_after(product.unit_price, 50):,}")
    make_user("boss", is_staff=True, is_superuser=True)
    make_user("shopper")
    visitor, shopper, staff = Browser(base), Browser(base), Browser(base)
    shopper.login("shopper")
    staff.login("boss")
    for browser in (visitor, shopper):              # every worker caches the page as it is
        assert all(expected not in page for _, page in fetch_many(browser, path, times=12))
    do(base, staff, make_user, product)
    for browser in (visitor, shopper):
        for status, page in fetch_many(browser, path, times=12):
            assert status == 200 and expected in page, f"{write}: a stale {path}"
    assert len(served_by(log, path.split("?")[0])) >= 2
