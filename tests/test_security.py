"""A real deployment's attacks: proxies and their headers, the Host header, what the debug
toolbar shows, bytes that are not UTF-8, pages a browser must not keep, carts anyone can
make, start-up checks. Each "Attack" test failed before the fix it guards."""
import csv
import datetime
import inspect
import io
import ipaddress
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal

import pytest

import app as storefront
import models
from conftest import PASSWORD, csrf_of, new_client, subprocess_env
from models import Cart, CartItem, Collection, Product, User
from test_accounts import log_in

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def staff(client, make_user):
    make_user("boss", is_staff=True, is_superuser=True)
    assert log_in(client, "boss").status_int == 303


# --- Proxies: X-Forwarded-* believed from trusted proxies only -----------------------------

@pytest.fixture
def proxied(settings):
    """The app behind nginx on this machine: connections come from 127.0.0.1, a trusted
    proxy; every other client is outside, with debug on for the toolbar's sake."""
    settings.trusted_proxies = [ipaddress.ip_network("127.0.0.1"),
                                ipaddress.ip_network("10.0.0.0/8")]
    settings.debug = True
    yield storefront.build(settings)
    settings.debug = False


def via_proxy(wsgi, forwarded_for, proto="http"):
    return new_client(wsgi, "127.0.0.1"), {"X-Forwarded-For": forwarded_for,
                                           "X-Forwarded-Proto": proto}


def test_forwarded_headers_from_anyone_are_not_believed(client, make_user):
    """Attack: Bottle builds request.url from X-Forwarded-Host and -Proto, whoever sends
    them, and a redirect's Location from request.url: a client chose where it pointed."""
    make_user("alice")
    response = log_in(client, headers={"X-Forwarded-Host": "evil.example",
                                       "X-Forwarded-Proto": "https"})
    assert response.status_int == 303
    assert response.headers["Location"] == "http://localhost:80/"
    assert "; secure" not in response.headers["Set-Cookie"].lower()


def test_behind_a_tls_proxy_links_and_cookies_are_https(proxied, make_user):
    """Attack: behind a TLS proxy the session cookie was never marked Secure."""
    make_user("alice")
    client, headers = via_proxy(proxied, "203.0.113.9", "https")
    response = log_in(client, headers=headers)
    assert response.headers["Location"] == "https://localhost:80/"
    session_cookie = [c for c in response.headers.getall("Set-Cookie")
                      if "storefront_session=" in c][0]
    assert "; Secure" in session_cookie


def test_the_toolbar_is_for_clients_inside_not_for_the_proxy(proxied, shop):
    """Attack: behind the README's nginx every visitor has the proxy's address, 127.0.0.1,
    which is internal: the debug toolbar showed to the whole internet."""
    for forwarded_for, shown in [("203.0.113.9", False),
                                 ("127.0.0.1, 203.0.113.9, 10.0.0.2", False),  # forged left
                                 ("127.0.0.1", True), ("forged, 127.0.0.1", True),
                                 ("not-an-address, 10.1.1.1", False)]:
        client, headers = via_proxy(proxied, forwarded_for)
        page = client.get("/products", headers=headers)
        assert ('id="debug-toolbar"' in page.text) == shown, forwarded_for
    outsider, headers = via_proxy(proxied, "203.0.113.9")
    outsider.get("/__debug__/", headers=headers, status=404)


def test_behind_a_proxy_each_client_is_counted_apart(proxied, make_user, monkeypatch, caplog):
    """Attack: behind the proxy, every client's failed logins counted against 127.0.0.1,
    so a few failures anywhere locked the whole site's logins, the admin's too."""
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    monkeypatch.setattr(models, "CLIENT_MAX_FAILURES", 6, raising=False)
    make_user("boss", is_staff=True)
    attacker, headers = via_proxy(proxied, "203.0.113.9")
    statuses = [log_in(attacker, f"name{n}", "wrong wrong", headers=headers).status_int
                for n in range(7)]
    assert statuses == [400] * 6 + [429]
    assert "failed login for 'name0' from 203.0.113.9" in caplog.text     # the log says who
    boss, headers = via_proxy(proxied, "198.51.100.7")
    assert log_in(boss, "boss", headers=headers).status_int == 303


# --- The Host header ----------------------------------------------------------------------

def test_a_request_for_another_host_is_refused(client, make_user, caplog):
    """Attack: any Host header was answered, and reflected into redirects (and so it would
    have been into the links of password reset emails)."""
    make_user("alice")
    page = client.get("/", headers={"Host": "evil.example"}, status=400)
    assert "does not answer to the host name" in page.text and "evil.example" not in page.text
    response = log_in(client, headers={"Host": "evil.example"})
    assert response.status_int == 400 and "Location" not in response.headers
    assert "add it to STOREFRONT_ALLOWED_HOSTS" in caplog.text
    client.get("/api/products", headers={"Host": "evil.example"}, status=400)


@pytest.mark.parametrize("host,allowed", [
    ("shop.example.com", True), ("shop.example.com:8443", True), ("SHOP.example.com.", True),
    ("example.org", True), ("a.b.example.org", True), ("badexample.org", False),
    ("localhost", False), ("shop.example.com@evil.example", False), ("[::1]", False),
    ("evil.example/shop.example.com", False), ("", False),
])
def test_allowed_hosts_match_names_and_domains(settings, host, allowed):
    settings.allowed_hosts = ["shop.example.com", ".example.org"]
    client = new_client(storefront.build(settings))
    response = client.get("/", headers={"Host": host}, expect_errors=True)
    assert (response.status_int != 400) == allowed


@pytest.mark.parametrize("path", ["/playground/", "/healthz"])
def test_a_request_without_a_host_header_is_answered(wsgi, path):
    """HTTP/1.0 has no Host header: such a request names no other site."""
    from webob import Request
    request = Request.blank(path, environ={"REMOTE_ADDR": "127.0.0.1"})
    del request.environ["HTTP_HOST"]
    assert request.get_response(wsgi).status_int == 200


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000", "[::1]:8000",
                                  "app.localhost"])
def test_by_default_localhost_names_are_allowed(client, host):
    assert client.get("/playground/", headers={"Host": host}).status_int == 200


@pytest.mark.parametrize("name,value,message", [
    ("ALLOWED_HOSTS", "https://shop.example.com", "is not a host name"),
    ("TRUSTED_PROXIES", "10.0.0.1, nginx", "'nginx' is not an IP address or network"),
    ("EMAIL_URL", "mailto:me@example.com", "use smtp://"),
    ("PAGE_SIZE", "abc", "'abc' is not a whole number of at least 1"),
    ("PAGE_SIZE", "0", "'0' is not a whole number"),
    ("SESSION_TIMEOUT", "-5", "'-5' is not a whole number"),
])
def test_a_setting_that_cannot_work_stops_the_start(settings, name, value, message):
    bad = storefront.Settings({"STOREFRONT_DATA_DIR": settings.data_dir,
                               "STOREFRONT_" + name: value})
    with pytest.raises(storefront.ImproperlyConfigured, match=re.escape(message)):
        storefront.build(bad)


# --- The debug toolbar shows no one's secrets ---------------------------------------------

def test_the_toolbar_shows_other_people_no_secrets(settings, make_user):
    """Attack: another person at an internal address read alice's session cookie (and could
    replay it) in the Headers panel, and her new password in the Request panel."""
    settings.debug = True
    wsgi = storefront.build(settings)
    make_user("alice")
    alice, colleague = new_client(wsgi), new_client(wsgi)
    assert log_in(alice).status_int == 303
    secrets_ = [alice.cookies["storefront_session"], alice.cookies["storefront_csrf"],
                csrf_of(alice), PASSWORD, "a new secret 42"]
    form = alice.get("/accounts/password").forms["password-form"]
    form["old_password"], form["password"], form["confirm"] = PASSWORD, *secrets_[-1:] * 2
    form.submit(status=303)
    secrets_.append(alice.cookies["storefront_session"])
    history = colleague.get("/__debug__/")
    pages = [history.text]
    for ident in set(re.findall(r"/__debug__/([0-9a-f]{12})/", history.text)):
        for panel in ("headers", "request", "sql", "logging"):
            pages.append(colleague.get(f"/__debug__/{ident}/{panel}").text)
    everything = "\n".join(pages)
    assert "storefront_session=********" in everything and "confirm" in everything
    for secret in secrets_:
        assert secret not in everything
    settings.debug = False


def test_the_toolbar_masks_a_password_reset_token(settings, make_user):
    settings.debug = True
    wsgi = storefront.build(settings)
    alice = make_user("alice")
    token = models.make_reset_token(alice, settings.secret())
    client = new_client(wsgi)
    client.get(f"/accounts/password/reset/{alice.id}/{token}", status=303)
    history = client.get("/__debug__/").text
    assert f"/accounts/password/reset/{alice.id}/********" in history and token not in history
    settings.debug = False


# --- Bytes that are not UTF-8 -------------------------------------------------------------

def raw_get(client, path, status):
    """GET `path` as a server hands it over: bytes as Latin-1 characters, the path already
    %-decoded. (WebTest itself refuses a path that is not UTF-8: the request goes straight to
    the app, with the client's cookies.)"""
    from webtest import TestRequest
    request = TestRequest.blank("/", environ={"REMOTE_ADDR": "127.0.0.1"}, headers={
        "Cookie": "; ".join(f"{c.name}={c.value}" for c in client.cookiejar)})
    path, _, query = path.partition("?")
    request.environ.update(PATH_INFO=path, QUERY_STRING=query)
    response = request.get_response(client.app)
    assert response.status_int == status
    return response


@pytest.mark.parametrize("path", [
    "/admin/product/?q=%FF", "/admin/product/?sort=%FF", "/admin/product/?%FF=1",
    "/admin/product/?collection=%FF", "/admin/product/?unit_price__gte=%C3%28",
    "/admin/product/export.csv?q=%FF", "/admin/product/autocomplete?q=%FF",
    "/products?q=%FF", "/products\xff", "/products/\xc0\xaf1", "/?%FF",
])
def test_a_url_that_is_not_utf8_is_a_400_page(client, staff, shop, path):
    """Attack: ?q=%FF (or a sort, a filter, an export) in the admin was a 500."""
    page = raw_get(client, path, status=400)
    assert "not valid UTF-8" in page.text and "<h1>Bad request</h1>" in page.text


@pytest.mark.parametrize("path", ["/?%FF", "/api/products?x=%FF", "/products?q=a%FFb"])
def test_with_debug_on_bad_bytes_are_still_a_400(settings, shop, path):
    """Attack: with debug on, the toolbar choked on them: the server's bare 500."""
    settings.debug = True
    client = new_client(storefront.build(settings))
    response = client.get(path, status=400)
    if path.startswith("/api/"):
        assert response.json["status"] == 400 and "UTF-8" in response.json["message"]
    assert client.get("/__debug__/").status_int == 200     # and it recorded them
    settings.debug = False


def test_a_forged_token_or_cookie_beyond_ascii_is_refused_not_a_500(client, make_user, shop):
    """Attack: a CSRF token or a signed cookie with a character beyond ASCII was a 500 (hmac's
    comparison raises on such a str)."""
    log_in(client, make_user("alice"))
    product = Product.select().first()
    client.post("/cart/items", {"csrf_token": "\u00e9" * 43, "product_id": product.id}, status=403)
    client.post("/cart/items", {"product_id": product.id}, headers={"X-CSRF-Token": "\xff"},
                status=403)                                     # a byte that is not UTF-8
    client.set_cookie("storefront_flash", "\u00e9.x")
    assert client.get("/products").status_int == 200


# --- Smaller holes -------------------------------------------------------------------------

def test_pages_with_a_visitors_data_are_not_stored(client, staff, shop):
    """Attack: the account, orders, checkout and admin pages (and the CSV export) could be
    kept by a browser or proxy, and shown to the next person at the computer."""
    client.post("/cart/items", {"product_id": Product.select().first().id, "quantity": "1",
                                "csrf_token": csrf_of(client)})
    for path in ["/accounts/", "/orders", "/checkout", "/cart", "/admin/",
                 "/admin/product/", "/admin/product/export.csv", "/api/orders"]:
        assert client.get(path).headers.get("Cache-Control") == "no-store", path
    anonymous = new_client(client.app)
    for path in ["/", "/products"]:
        assert "Cache-Control" not in anonymous.get(path).headers, path


def test_exported_cells_cannot_start_a_formula(client, staff, shop):
    for n, title in enumerate(["=1+1", "\t=cmd|'/c calc'!A0", "\r@SUM(A1)", "-2+3", "+x"]):
        Product.update(title=title).where(Product.id == n + 1).execute()
    rows = list(csv.reader(io.StringIO(client.get("/admin/product/export.csv").text)))
    titles = {row[0]: row[1] for row in rows[1:]}
    for n, title in enumerate(["=1+1", "\t=cmd|'/c calc'!A0", "\r@SUM(A1)", "-2+3", "+x"]):
        assert titles[str(n + 1)] == "'" + title


def test_a_multipart_field_over_the_limit_is_refused(client, staff, shop):
    """Attack: Bottle files a multipart text field over 100 KiB as an upload, so the form
    saw no description and saved the product with an empty one."""
    product = Product.get_by_id(1)
    form = client.get("/admin/product/1/").forms["admin-form"]
    fields = [(name, value) for name, value in form.submit_fields() if name != "description"]
    response = client.post("/admin/product/1/", fields + [("description", "x" * 200_000)],
                           content_type="multipart/form-data", status=413)
    assert "description&#039; holds more than 100 KiB" in response.text
    assert Product.get_by_id(1).description == product.description


@pytest.mark.parametrize("path", ["/", "/cart/items", "/accounts/login", "/admin/product/1/",
                                  "/playground/hello", "/api/carts", "/nowhere"])
@pytest.mark.parametrize("charset", ["nope", "latin-1"])
def test_a_form_in_another_or_unknown_charset_is_a_400(client, staff, shop, path, charset):
    """Attack (found by a fuzzer): a multipart form naming a charset Python does not know was
    a 500 on every URL (Bottle 0.13.4 let LookupError out; 0.13.5 reads it as UTF-8)."""
    body = b'--X\r\nContent-Disposition: form-data; name="q"\r\n\r\nabc\r\n--X--\r\n'
    from webtest import TestRequest         # WebTest would write its own Content-Type
    request = TestRequest.blank(path, method="POST", body=body, environ={
        "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": f"multipart/form-data; boundary=X; "
                                                    f"charset={charset}"})
    response = client.do_request(request, status=400)
    if path.startswith("/api/"):
        assert response.json["status"] == 400 and "UTF-8" in response.json["message"]
    else:
        assert "not sent as UTF-8" in response.text


def test_a_price_is_rounded_before_it_is_checked(client, staff, shop):
    """Attack: 99999999.995 passed the "below 100,000,000" check, then was stored rounded,
    as 100000000.00."""
    form = client.get("/admin/product/1/").forms["admin-form"]
    form["unit_price"] = "99999999.995"
    assert "Use a number below 100,000,000." in form.submit(status=400).text
    assert Product.get_by_id(1).unit_price < 100_000_000
    product = Product.get_by_id(2)
    product.unit_price = Decimal("0.995")       # 1.00 once rounded: a valid price
    product.save()
    assert Product.get_by_id(2).unit_price == Decimal("1.00")


def test_anonymous_carts_cannot_fill_the_table(client, shop, monkeypatch):
    """Attack: every POST /api/carts added a row, for anyone, for ever. A client may make
    CARTS_PER_CLIENT carts in a window, then is refused until the next one; an empty cart
    goes once it is older than EMPTY_CART_LIFETIME, a cart with items never."""
    monkeypatch.setattr(models, "CARTS_PER_CLIENT", 5)
    now = models.utcnow()
    monkeypatch.setattr(models, "utcnow", lambda: now)     # one window, even at its end
    kept = client.post("/api/carts").json["id"]
    client.post_json(f"/api/carts/{kept}/items", {"product_id": 1, "quantity": 1}, status=201)
    long_ago = now - models.EMPTY_CART_LIFETIME - datetime.timedelta(hours=1)
    Cart.update(created_at=long_ago).where(Cart.id == kept).execute()
    stale = Cart.create(created_at=long_ago)
    monkeypatch.setattr(models, "_stale_carts_purged_at", None)     # as in a new process
    made = [client.post("/api/carts", expect_errors=True).status_int for _ in range(12)]
    assert made == [201] * (models.CARTS_PER_CLIENT - 1) + [429] * (13 - models.CARTS_PER_CLIENT)
    assert Cart.get_or_none(Cart.id == stale.id) is None
    assert CartItem.select().where(CartItem.cart == kept).count() == 1
    assert Cart.select().count() == models.CARTS_PER_CLIENT       # its carts, all kept
    monkeypatch.setattr(models, "utcnow", lambda: now + models.CARTS_WINDOW)
    client.post("/api/carts", status=201)               # the next window: it may again


def test_an_empty_secret_key_file_stops_the_start_with_one_line(tmp_path):
    (tmp_path / "secret_key").write_text("")
    for command in (["runserver", "8"], ["check"]):
        result = subprocess.run([sys.executable, "app.py", *command], cwd=ROOT,
                                env=subprocess_env(tmp_path),
                                capture_output=True, text=True, timeout=60)
        assert result.returncode != 0 and "Traceback" not in result.stderr
        assert f"The secret key file {tmp_path / 'secret_key'} is empty" in result.stdout + \
            result.stderr


def test_processes_starting_together_share_one_secret_key(tmp_path):
    keys = {storefront.Settings({"STOREFRONT_DATA_DIR": str(tmp_path)}).secret()
            for _ in range(3)}
    assert len(keys) == 1 and len(keys.pop()) > 40
    assert os.stat(tmp_path / "secret_key").st_mode & 0o777 == 0o600
    assert os.listdir(tmp_path) == ["secret_key"]               # no drafts left behind


# --- python app.py check [--deploy], and runserver's hint ---------------------------------

def run_check(data_dir, *args, **env):
    environ = dict(subprocess_env(data_dir), **env)
    del environ["STOREFRONT_PASSWORD_ITERATIONS"]     # the real work factor: check judges it
    return subprocess.run([sys.executable, "app.py", "check", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=60)


def a_laptop_database(data_dir):
    """The default SQLite database of `data_dir`, migrated: what `check` reads there (the
    suite's own database may be PostgreSQL, which `check` would judge differently)."""
    models.open_database(f"sqlite:///{data_dir}/storefront.sqlite3")
    models.migrate()


def test_check_deploy_lists_what_is_unsafe(tmp_path):
    a_laptop_database(tmp_path)
    models.create_demo_admin("printed once")
    models.db.close()
    result = run_check(tmp_path, "--deploy")
    assert result.returncode == 1 and result.stderr.strip() == "4 problem(s) found."
    for words in ["STOREFRONT_SECURE_COOKIES is off", "STOREFRONT_ALLOWED_HOSTS allows "
                  "localhost names only", "STOREFRONT_EMAIL_URL is empty",
                  "The demo admin still has the password printed"]:
        assert words in result.stdout
    assert "SQLite" not in result.stdout                        # one process: fine
    scaled = run_check(tmp_path, "--deploy", "--processes", "4", "--machines", "2",
                       STOREFRONT_DEBUG="1")
    for words in ["STOREFRONT_DEBUG is on", "SQLite with several processes",
                  "The memory cache with several processes", "Sessions in the data dir's "
                  "files with several machines", "The secret key is generated into the data "
                  "dir"]:
        assert words in scaled.stdout


def test_check_deploy_passes_a_good_deployment(tmp_path):
    a_laptop_database(tmp_path)
    User.create_user("admin", "admin@example.com", "a password of my own")
    models.db.close()
    result = run_check(tmp_path, "--deploy", STOREFRONT_SECURE_COOKIES="1",
                       STOREFRONT_ALLOWED_HOSTS="shop.example.com",
                       STOREFRONT_SECRET_KEY="k" * 50,
                       STOREFRONT_EMAIL_URL="smtp://mail.example.com:587?starttls=1")
    assert result.returncode == 0 and "No problems found." in result.stdout, result.stdout


def test_check_without_deploy_finds_settings_that_cannot_work(tmp_path):
    assert run_check(tmp_path).returncode == 0
    result = run_check(tmp_path, STOREFRONT_TRUSTED_PROXIES="nginx")
    assert result.returncode == 1 and "'nginx' is not an IP address" in result.stdout


def test_runserver_on_every_address_hints_at_check_deploy(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "app.py", "runserver", f"0.0.0.0:{port}", "--no-demo"], cwd=ROOT,
        env=subprocess_env(tmp_path), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(100):
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/playground/",
                                                 headers={"Host": socket.gethostname()})
                assert urllib.request.urlopen(request).status == 200   # its own name
                break
            except OSError:
                time.sleep(0.2)
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert "Other machines can reach it too: run `python app.py check --deploy`" in output


def test_how_a_request_flows_tells_the_layers_as_they_are_built():
    """Part 3 of app.py is a table of the layers around a handler: it must say what part 15
    builds, in the order a request meets them."""
    source = open(storefront.__file__, encoding="utf-8").read()
    table = source.split("# 3. How a request flows\n", 1)[1].split("\n", 1)[1].split("\n#####")[0]
    named = re.findall(r"^#(?:   |     )(\w+)", table, re.M)    # (not a wrapped line)
    hooks = [hook.__name__ for hook in storefront.root._hooks["before_request"]]
    listed_hooks = named[named.index("root") + 1:named.index("root") + 1 + len(hooks)]
    assert listed_hooks == hooks, f"part 3 lists the hooks {listed_hooks}, the root runs {hooks}"
    layers = named[:named.index("root")]
    built = inspect.getsource(storefront.middleware)      # innermost first in its code
    positions = [built.index(name) for name in reversed(layers)]
    assert positions == sorted(positions), f"middleware() does not nest {layers} in order"
    plugins = [p.name for p in storefront.store.plugins if hasattr(p, "apply")]
    assert "page_cache" in plugins and "PageCache" in table


# The order and the lengths DESIGN.md promises a reader of app.py.
PARTS = ["Settings", "Wiring", "How a request flows", "Request helpers", "Store",
         "Cart and checkout", "Accounts", "JSON API", "Errors", "Security", "Speed", "Admin site",
         "Playground", "Debug toolbar", "Assembly", "CLI"]
FIRST_ROUTE_BY, SHOP_IN = 400, 1500
MACHINERY = ("generation", "trusted_prox", "allowed_host", "Breaker", "redis")


def test_app_py_reads_as_design_says_the_shop_first_and_short():
    """A student meets the first route within 400 lines and the whole shop (to the end of
    Errors) within 1,500, in the parts' order, without meeting the cache's generations, proxies,
    host checks or Redis on the way after the settings."""
    lines = open(storefront.__file__, encoding="utf-8").read().split("\n")
    banners = [(number, line.split(". ", 1)[1]) for number, line in enumerate(lines, 1)
               if re.fullmatch(r"# \d+\. .+", line)]
    assert [name for _, name in banners] == PARTS
    first_route = next(number for number, line in enumerate(lines, 1)
                       if re.match(r"@\w+\.(get|post|route)\(", line))
    assert first_route <= FIRST_ROUTE_BY, f"the first route is at line {first_route}"
    shop_ends = dict((name, number) for number, name in banners)["Security"] - 1
    assert shop_ends <= SHOP_IN, f"the shop (parts 1-9) is {shop_ends} lines"
    wiring = dict((name, number) for number, name in banners)["Wiring"]
    code = [line.split("#")[0] for line in lines[wiring:shop_ends]]   # (Settings name them all;
    # a comment may point onwards)
    met = {word for word in MACHINERY for line in code if word.lower() in line.lower()}
    assert not met, f"the shop's code meets {sorted(met)}: move it to Security or Speed"


@pytest.mark.parametrize("typed", ["__storefront_csrf_placeholder__",
                                   storefront.CSRF_PLACEHOLDER.strip("\x00")])
def test_no_text_a_visitor_types_is_taken_for_the_csrf_placeholder(client, shop, typed):
    """A search for the placeholder's text printed the visitor's token in its place (and so
    into the search form's URL and the logs)."""
    page = client.get("/products", {"q": typed})
    assert f'value="{typed}"' in page.text
    client.get("/products", {"q": storefront.CSRF_PLACEHOLDER}, status=400)   # a NUL: refused


def test_the_cookie_that_deletes_the_notices_is_as_guarded_as_the_one_that_set_them(
        client, shop, login_as):
    login_as("alice")                       # "Welcome back" waits in the notice cookie
    page = client.get("/")
    deleting = [v for k, v in page.headerlist
                if k == "Set-Cookie" and v.startswith(storefront.FLASH_COOKIE + "=;")]
    assert deleting and all(flag in deleting[0] for flag in ("HttpOnly", "SameSite=Lax",
                                                             "Max-Age=0")), deleting


def test_static_files_never_follow_a_link_out_of_static(client, tmp_path, monkeypatch):
    folder, secret = tmp_path / "static", tmp_path / "secret.txt"
    folder.mkdir()
    (folder / "site.css").write_text("body {}")
    secret.write_text("not for the web")
    (folder / "leak.css").symlink_to(secret)
    monkeypatch.setattr(storefront, "STATIC", str(folder))
    assert client.get("/static/site.css").text == "body {}"
    assert "not for the web" not in client.get("/static/leak.css", status=403).text
