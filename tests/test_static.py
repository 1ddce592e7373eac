"""What a browser downloads besides the page: static files at versioned addresses kept a year,
text compressed for clients that accept gzip (streams left streaming), one stylesheet per area
of the site on top of the base one, and a meta description on every page."""
import gzip
import hashlib
import os
import re

import pytest

import app as storefront
import models
from conftest import new_client
from test_markup import pages_of_the_shop

YEAR = "public, max-age=31536000, immutable"


def linked_files(page):
    """The /static/ addresses a page links to (stylesheets, scripts, icons)."""
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)


def stylesheets(page):
    return re.findall(r'<link rel="stylesheet" href="/static/css/(\w+)\.[0-9a-f]{12}\.css">',
                      page.text)


@pytest.fixture
def staff(client, login_as):
    login_as("boss", is_staff=True, is_superuser=True)
    return client


# --- Versioned addresses --------------------------------------------------------------------

def test_every_linked_file_has_its_hash_in_its_address_and_is_kept_a_year(staff, shop):
    seen = set()
    for path in ["/", "/admin/product/", "/playground/hello", "/api/docs"]:
        for address in linked_files(staff.get(path)):
            seen.add(address)
            name, version, ext = re.fullmatch(r"/static/(.+)\.([0-9a-f]{12})(\.\w+)",
                                              address).groups()
            with open(os.path.join(storefront.STATIC, name + ext), "rb") as f:
                content = f.read()
            assert version == hashlib.sha256(content).hexdigest()[:12], address
            answer = staff.get(address)
            assert answer.body == content and answer.headers["Cache-Control"] == YEAR, address
    assert {"css", "js", "img"} <= {a.split("/")[2] for a in seen}


def test_a_plain_or_old_address_still_answers_but_only_for_a_while(client, tmp_path, monkeypatch):
    folder = tmp_path / "static"
    (folder / "css").mkdir(parents=True)
    (folder / "css" / "base.css").write_text("body { color: red }")
    monkeypatch.setattr(storefront, "STATIC", str(folder))
    old = storefront.static_url("css/base.css")
    (folder / "css" / "base.css").write_text("body { color: blue }")
    os.utime(folder / "css" / "base.css", ns=(1, 10**18))
    new = storefront.static_url("css/base.css")
    assert old != new                            # a changed file gets a new address
    for address, cache_control in [(new, YEAR), (old, "public, max-age=600"),
                                   ("/static/css/base.css", "public, max-age=600")]:
        answer = client.get(address)
        assert answer.text == "body { color: blue }"
        assert answer.headers["Cache-Control"] == cache_control, address
    client.get("/static/css/nothing.0123456789ab.css", status=404)


# --- Compression ----------------------------------------------------------------------------

def raw(wsgi, path, method="GET", client=None, **headers):
    """(headers, body iterable) as the server gets them: WebTest would decompress a gzipped
    body and drop its Content-Encoding, and gather a streamed one."""
    from webob import Request
    request = Request.blank(path, method=method, environ={"REMOTE_ADDR": "127.0.0.1"},
                            headers={name.replace("_", "-"): value
                                     for name, value in headers.items()})
    if client is not None:
        request.headers["Cookie"] = "; ".join(f"{c.name}={c.value}" for c in client.cookiejar)
    status, headers, body = request.call_application(wsgi)
    return {name.lower(): value for name, value in headers}, body, headers


def whole(body):
    try:
        return b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()


@pytest.mark.parametrize("path", ["/", "/products", "/static/css/base.css", "/static/js/admin.js",
                                  "/api/products", "/api/openapi.json"])
def test_text_is_gzipped_for_clients_that_accept_it(wsgi, shop, path):
    plain_headers, plain, plain_list = raw(wsgi, path)
    packed_headers, packed, packed_list = raw(wsgi, path, Accept_Encoding="gzip, deflate, br")
    plain, packed = whole(plain), whole(packed)
    assert "content-encoding" not in plain_headers
    assert packed_headers["content-encoding"] == "gzip"
    token = re.compile(rb'name="csrf_token" value="[^"]+"')     # each visitor has their own
    assert token.sub(b"", gzip.decompress(packed)) == token.sub(b"", plain)
    assert int(packed_headers["content-length"]) == len(packed) < len(plain) / 2
    for headers in (plain_list, packed_list):    # a cache between keeps the two kinds apart
        assert ("Vary", "Accept-Encoding") in headers


@pytest.mark.parametrize("accept", ["", "identity", "gzip;q=0", "br"])
def test_no_gzip_for_a_client_that_does_not_accept_it(wsgi, shop, accept):
    headers, body, _ = raw(wsgi, "/products", Accept_Encoding=accept)
    assert "content-encoding" not in headers and b"<!doctype html>" in whole(body)


def test_small_answers_and_heads_go_as_they_are(wsgi, shop):
    headers, body, _ = raw(wsgi, "/static/img/favicon.svg", Accept_Encoding="gzip")
    body = whole(body)
    assert len(body) < storefront.GZIP_SIZES.start
    assert "content-encoding" not in headers and body.startswith(b"<svg")
    headers, body, _ = raw(wsgi, "/products", method="HEAD", Accept_Encoding="gzip")
    assert "content-encoding" not in headers and not whole(body)


def test_the_csv_export_streams_through_the_compression(staff, shop, wsgi):
    """A streamed answer is passed on chunk by chunk, never gathered to be compressed."""
    headers, body, _ = raw(wsgi, "/admin/product/export.csv", client=staff,
                           Accept_Encoding="gzip")
    try:
        assert "content-encoding" not in headers and "content-length" not in headers
        assert not isinstance(body, list)            # what the gzip layer would return
        first = next(iter(body))
        assert first.startswith(b"id,")
    finally:
        body.close()


# --- One stylesheet per area ----------------------------------------------------------------

def test_each_page_loads_the_base_stylesheet_and_only_its_areas(staff, shop):
    areas = {"": "shop", "products": "shop", "collections": "shop", "tags": "shop",
             "cart": "shop", "checkout": "shop", "orders": "shop", "accounts": "shop",
             "admin": "admin", "playground": "playground", "api": "docs"}
    checked = 0
    for who, path in pages_of_the_shop():
        page = staff.get(path, expect_errors=True)
        if page.content_type != "text/html" or page.status_int != 200:
            continue
        area = areas[path.split("/")[1].split("?")[0]]
        assert stylesheets(page) == ["base", area], path
        checked += 1
    assert checked > len(storefront.REGISTRY)
    missing = staff.get("/admin/no-such-page", status=404)
    assert stylesheets(missing) == ["base"]          # an error page needs nothing more


def test_every_stylesheet_is_one_an_area_loads():
    named = {"css/base.css", *storefront.STYLESHEETS.values(), "css/debug.css"}
    on_disk = {f"css/{name}" for name in os.listdir(os.path.join(storefront.STATIC, "css"))}
    assert named == on_disk


def css_rules(css):
    """(the @media it is in, selectors, declarations) of each rule of a stylesheet."""
    css, found, within = re.sub(r"/\*.*?\*/", "", css, flags=re.S), [], []
    for match in re.finditer(r"([^{}]*)\{|\}", css):
        if match[0] == "}":
            within.pop()
        elif match[1].strip().startswith("@"):
            within.append(match[1].strip())
        else:
            body = css[match.end():css.index("}", match.end())]
            found.append((" ".join(filter(None, within)), " ".join(match[1].split()),
                          tuple(d.strip() for d in body.split(";") if d.strip())))
            within.append(None)
    return found


def test_no_rule_is_written_twice_in_a_stylesheet():
    """The rule that hides a table's head on phones was written twice (`.cart-table thead`
    beside `.table-cards thead`): one rule lists both."""
    for name in os.listdir(os.path.join(storefront.STATIC, "css")):
        with open(os.path.join(storefront.STATIC, "css", name)) as f:
            rules = css_rules(f.read())
        bodies = [(within, body) for within, _, body in rules if len(body) >= 4]
        twice = [rule for rule in rules if (rule[0], rule[2]) in bodies
                 and bodies.count((rule[0], rule[2])) > 1]
        assert not twice, (name, twice)


# --- The admin's filters on a phone ---------------------------------------------------------

def test_the_admin_filters_are_folded_in_the_html_itself(staff, shop):
    """On phones the panel was rendered open, then folded by a script: the list below it
    jumped (a layout shift of 0.549). It comes folded; CSS shows it beside a wide list."""
    page = staff.get("/admin/product/").text
    assert re.search(r'<details class="admin-filters">', page)
    with open(os.path.join(storefront.STATIC, "js", "admin.js")) as f:
        assert ".open =" not in f.read()
    with open(os.path.join(storefront.STATIC, "css", "admin.css")) as f:
        assert ".admin-filters::details-content { content-visibility: visible; }" in f.read()


# --- Meta descriptions ----------------------------------------------------------------------

def description(page):
    found = re.findall(r'<meta name="description" content="([^"]*)">', page.text)
    assert len(found) == 1, page.request.path
    return found[0]


def test_every_page_has_a_meta_description(staff, shop, wsgi):
    visitor = new_client(wsgi)
    checked = 0
    for who, path in pages_of_the_shop():
        browser = visitor if who == "visitor" else staff
        page = browser.get(path, expect_errors=True)
        if page.content_type == "text/html" and page.status_int != 303:
            assert len(description(page)) > 20, path
            checked += 1
    assert checked > 40


def test_a_products_description_is_its_pages(client, shop):
    product = models.Product.select().first()
    collection = models.Collection.select().first()
    assert description(client.get(f"/products/{product.id}")) == product.description
    assert collection.title in description(client.get(f"/collections/{collection.id}"))
    assert description(client.get("/playground/hello")) == storefront.LESSONS[0].summary


def test_a_gzipped_answer_closes_the_layers_inside_it(wsgi, shop):
    """The gzip layer reads the answer whole: it closes it too, so the database connection
    the page opened is closed when the request ends (closing_database, inside it)."""
    headers, body, _ = raw(wsgi, "/products", Accept_Encoding="gzip")
    assert headers["content-encoding"] == "gzip"
    assert storefront.db.is_closed()
    whole(body)
