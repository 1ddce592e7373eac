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
        assert counted.count <= 5   # the matches in titles, then elsewhere; collections;
                                    # rows; their photos


def test_an_old_database_gets_its_index(tmp_path):
    """Migrations 6 and 16 index the products a database already holds (written in the
    columns it had then: the model's own insert would name columns it has not yet)."""
    models.open_database(f"sqlite:///{tmp_path}/old.sqlite3")
    models.migrate(target=5)
    collection = Collection.create(title="Old")
    models.db.execute_sql(
        "INSERT INTO product (title, slug, description, unit_price, price, inventory, "
        "last_update, collection_id) VALUES ('Ancient Sourdough', 'ancient', '', 5, 5, 3, "
        "'2026-01-01 00:00:00', ?)", (collection.id,))
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


# Each product's title as stored, and what a shopper may type to find it: one normalization
# (models.fold) of the text indexed and of the words searched, the same on both databases.
CAFE, DECOMPOSED = "Caf\u00e9", "Cafe\u0301"
UNICODE_FINDS = {
    f"{CAFE} Crème": ["cafe", CAFE, DECOMPOSED, "CAFÉ", "crème", "creme"],
    f"{DECOMPOSED} Noir": ["cafe", CAFE, DECOMPOSED, "CAFÉ", "noir"],
    "Pain ½ baguette": ["½", "1/2"],
    "Sol en m²": ["m²", "m2"],
    "İstanbul Tea": ["İstanbul", "istanbul", "ISTANBUL"],
    "\ufb01ne Linen": ["fine", "\ufb01ne", "FINE"],
    "Ｆｕｌｌｗｉｄｔｈ Mug": ["Fullwidth", "ｆｕｌｌ", "full"],
    "Straße Map": ["strasse", "Straße", "STRASSE"],
}
UNICODE_QUERIES = sorted({q for queries in UNICODE_FINDS.values() for q in queries}) + ["zebra"]


@pytest.mark.parametrize("q", UNICODE_QUERIES)
def test_unicode_searches_find_what_was_typed(client, wsgi, q):
    home = Collection.create(title="Home")
    for title in UNICODE_FINDS:
        Product.create(title=title, unit_price=10, inventory=5, collection=home)
    expected = {title for title, queries in UNICODE_FINDS.items() if q in queries}
    assert set(found(client, q, sort="title")) == set(found(client, q)) == expected
    assert {row.title for row in Product.search(Product.select(), q)} == expected


def test_a_search_sorts_only_its_best_matches_and_says_so(client, wsgi, login_as, monkeypatch):
    """Whatever the sort, a search considers the first RANKED_AT_MOST matches (titles first,
    in the order added), so its cost is bounded; the page says that there may be others."""
    monkeypatch.setattr(Product, "RANKED_AT_MOST", 3)
    home = Collection.create(title="Home")
    prices = [50, 10, 40, 20, 30]          # the cheapest two are not among the first three
    for n, price in enumerate(prices):
        Product.create(title=f"Teapot {n}", unit_price=price, inventory=5, collection=home)
    Product.create(title="Mug", description="Not a teapot.", unit_price=1, inventory=5,
                   collection=home)
    best = [f"Teapot {n}" for n in range(3)]
    by_price = sorted(best, key=lambda title: prices[int(title[-1])])
    assert found(client, "teapot", sort="price") == by_price
    assert found(client, "teapot", sort="-price") == by_price[::-1]
    assert found(client, "teapot") == best
    assert "Showing the best 3 matches" in client.get("/products", {"q": "teapot"}).text
    assert "Showing the best" not in client.get("/products", {"q": "mug"}).text
    api = client.get("/api/products", {"q": "teapot", "sort": "price"}).json
    assert api["count"] == 3 and [p["title"] for p in api["results"]] == by_price
    login_as("boss", is_staff=True, is_superuser=True)
    assert "3 results" in client.get("/admin/product/", {"q": "teapot"}).text


def test_common_and_rare_words_give_the_first_matches_in_order(wsgi, monkeypatch):
    """PostgreSQL looks for a search's matches among the first PROBED_AT_MOST products and
    asks its full-text index only when they hold too few: a word in every title is found
    there, one only in later titles or only in descriptions falls back to the index, and
    either way the answer is the first matches by key, titles first, in a collection too."""
    monkeypatch.setattr(Product, "RANKED_AT_MOST", 3)
    monkeypatch.setattr(Product, "PROBED_AT_MOST", 6)
    home, away = Collection.create(title="Home"), Collection.create(title="Away")
    for n in range(12):
        Product.create(title=f"Teapot {n}" + (" Rare" if n >= 8 else ""),
                       description="A rare find." if n % 2 == 0 else "Plain.",
                       unit_price=10, inventory=5, collection=away if n % 3 == 0 else home)

    def first_matches(word, collection=None):
        rows = [p for p in Product.select().order_by(Product.id)
                if collection is None or p.collection_id == collection.id]
        titled = [p.id for p in rows if word in models.fold(p.title).split()]
        elsewhere = [p.id for p in rows if p.id not in titled
                     and word in models.fold(p.description).split()]
        return (titled + elsewhere)[:Product.RANKED_AT_MOST]

    for word in ("teapot", "rare", "find", "plain"):
        for collection in (None, home, away):
            assert Product.best_matches(word, collection and collection.id) == \
                first_matches(word, collection), (word, collection)
