"""Search that ranks: every word must match, a word matches the start of a word, "quoted
phrases" stay together, best matches first (the title counts more than the description),
from the database's full-text index, kept in step with every write."""
import re

import pytest
from playhouse.test_utils import count_queries

import models
from models import Collection, Product


def found(client, q, **params):
    """The titles the catalog shows for a search, in order."""
    page = client.get("/products", dict(params, q=q))
    return re.findall(r'class="product-title">([^<]+)<', page.text)


@pytest.fixture
def teapots(wsgi):
    home = Collection.create(title="Home")
    for title, description in [("Speckled Stoneware Teapot", "Holds four cups."),
                               ("Blue Mug", "Goes well with a stoneware teapot."),
                               ("Teapot Warmer", "Keeps it warm."),
                               ("Olive Oil Soap", "Made with olive oil from Crete."),
                               ("Olive Bowl", "Also for oil.")]:
        Product.create(title=title, description=description, unit_price=10, inventory=5,
                       collection=home)


def test_every_word_must_match_and_words_match_as_you_type(client, teapots):
    assert found(client, "stoneware teapot") == ["Speckled Stoneware Teapot", "Blue Mug"]
    tea = found(client, "tea")                      # titles first, then descriptions
    assert set(tea[:2]) == {"Teapot Warmer", "Speckled Stoneware Teapot"} and tea[2] == "Blue Mug"
    assert found(client, "STONE TEA") == found(client, "stoneware teapot")
    assert found(client, "teapot zebra") == []


def test_the_title_counts_more_than_the_description(client, teapots):
    titles = found(client, "teapot")
    assert titles.index("Blue Mug") == len(titles) - 1     # only its description says teapot


def test_quoted_phrases_stay_together(client, teapots):
    assert set(found(client, '"olive oil"')) == {"Olive Oil Soap"}
    assert set(found(client, "olive oil")) == {"Olive Oil Soap", "Olive Bowl"}


def test_searching_within_a_collection_and_by_another_sort(client, teapots, wsgi):
    other = Collection.create(title="Garden")
    Product.create(title="Garden Teapot", unit_price=99, inventory=1, collection=other)
    assert found(client, "teapot", collection=other.id) == ["Garden Teapot"]
    assert found(client, "teapot", sort="-price")[0] == "Garden Teapot"


@pytest.mark.parametrize("q", ['"', '""', "(", "NEAR(a b)", "a OR b", "-tea", "*", "tea*",
                               "^tea", "title:tea", "x" * 100, "日本 茶", "'; DROP TABLE x; --",
                               "AND", "\\", "NOT tea"])
def test_anything_typed_is_a_search_never_an_error(client, teapots, q):
    page = client.get("/products", {"q": q})
    assert page.status_int == 200
    client.get("/api/products", {"q": q}, status=200)


def test_the_index_follows_every_write(client, teapots, login_as):
    login_as("boss", is_staff=True, is_superuser=True)
    form = client.get("/admin/product/add").forms["admin-form"]
    form["title"], form["unit_price"], form["inventory"] = "Cast Iron Kettle", "30", "3"
    form["collection"] = str(Collection.get(Collection.title == "Home").id)
    form.submit(status=303)
    assert found(client, "kettle") == ["Cast Iron Kettle"]
    kettle = Product.get(Product.title == "Cast Iron Kettle")
    form = client.get(f"/admin/product/{kettle.id}/").forms["admin-form"]
    form["title"] = "Enamel Kettle"
    form.submit(status=303)
    assert found(client, "cast iron") == [] and found(client, "enamel") == ["Enamel Kettle"]
    client.post(f"/admin/product/{kettle.id}/delete", {"csrf_token": form["csrf_token"].value},
                status=303)
    assert found(client, "kettle") == []


def test_a_search_page_costs_the_same_few_queries(client, shop, settings):
    for size in (5, 24):
        settings.page_size = size
        with count_queries() as counted:
            client.get("/products", {"q": "aged", "page": 1})
        assert counted.count <= 4       # ... and the page's photos, in one query


def test_an_old_database_gets_its_index(tmp_path):
    """Migration 6 indexes the products a database already holds."""
    models.open_database(f"sqlite:///{tmp_path}/old.sqlite3")
    models.migrate(target=5)
    collection = Collection.create(title="Old")
    Product.insert(title="Ancient Sourdough", slug="ancient", unit_price=5, price=5,
                   inventory=3, collection=collection).execute()
    models.migrate()
    query = Product.search(Product.select(), "sourd")
    assert [p.title for p in query] == ["Ancient Sourdough"]
    models.db.close()


def test_the_admin_searches_products_with_the_same_index(client, teapots, login_as):
    login_as("boss", is_staff=True, is_superuser=True)
    page = client.get("/admin/product/", {"q": "stone tea"})      # prefixes, description too
    assert "Speckled Stoneware Teapot" in page.text and "Blue Mug" in page.text
    assert "Teapot Warmer" not in page.text and "2 results" in page.text
    mug = Product.get(Product.title == "Blue Mug")
    page = client.get("/admin/product/", {"q": str(mug.id)})       # a number: also the id
    assert "Blue Mug" in page.text
    picker = client.get("/admin/product/autocomplete", {"q": "warm"}).json["results"]
    assert [r["text"] for r in picker] == ["Teapot Warmer"]
