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


def test_url_lesson_converts_parameters(client, shop):
    page = client.get("/playground/urls/grace/7")
    assert "name = &#039;grace&#039;" in page.text and "number = 7" in page.text
    assert "/admin/" in page.text or "/products/&lt;product_id&gt;" in page.text
    client.get("/playground/urls/grace/seven", status=404)


@pytest.mark.parametrize("lesson", [l["path"] for l in storefront.LESSONS])
def test_every_lesson_shows_code_sql_and_result(client, shop, lesson):
    page = client.get(f"/playground/{lesson}")
    assert "The code" in page.text and "def " in page.text
    assert "SELECT" in page.text                       # the SQL it really ran
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
