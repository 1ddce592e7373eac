"""The debug toolbar: only with debug on, only for internal addresses, and truthful."""
import re

import pytest
from playhouse.test_utils import count_queries

from conftest import new_client

import app as storefront


@pytest.fixture
def debug_wsgi(settings, shop):
    settings.debug = True
    settings.cache_url = "none"
    yield storefront.build(settings)
    settings.debug = False


def internal(wsgi):
    return new_client(wsgi, "127.0.0.1")


def test_toolbar_is_shown_to_internal_addresses_on_every_kind_of_page(debug_wsgi, make_user):
    client = internal(debug_wsgi)
    for path in ["/", "/products", "/playground/hello", "/accounts/login", "/nope"]:
        page = client.get(path, status="*")
        assert page.text.count('<div id="debug-toolbar">') == 1, path
        assert page.text.index('<div id="debug-toolbar">') < page.text.index("</body>")
    make_user("boss", is_staff=True, is_superuser=True)
    form = client.get("/accounts/login").forms["login-form"]
    form["username"], form["password"] = "boss", "correct horse battery"
    form.submit()
    assert '<div id="debug-toolbar">' in client.get("/admin/product/").text


def test_toolbar_is_absent_for_other_addresses_whatever_headers_claim(debug_wsgi):
    outsider = new_client(debug_wsgi, "203.0.113.9")
    page = outsider.get("/products", headers={"X-Forwarded-For": "127.0.0.1",
                                              "X-Real-IP": "127.0.0.1"})
    assert "debug-toolbar" not in page.text
    outsider.get("/__debug__/", status=404)


def test_toolbar_is_absent_when_debug_is_off(client, shop):
    assert "debug-toolbar" not in client.get("/products").text
    client.get("/__debug__/", status=404)


def test_sql_panel_counts_the_queries_the_page_ran(debug_wsgi):
    client = internal(debug_wsgi)
    client.get("/products/5")       # warm up (a first request opens the connection, etc.)
    with count_queries() as counter:
        page = client.get("/products/5")
    shown = int(re.search(r"<span>(\d+) SQL", page.text).group(1))
    assert shown == counter.count > 0
    ident = re.search(r"/__debug__/([0-9a-f]+)/", page.text).group(1)
    sql = client.get(f"/__debug__/{ident}/sql")
    assert sql.text.count('<pre class="code sql">') == counter.count
    assert "app.py:" in sql.text           # the line that issued each query
    explain = client.get(f"/__debug__/{ident}/sql/0/explain")
    assert "Query plan" in explain.text


def test_n_plus_one_is_flagged(debug_wsgi):
    client = internal(debug_wsgi)
    page = client.get("/playground/orm-joins-vs-prefetch")
    ident = re.search(r"/__debug__/([0-9a-f]+)/", page.text).group(1)
    assert "Likely N+1" in client.get(f"/__debug__/{ident}/sql").text


@pytest.mark.parametrize("panel", storefront.DEBUG_PANELS)
def test_every_panel_opens(debug_wsgi, panel):
    client = internal(debug_wsgi)
    page = client.get("/products", {"q": "tea"})
    ident = re.search(r"/__debug__/([0-9a-f]+)/", page.text).group(1)
    assert client.get(f"/__debug__/{ident}/{panel}").status_int == 200


def test_history_lists_json_and_redirects_and_opens_them(debug_wsgi):
    client = internal(debug_wsgi)
    client.get("/accounts/", status=303)                 # a redirect
    client.get("/api/products", status="*")              # JSON
    history = client.get("/__debug__/")
    assert "GET /accounts/" in history.text and "GET /api/products" in history.text
    ident = re.search(r'href="/__debug__/([0-9a-f]+)/">GET /api/products', history.text).group(1)
    assert "/api/products" in client.get(f"/__debug__/{ident}/request").text


def test_settings_panel_masks_secrets(debug_wsgi, settings):
    client = internal(debug_wsgi)
    page = client.get("/")
    ident = re.search(r"/__debug__/([0-9a-f]+)/", page.text).group(1)
    text = client.get(f"/__debug__/{ident}/settings").text
    assert settings.secret_key not in text and "********" in text


def test_settings_panel_masks_the_old_secret_keys_too(debug_wsgi, settings):
    """The old keys of STOREFRONT_SECRET_KEY_FALLBACKS still verify what they signed."""
    settings.secret_key_fallbacks = ["an-old-key-that-still-verifies-0123456789"]
    client = internal(debug_wsgi)
    ident = re.search(r"/__debug__/([0-9a-f]+)/", client.get("/").text).group(1)
    text = client.get(f"/__debug__/{ident}/settings").text
    assert "secret_key_fallbacks" in text and "an-old-key-that-still" not in text


def test_request_panel_hides_passwords(debug_wsgi, make_user):
    client = internal(debug_wsgi)
    make_user("alice")
    form = client.get("/accounts/login").forms["login-form"]
    form["username"], form["password"] = "alice", "wrong password!"
    form.submit(status=400)
    ident = re.search(r'href="/__debug__/([0-9a-f]+)/">POST /accounts/login',
                      client.get("/__debug__/").text).group(1)
    text = client.get(f"/__debug__/{ident}/request").text
    assert "wrong password!" not in text and "********" in text
    logs = client.get(f"/__debug__/{ident}/logging").text
    assert "failed login" in logs


def test_headers_panel_shows_the_request_headers_as_sent_and_masks_credentials(debug_wsgi):
    client = internal(debug_wsgi)
    page = client.get("/", headers={"X-Lesson-Note": "sent by the test",
                                    "Authorization": "Basic c2VjcmV0LXBhc3M="})
    ident = re.search(r"/__debug__/([0-9a-f]+)/", page.text).group(1)
    text = client.get(f"/__debug__/{ident}/headers").text
    assert "X-Lesson-Note" in text and "sent by the test" in text
    assert "Authorization" in text and "c2VjcmV0LXBhc3M=" not in text and "********" in text
