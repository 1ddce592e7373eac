"""The playground: every lesson shows its code, the SQL it ran and a result."""
import pytest

import app as storefront
import models


def test_hello_renders_through_a_template(client):
    page = client.get("/playground/hello")
    assert "<h1 class=\"hello\">Hello World</h1>" in page.text
    assert "def say_hello" in page.text          # the handler's own code


def test_lesson_index_links_every_lesson(client):
    page = client.get("/playground/")
    for lesson in storefront.LESSONS:
        assert f'href="/playground/{lesson["path"]}"' in page.text


def test_url_lesson_converts_parameters(client):
    page = client.get("/playground/urls/grace/7")
    assert "name = &#039;grace&#039;" in page.text and "number = 7" in page.text
    for route in storefront.root.routes:             # the table of every route
        assert route.rule.replace("<", "&lt;").replace(">", "&gt;") in page.text, route.rule
    client.get("/playground/urls/grace/seven", status=404)


@pytest.mark.parametrize("lesson", [l["path"] for l in storefront.LESSONS])
def test_every_lesson_shows_code_sql_and_result(client, shop, lesson, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)     # the caching lesson's slow part
    page = client.get(f"/playground/{lesson}")
    assert "The code" in page.text and "def " in page.text
    if lesson == "middleware":                         # WSGI wrappers run no SQL
        assert "(0 queries)" in page.text
    else:
        assert "SELECT" in page.text                   # the SQL it really ran
    assert "The result" in page.text


def test_joins_lesson_counts_the_queries_it_describes(client, shop):
    page = client.get("/playground/orm-joins-vs-prefetch")
    assert "queries, naive loop</dt><dd><pre class=\"inline\">6" in page.text
    assert "queries, join</dt><dd><pre class=\"inline\">1" in page.text
    assert "queries, prefetch</dt><dd><pre class=\"inline\">2" in page.text


def test_transactions_lesson_leaves_the_data_unchanged(client, shop):
    before = models.Order.select().count()
    page = client.get("/playground/orm-transactions")
    assert models.Order.select().count() == before
    assert f"orders inside the transaction</dt><dd><pre class=\"inline\">{before + 1}" in page.text


def test_templates_lesson_escapes(client, shop):
    page = client.get("/playground/templates")
    assert "&amp;lt;script&amp;gt;" in page.text    # escaped once by the lesson, once by the page


def test_sessions_lesson_counts_in_the_session_and_flashes(client, csrf):
    page = client.get("/playground/sessions")
    assert "none yet" in page.text and "storefront_session" not in client.cookies
    form = page.forms[[k for k, f in page.forms.items() if f.action == "/playground/sessions"][0]]
    page = form.submit(status=303).follow()
    assert "you have pressed the button 1 times" in page.text
    assert "lesson_visits" in page.text and "storefront_session" in client.cookies
    form = page.forms[[k for k, f in page.forms.items() if f.action == "/playground/sessions"][0]]
    assert "2 times" in form.submit(status=303).follow().text


def test_admin_registry_and_middleware_lessons(client, shop):
    page = client.get("/playground/admin-registry")
    assert "class ProductAdmin(ModelAdmin)" in page.text and "collection" in page.text
    page = client.get("/playground/middleware")
    assert "with_security_headers" in page.text and "SessionMiddleware" in page.text
