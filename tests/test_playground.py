"""The playground: every lesson shows its code, the Django way, the SQL it ran and its result,
each result equal to what these tests compute on their own; and visiting every lesson leaves
the shop as it was."""
import datetime
import inspect
import os
import re
import textwrap
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from playhouse.test_utils import count_queries

from conftest import cache_generations

import app as storefront
import models

LESSONS = storefront.LESSONS
CENT = Decimal("0.01")


# --- Reading a lesson page --------------------------------------------------------------------

class Tree(HTMLParser):
    """A page as nested [tag, attrs, children] lists; text is unescaped."""
    VOID = {"meta", "link", "input", "br", "img", "hr"}

    def __init__(self, text):
        super().__init__()
        self.root = ["root", {}, []]
        self.stack = [self.root]
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        node = [tag, dict(attrs), []]
        self.stack[-1][2].append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        while self.stack[-1][0] != tag:
            self.stack.pop()
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1][2].append(data)


def elements(node):
    return [child for child in node[2] if isinstance(child, list)]


def find(node, test):
    """The first element under `node` that passes `test`, depth first."""
    for child in elements(node):
        if test(child):
            return child
        found = find(child, test)
        if found:
            return found
    return None


def by_id(node, ident):
    return find(node, lambda n: n[1].get("id") == ident)


def by_class(node, name):
    return find(node, lambda n: name in n[1].get("class", "").split())


def text(node):
    return "".join(c if isinstance(c, str) else text(c) for c in node[2])


def value(node):
    """A value as views/playground/_value.tpl shows it, back as dicts, lists and strings."""
    tag, attrs, _ = node
    kind = attrs.get("class", "").split()
    if tag == "dl":
        children = elements(node)
        return {text(dt): value(elements(dd)[0]) for dt, dd in zip(children[::2], children[1::2])}
    if "table-wrap" in kind:
        table = elements(node)[0]
        head, body = elements(table)
        keys = [text(th) for th in elements(elements(head)[0])]
        return [dict(zip(keys, (value(elements(td)[0]) for td in elements(tr))))
                for tr in elements(body)]
    if tag == "ol":
        return [value(elements(li)[0]) for li in elements(node)]
    if "nothing" in kind:
        return []
    return text(node)


def result_of(section):
    """The value shown in a result section (the first element after its heading)."""
    return value(next(n for n in elements(section) if n[0] not in ("h2", "h3", "form")))


def shown(v):
    """How a lesson page writes a Python value: strings all the way down."""
    if isinstance(v, (Match, About)):
        return v
    if isinstance(v, dict):
        return {str(k): shown(x) for k, x in v.items()}
    if isinstance(v, list):
        return [shown(x) for x in v]
    return "None" if v is None else str(v)


class Match(str):
    """Equal to any string that matches this pattern, as a whole."""

    def __eq__(self, other):
        return isinstance(other, str) and re.fullmatch(str(self), other) is not None

    __hash__ = str.__hash__


class About:
    """Equal to any number written within a cent of this one (SQLite computes in floats)."""

    def __init__(self, number):
        self.number = Decimal(str(number))

    def __eq__(self, other):
        return abs(Decimal(other) - self.number) <= CENT

    def __repr__(self):
        return f"About({self.number})"


class Page:
    """A lesson page, read: its four sections, the exercise and the reference."""

    def __init__(self, response):
        self.response, self.html = response, response.text
        self.tree = Tree(response.text).root
        self.sections = {name: by_id(self.tree, name)
                         for name in ("code", "django", "sql", "result", "exercise", "lives-in")}

    def queries(self, within="sql"):
        return by_class(self.sections[within], "sql-list")

    @property
    def result(self):
        return result_of(self.sections["result"])

    @property
    def answer(self):
        return result_of(by_class(self.sections["exercise"], "answer-result"))


def from_def(source):
    """A function's source from its `def` line (the decorators above it are the page's text)."""
    return source[re.search(r"^def ", source, re.M).start():].rstrip("\n")


def visit(client, lesson, **kwargs):
    return Page(client.get(lesson.href(), **kwargs))


# --- The shop's data, read by the tests themselves ----------------------------------------------

@pytest.fixture
def data(shop):
    """Every row of the demo shop, fetched whole: the tests filter, sort and count in Python,
    so a lesson's own query is checked against something that does not share its mistakes."""
    def rows(model):
        return list(model.select().order_by(model._meta.primary_key).dicts())
    d = SimpleNamespace(products=rows(models.Product), collections=rows(models.Collection),
                        customers=rows(models.Customer), orders=rows(models.Order),
                        items=rows(models.OrderItem), tags=rows(models.Tag),
                        tagged=rows(models.TaggedItem), promotions=rows(models.Promotion),
                        links=rows(models.ProductPromotion))
    d.product = {p["id"]: p for p in d.products}
    d.customer = {c["id"]: c for c in d.customers}
    d.collection = {c["id"]: c for c in d.collections}
    d.promotion = {p["id"]: p for p in d.promotions}
    d.tag = {t["id"]: t for t in d.tags}
    return d


def items_of(d, order_id):
    return [i for i in d.items if i["order"] == order_id]


def full_name(c):
    return f"{c['first_name']} {c['last_name']}"


# --- What each lesson (and its exercise) should show, computed here ---------------------------

EXPECTED, ANSWERS = {}, {}


def expect(path, table=EXPECTED):
    def register(function):
        table[path] = function
        return function
    return register


def answer(path):
    return expect(path, ANSWERS)


@expect("hello")
def _(d):
    with open(os.path.join(storefront.VIEWS, "playground", "hello.tpl")) as f:
        template = f.read()
    return {"the template, views/playground/hello.tpl": template,
            "what it renders": "Hello World\n"}


@expect("urls/<name>/<number:int>")
def _(d):
    routes = {prefix: sum(r.rule.startswith(prefix) for r in storefront.root.routes)
              for prefix in ("/accounts/", "/admin/", "/api/", "/playground/")}
    return {"name": "ada", "number": "42", "the type of number": "int",
            "this address, built back by url()": "/playground/urls/ada/42",
            "try other values": "/playground/urls/grace/7",
            "a number that is not one: no route matches (404)": "/playground/urls/grace/7x",
            "the sub-apps, by the prefix they are mounted at":
                {prefix: f"{n} routes" for prefix, n in routes.items()}}


@expect("templates")
def _(d):
    titles = [p["title"] for p in d.products[:3]]
    with open(os.path.join(storefront.VIEWS, "playground", "frame.tpl")) as f:
        layout = f.read()
    return {"a loop, in a layout": Match(r"<section>\s*<h2>Three products</h2>\s*<ul>\s*"
                                         + r"\s*".join(f"<li>{re.escape(t)}</li>"
                                                       for t in titles)
                                         + r"\s*</ul>\s*</section>\s*"),
            "the layout, views/playground/frame.tpl": layout,
            "a condition": "many\n",
            "{{ }} escapes what it prints":
                "&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt;"}


@expect("static-files")
def _(d):
    size = os.path.getsize(os.path.join(storefront.STATIC, "css", "base.css"))
    return {"the address of a file": "/static/css/base.css", "its status": "200 OK",
            "the address pages use": Match(r"/static/css/base\.[0-9a-f]{12}\.css"),
            "its headers": {"Content-Type": "text/css; charset=UTF-8",
                            "Content-Length": str(size),
                            "Last-Modified": Match(r"\w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT"),
                            "ETag": Match(r"\S+"), "Cache-Control": "public, max-age=600"},
            "a path that climbs out of static/": "403 Forbidden"}


@expect("middleware")
def _(d):
    return {"middleware() wraps the app": textwrap.dedent(inspect.getsource(storefront.middleware)),
            "one middleware, whole":
                textwrap.dedent(inspect.getsource(storefront.with_security_headers)),
            "the debug toolbar is on for you": "False"}


@expect("sessions")
def _(d):
    return {"your session": "none yet", "what it holds": [], "the counter": "0"}


@expect("messages")
def _(d):
    return {"the flash cookie": "none", "the messages it holds": []}


@expect("authentication")
def _(d):
    hashed = r"pbkdf2_sha256\$1000\$[\w-]+\$[\w+/=]+"      # the tests' rounds are 1,000 too
    return {"the stored hash": Match(hashed), "time to make it": Match(r"\d+ ms"),
            "the same password, hashed with 1,000 rounds": Match(hashed),
            "the right password, checked": "True", "a wrong one, checked": "False",
            "a guarded page gives you": Match(r"303 See Other, to http://[^/]+/accounts/login"
                                              r"\?next=%2Fplayground%2Fauthentication")}


@expect("admin-registry")
def _(d):
    first = sorted(d.products, key=lambda p: (p["title"], p["id"]))[:3]
    return {"the spec of products":
                textwrap.dedent(inspect.getsource(storefront.ProductAdmin)),
            "every registered model": list(storefront.REGISTRY),
            "the product list's first rows, as the admin queries them":
                [p["title"] for p in first]}


@expect("caching")
def _(d):
    return {"first call": Match(r"\d+\.\d ms"), "second call": Match(r"\d+\.\d ms"),
            "the answer (products)": str(len(d.products))}


@expect("page-cache")
def _(d):
    return {"first request": Match(r"\d+\.\d ms, 1 SQL queries"),
            "second request": Match(r"\d+\.\d ms, 0 SQL queries"),
            "the page in the cache": Match(r"[\d,]+ characters")}


@expect("debug-toolbar")
def _(d):
    panels = storefront.LESSON_TEXT["debug-toolbar"]["panels"]
    orders = d.orders[:5]
    customers = [o["customer"] for o in orders]
    return {"the toolbar is on for you": "False",
            "its panels (DEBUG_PANELS), and what each shows":
                {panel: panels[panel] for panel in storefront.DEBUG_PANELS},
            "a loop over 5 orders, reading each one's customer":
                [d.customer[c]["first_name"] for c in customers],
            "its SQL panel: the loop's queries, flagged": [
                {"SQL": Match(r'SELECT .* FROM "order" .*LIMIT \S+'), "parameters": ["5"],
                 "flag": "none"}] + [
                {"SQL": Match(r'SELECT .* FROM "customer" .*WHERE .*"id" = .*'),
                 "parameters": [str(c), "1", "0"],
                 "flag": "duplicate" if customers.count(c) > 1 else "likely N+1"}
                for c in customers]}


@expect("models")
def _(d):
    # The fields come from the model (a field a student adds is listed too); whether each
    # column may be null and is indexed, from the database itself.
    columns = {c.name: c for c in models.db.get_columns("product")}
    indexed = {i.columns[0] for i in models.db.get_indexes("product")} | {"id"}    # + the key

    def column(name):
        return name if name in columns else name + "_id"      # (a foreign key's column)
    return [{"field": f.name, "type": type(f).__name__, "column": column(f.name),
             "null allowed": str(columns[column(f.name)].null),
             "indexed": str(column(f.name) in indexed)}
            for f in models.Product._meta.sorted_fields]


@expect("one-to-many")
def _(d):
    collection = d.collections[0]
    products = [p for p in d.products if p["collection"] == collection["id"]]
    return {"the collection": collection["title"],
            "its first products by title":
                [p["title"] for p in sorted(products, key=lambda p: p["title"])[:3]],
            "how many it has": str(len(products)),
            "a product's collection, through the foreign key": collection["title"]}


@expect("many-to-many")
def _(d):
    product = d.product[min(link["product"] for link in d.links)]
    promotions = sorted(link["promotion"] for link in d.links if link["product"] == product["id"])
    order = d.orders[0]
    return {f"{product['title']}: its promotions": [
                {"description": d.promotion[n]["description"],
                 "discount": str(d.promotion[n]["discount"])} for n in promotions],
            f"order {order['id']}: its products": [
                {"title": d.product[i["product"]]["title"], "quantity": str(i["quantity"]),
                 "unit_price": str(i["unit_price"])} for i in items_of(d, order["id"])]}


@expect("generic-relations")
def _(d):
    product = d.products[0]
    return {f"a link to {product['title']} holds": {"content_type": "product",
                                                    "object_id": str(product["id"])},
            "the first tag links": [{"label": d.tag[t["tag"]]["label"],
                                     "content_type": t["content_type"],
                                     "object_id": str(t["object_id"])} for t in d.tagged[:3]]}


@expect("migrations")
def _(d):
    names = [step.__name__ for step in models.MIGRATIONS]
    assert models.SchemaVersion.select().get().version == len(names)
    return [{"number": str(n), "migration": name, "applied": "True"}
            for n, name in enumerate(names, start=1)]


@expect("orm-retrieving")
def _(d):
    first = d.products[0]
    return {"count()": str(len(d.products)), "first()": first["title"],
            "get_by_id()": first["title"],
            "exists(), out of stock": str(any(p["inventory"] == 0 for p in d.products)),
            "get_or_none(), a missing id": "None",
            "get_or_404(), a missing id": "404: No product with id 1000000000."}


@answer("orm-retrieving")
def _(d):
    first = min(d.customers, key=lambda c: (c["last_name"], c["first_name"]))
    return {"first customer": full_name(first),
            "any order pending": str(any(o["payment_status"] == "P" for o in d.orders))}


@expect("orm-filtering")
def _(d):
    week_ago = models.utcnow() - datetime.timedelta(days=7)
    return {"unit price between 20 and 30":
                [p["title"] for p in d.products if 20 <= p["unit_price"] <= 30][:3],
            "title contains 'tea', in any case":
                [p["title"] for p in d.products if "tea" in p["title"].lower()][:3],
            "collections without a featured product":
                sorted(c["title"] for c in d.collections if c["featured_product"] is None),
            "orders placed in the last 7 days":
                str(sum(o["placed_at"] >= week_ago for o in d.orders))}


@answer("orm-filtering")
def _(d):
    cheap = sorted((p for p in d.products if p["collection"] == 3 and p["unit_price"] < 10),
                   key=lambda p: (p["unit_price"], p["id"]))
    return [{"title": p["title"], "unit price": str(p["unit_price"])} for p in cheap]


@expect("orm-complex-lookups")
def _(d):
    found = [p for p in d.products if (p["inventory"] < 10 or p["unit_price"] > 150)
             and "coffee" not in p["title"].lower() and p["collection"] in (1, 2, 3)][:5]
    return [{"title": p["title"], "inventory": str(p["inventory"]),
             "unit price": str(p["unit_price"])} for p in found]


@answer("orm-complex-lookups")
def _(d):
    found = sorted((o for o in d.orders if o["payment_status"] != "C" or o["customer"] == 1),
                   key=lambda o: (o["placed_at"], o["id"]), reverse=True)[:5]
    return [{"order": str(o["id"]), "customer": str(o["customer"]),
             "status": dict(models.PAYMENT_STATUSES)[o["payment_status"]]} for o in found]


@expect("orm-field-references")
def _(d):
    found = [p for p in d.products if p["inventory"] > p["unit_price"]][:5]
    return {"more in stock than their price": [
                {"title": p["title"], "inventory": str(p["inventory"]),
                 "unit price": str(p["unit_price"])} for p in found],
            "rows the update of every inventory changed, then rolled back": str(len(d.products))}


@answer("orm-field-references")
def _(d):
    found = [i for i in d.items if i["unit_price"] < d.product[i["product"]]["unit_price"]][:10]
    return [{"order": str(i["order"]), "product": d.product[i["product"]]["title"],
             "sold at": str(i["unit_price"]),
             "unit price": str(d.product[i["product"]]["unit_price"])} for i in found]


@expect("orm-sorting")
def _(d):
    by_price = sorted(sorted(d.products, key=lambda p: p["title"], reverse=True),
                      key=lambda p: p["unit_price"])
    reverse = sorted(d.products, key=lambda p: (-p["unit_price"], p["title"]))
    by_update = sorted(d.products, key=lambda p: (p["last_update"], p["id"]))
    latest = sorted(sorted(d.products, key=lambda p: p["id"]),
                    key=lambda p: p["last_update"], reverse=True)
    return {"by price, then by title Z-A": [p["title"] for p in by_price[:3]],
            "the same, reversed": [p["title"] for p in reverse[:3]],
            "updated longest ago": by_update[0]["title"], "updated last": latest[0]["title"]}


@answer("orm-sorting")
def _(d):
    newest = sorted(d.orders, key=lambda o: (o["placed_at"], o["id"]), reverse=True)[:5]
    return [{"order": str(o["id"]), "placed at": str(o["placed_at"])} for o in newest]


def titles_in_order(d):
    return [p["title"] for p in sorted(d.products, key=lambda p: (p["title"], p["id"]))]


@expect("orm-limiting")
def _(d):
    titles = titles_in_order(d)
    return {"limit(3)": titles[0:3], "limit(3).offset(3)": titles[3:6],
            "paginate(3, 3): page 3, 3 a page": titles[6:9],
            "[9:12]: no LIMIT in its SQL, rows read up to the 12th, then sliced": titles[9:12]}


@answer("orm-limiting")
def _(d):
    return titles_in_order(d)[10:20]


@expect("orm-selecting-fields")
def _(d):
    cheapest = sorted(d.products, key=lambda p: (p["unit_price"], p["id"]))[:3]
    used = {p["collection"] for p in d.products}
    return {"dicts()": [{"id": str(p["id"]), "title": p["title"]} for p in cheapest],
            "tuples()": [str((p["id"], p["title"])) for p in cheapest],
            "collections with products, distinct()":
                sorted(c["title"] for c in d.collections if c["id"] in used)}


@answer("orm-selecting-fields")
def _(d):
    ordered = {i["product"] for i in d.items}
    return [p["title"] for p in sorted((p for p in d.products if p["id"] in ordered),
                                       key=lambda p: (p["title"], p["id"]))]


@expect("orm-deferring")
def _(d):
    first = d.products[:3]
    return {"titles, selected": [p["title"] for p in first],
            "descriptions, not selected": ["None"] * 3,
            "descriptions read one by one: 3 more queries": [p["description"] for p in first]}


@answer("orm-deferring")
def _(d):
    cheapest = sorted(d.products, key=lambda p: (p["unit_price"], p["id"]))[:5]
    return [{"title": p["title"], "unit_price": str(p["unit_price"])} for p in cheapest]


@expect("orm-joins-vs-prefetch")
def _(d):
    orders = d.orders[:5]
    return {"names": [d.customer[o["customer"]]["first_name"] for o in orders],
            "items per order": [str(len(items_of(d, o["id"]))) for o in orders],
            "queries, naive loop": "6", "queries, join": "1", "queries, prefetch": "2"}


@answer("orm-joins-vs-prefetch")
def _(d):
    newest = sorted(d.orders, key=lambda o: (o["placed_at"], o["id"]), reverse=True)[:5]
    return [{"order": str(o["id"]), "customer": full_name(d.customer[o["customer"]]),
             "items": [f"{i['quantity']} × {d.product[i['product']]['title']}"
                       for i in items_of(d, o["id"])]} for o in newest]


def price_summary(products, *names):
    prices = [p["unit_price"] for p in products]
    average = (sum(prices) / len(prices)).quantize(CENT, ROUND_HALF_UP)
    return dict(zip(names, (str(min(prices)), str(max(prices)), About(average))))


@expect("orm-aggregates")
def _(d):
    return dict(count=str(len(d.products)),
                **price_summary(d.products, "cheapest", "dearest", "average"))


@answer("orm-aggregates")
def _(d):
    return price_summary([p for p in d.products if p["collection"] == 3],
                         "lowest", "highest", "average")


@expect("orm-annotations")
def _(d):
    def stock(n):
        return "out" if n == 0 else "low" if n < 10 else "ok"
    return [{"title": p["title"], "inventory": str(p["inventory"]),
             "stock": stock(p["inventory"]), "restocked": str(p["inventory"] + 10)}
            for p in d.products[:5]]


@answer("orm-annotations")
def _(d):
    people = sorted(d.customers, key=lambda c: (c["last_name"], c["first_name"], c["id"]))
    return [{"first_name": c["first_name"], "last_name": c["last_name"],
             "gold": "yes" if c["membership"] == "G" else "no"} for c in people]


@expect("orm-functions")
def _(d):
    return [{"full_name": full_name(c), "shout": c["last_name"].upper(),
             "email_length": str(len(c["email"]))} for c in d.customers[:5]]


@answer("orm-functions")
def _(d):
    return sorted(full_name(c).upper() for c in d.customers)


@expect("orm-grouping")
def _(d):
    def orders(c):
        return sum(o["customer"] == c["id"] for o in d.orders)
    top = sorted(d.customers, key=lambda c: (-orders(c), c["id"]))[:5]
    return [{"first_name": c["first_name"], "last_name": c["last_name"],
             "orders": str(orders(c))} for c in top]


@answer("orm-grouping")
def _(d):
    spent = {}
    for i in d.items:
        customer = next(o["customer"] for o in d.orders if o["id"] == i["order"])
        spent[customer] = spent.get(customer, 0) + i["unit_price"] * i["quantity"]
    top = sorted(spent, key=lambda c: (-spent[c], c))[:5]
    return [{"first_name": d.customer[c]["first_name"], "last_name": d.customer[c]["last_name"],
             "spent": str(Decimal(spent[c]).quantize(CENT))} for c in top]


@expect("orm-expressions")
def _(d):
    return [{"title": p["title"], "unit price": str(p["unit_price"]),
             "unit_price * 0.8, by the database": About(p["unit_price"] * Decimal("0.8")),
             "price_after(unit_price, 20)":
                 str((p["unit_price"] * Decimal("0.8")).quantize(CENT, ROUND_HALF_UP)),
             "price paid today (stored)": str(p["price"])} for p in d.products[:5]]


@answer("orm-expressions")
def _(d):
    return [{"title": p["title"], "unit price": str(p["unit_price"]), "price": str(p["price"])}
            for p in d.products if p["price"] <= p["unit_price"] * Decimal("0.8")]


@expect("orm-generic-relations")
def _(d):
    product = d.products[0]
    tags = sorted(d.tag[t["tag"]]["label"] for t in d.tagged
                  if t["content_type"] == "product" and t["object_id"] == product["id"])
    gifts = sorted({t["object_id"] for t in d.tagged if t["content_type"] == "product"
                    and d.tag[t["tag"]]["label"] == "gift"})
    return {f"the tags of {product['title']}": tags,
            "products tagged gift": [d.product[i]["title"] for i in gifts]}


@answer("orm-generic-relations")
def _(d):
    counts = {}
    for t in d.tagged:
        if t["content_type"] == "product":
            label = d.tag[t["tag"]]["label"]
            counts[label] = counts.get(label, 0) + 1
    return [{"label": label, "products": str(n)}
            for label, n in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))]


@expect("orm-query-cache")
def _(d):
    return {"SQL queries run by each step": {
        "building the query": "0", "the first loop": "1", "a second loop": "0",
        "len(query) and query[0]": "0", "query.count()": "1",
        "query.where(...), a new query": "1"}}


@answer("orm-query-cache")
def _(d):
    return {"orders read by the loop": "3", "SQL queries run by exists()": "1"}


@expect("orm-creating")
def _(d):
    n = len(d.collections)
    return {"the new product": {"title": "Lesson tea", "slug": "lesson-tea", "price": "4.50"},
            "a product that breaks the rules": {"title": "A product needs a title.",
                                                "unit_price": "The price must be at least 1."},
            "collections inside the transaction": str(n + 1),
            "collections after the rollback": str(n)}


@answer("orm-creating")
def _(d):
    return {"items in the cart inside the transaction": "2", "items after the rollback": "0"}


@expect("orm-updating")
def _(d):
    first = d.products[0]
    return {"rows update() changed":
                str(sum(p["collection"] == first["collection"] for p in d.products)),
            "the inventory after update()": str(first["inventory"] + 10),
            "after save(), the unit price": str(first["unit_price"] + 1),
            "after save(), the inventory: the update is kept": str(first["inventory"] + 10),
            "after the rollback, the unit price": str(first["unit_price"])}


@answer("orm-updating")
def _(d):
    pending = str(sum(o["payment_status"] == "P" for o in d.orders))
    return {"orders marked complete": pending, "pending after the rollback": pending}


@expect("orm-deleting")
def _(d):
    order = d.orders[0]
    collection = next(c for c in d.collections
                      if any(p["collection"] == c["id"] for p in d.products))
    return {f"order {order['id']}'s items, deleted with it": str(len(items_of(d, order["id"]))),
            f"deleting {collection['title']}, which has products":
                "refused by the database (IntegrityError)",
            "the order is back after the rollback": "True"}


@answer("orm-deleting")
def _(d):
    failed = {o["id"] for o in d.orders if o["payment_status"] == "F"}
    return {"items deleted": str(sum(i["order"] in failed for i in d.items)),
            "orders deleted": str(len(failed)), "failed orders after the rollback": str(len(failed))}


@expect("orm-transactions")
def _(d):
    n = len(d.orders)
    return {"orders before": str(n), "orders inside the transaction": str(n + 1),
            "orders after the rollback": str(n)}


@answer("orm-transactions")
def _(d):
    return {"collections before": str(len(d.collections)),
            "collections after": str(len(d.collections))}


@expect("orm-raw-sql")
def _(d):
    top = sorted((p for p in d.products if p["unit_price"] > 100),
                 key=lambda p: (-p["unit_price"], p["id"]))[:3]
    return [{"id": str(p["id"]), "title": p["title"], "unit price": About(p["unit_price"])}
            for p in top]


@answer("orm-raw-sql")
def _(d):
    def orders(c):
        return sum(o["customer"] == c["id"] for o in d.orders)
    top = sorted((c for c in d.customers if orders(c)), key=lambda c: (-orders(c), c["id"]))
    return [{"first name": c["first_name"], "last name": c["last_name"],
             "orders": str(orders(c))} for c in top[:5]]


# --- Every lesson -------------------------------------------------------------------------------

@pytest.mark.parametrize("lesson", LESSONS, ids=[l.path for l in LESSONS])
def test_lesson_shows_code_django_sql_and_the_result_it_should(client, data, lesson):
    page = visit(client, lesson)
    code, django, sql, result = (page.sections[s] for s in ("code", "django", "sql", "result"))
    assert all(section is not None for section in (code, django, sql, result)), \
        "a lesson page has the sections code, django, sql and result"
    # the Peewee code is the handler's own, read from app.py
    source = textwrap.dedent(inspect.getsource(lesson.handler))
    assert text(by_class(code, "code")) == from_def(source)
    # the Django way, and one sentence on where the two differ
    assert text(by_class(django, "code")) == lesson.django
    assert lesson.differs in text(by_class(django, "differs"))
    # as many statements as the lesson says it runs, each with its parameters and time
    statements = elements(page.queries())
    assert len(statements) == lesson.queries, \
        f"{lesson.path}: app.py says it runs {lesson.queries} SQL statements, it ran " \
        f"{len(statements)}"
    claim = "no SQL" if lesson.queries == 0 else f"{lesson.queries} SQL quer"
    assert f"This lesson runs {claim}" in text(sql) and "This time it ran" not in text(sql)
    assert all(re.search(r"parameters .* · \d+\.\d\d ms", text(s)) for s in statements)
    # what it returned: what this test works out by itself
    expected = shown(EXPECTED[lesson.path](data))
    assert page.result == expected


EXERCISES = [l for l in LESSONS if l.answer]


@pytest.mark.parametrize("lesson", EXERCISES, ids=[l.path for l in EXERCISES])
def test_exercise_answers_behind_a_disclosure(client, data, lesson):
    page = visit(client, lesson)
    exercise = page.sections["exercise"]
    assert lesson.question in text(exercise)
    details = find(exercise, lambda n: n[0] == "details")
    assert text(elements(details)[0]) == "Show the answer" and "open" not in details[1]
    source = textwrap.dedent(inspect.getsource(lesson.answer))
    assert text(by_class(details, "code")) == from_def(source)
    assert elements(page.queries("exercise"))       # it ran, and shows its SQL
    assert page.answer == shown(ANSWERS[lesson.path](data))


def test_every_exercise_answer_runs_in_the_shell_as_its_page_shows_it(shop):
    failed = {}
    for lesson in EXERCISES:
        namespace = storefront.shell_namespace()
        try:
            exec(storefront.code_of(lesson.answer), namespace)
            namespace[lesson.answer.__name__]()
        except Exception as error:
            failed[lesson.path] = repr(error)
    assert not failed, f"answers that fail in `python app.py shell`: {failed}"


def test_python_app_py_shell_runs_the_answers_pasted_into_it(shop, settings, tmp_path):
    import subprocess
    import sys
    from conftest import subprocess_env
    pasted = "".join(f"{storefront.code_of(l.answer)}\n\nprint('ran', {l.path!r}, "
                     f"type({l.answer.__name__}()).__name__)\n" for l in EXERCISES)
    models.db.close()
    done = subprocess.run([sys.executable, "app.py", "shell"], input=pasted, text=True,
                          capture_output=True, timeout=120,
                          cwd=os.path.dirname(os.path.abspath(storefront.__file__)),
                          env=subprocess_env(tmp_path, DATABASE_URL=settings.database_url))
    ran = re.findall(r"^(?:>>> |\.\.\. )*ran (\S+)", done.stdout, re.M)
    assert ran == [l.path for l in EXERCISES], done.stderr[-2000:]
    assert "Error" not in done.stderr, done.stderr[-2000:]


def test_every_lesson_is_checked_and_a_group_has_exercises_for_all_or_none():
    assert set(EXPECTED) == {l.path for l in LESSONS}, "a lesson without its expected result"
    assert set(ANSWERS) == {l.path for l in EXERCISES}, "an exercise without its answer"
    for group in storefront.LESSON_GROUPS:
        has = {l.path: bool(l.answer) for l in LESSONS if l.group == group["title"]}
        assert len(set(has.values())) == 1, f"{group['title']}: exercises for some only: {has}"
    for l in LESSONS:
        assert bool(l.question) == bool(l.answer), f"{l.path}: a question needs its answer"


def test_every_text_has_its_handler_in_the_order_of_the_index():
    for group in storefront.LESSON_GROUPS:
        written = [t["path"] for t in group["lessons"]]
        coded = [l.path for l in LESSONS if l.group == group["title"]]
        assert coded == written, f"{group['title']}: the text lists {written}, app.py {coded}"
    in_groups = [l.group for l in LESSONS]
    assert in_groups == sorted(in_groups, key=[g["title"] for g in storefront.LESSON_GROUPS].index)


def test_the_toolbar_lesson_tells_what_every_panel_of_the_code_shows():
    panels = storefront.LESSON_TEXT["debug-toolbar"]["panels"]
    assert list(panels) == storefront.DEBUG_PANELS, \
        f"the panels of DEBUG_PANELS, each with its line in the lesson's text: {list(panels)}"


def test_the_orm_lessons_say_what_plays_the_part_of_django_managers():
    said = [l.path for l in LESSONS if "manager" in l.differs and "Product.catalog" in l.differs]
    assert said, "no lesson says that Peewee has no managers and what does their work"
    assert callable(storefront.named("models.py: Product.catalog")[1])


def test_lesson_texts_read_as_the_index_needs():
    for l in LESSONS:
        # one sentence each, plainly ended; the summary short enough for one line of the index
        assert l.differs.endswith(".") and ". " not in l.differs, l.path
        assert l.summary.endswith(".") and len(l.summary) <= 90, l.path


# --- The index, the references, the special lessons ---------------------------------------------

def test_index_groups_the_lessons_with_one_line_each(client):
    index = client.get("/playground/").text
    tree = Tree(index).root
    for group in (g["title"] for g in storefront.LESSON_GROUPS):
        section = by_id(tree, group.lower().replace(" ", "-"))
        assert text(find(section, lambda n: n[0] == "h2")) == group
        links = [(a[1]["href"], text(a)) for a in elements(by_class(section, "lesson-list"))
                 for a in elements(a) if a[0] == "a"]
        assert links == [(l.href(), l.title) for l in LESSONS if l.group == group]
        lines = [text(li) for li in elements(by_class(section, "lesson-list"))]
        assert lines == [f"{l.title} — {l.summary}" for l in LESSONS if l.group == group]
    tour = find(by_class(tree, "tour-link"), lambda n: n[0] == "a")
    assert tour[1]["href"] == "/playground/tour"


@pytest.mark.parametrize("lesson", LESSONS, ids=[l.path for l in LESSONS])
def test_where_the_shop_does_it_names_real_code(lesson):
    reference = storefront.code_reference(lesson.lives_in)
    name = reference["name"].split(".")[-1]
    with open(os.path.join(os.path.dirname(storefront.__file__), reference["file"])) as f:
        lines = f.read().splitlines()
    near = lines[reference["line"] - 1:reference["line"] + 3]     # decorators come first
    assert any(re.match(rf"\s*(def|class) {name}\b|{name} = ", line) for line in near), near
    assert reference["code"].splitlines()[0].strip() == lines[reference["line"] - 1].strip()


def test_lesson_page_links_the_reference_and_its_neighbours(client, shop):
    lesson = next(l for l in LESSONS if l.path == "orm-deleting")
    page = visit(client, lesson)
    reference = storefront.code_reference(lesson.lives_in)
    summary = text(find(page.sections["lives-in"], lambda n: n[0] == "summary"))
    assert summary == f"delete_rows in models.py, line {reference['line']}"
    assert "def delete_rows(model, where):" in text(page.sections["lives-in"])
    n = LESSONS.index(lesson)
    nav = by_class(page.tree, "lesson-nav")
    assert [a[1]["href"] for a in elements(nav)] == [LESSONS[n - 1].href(), "/playground/",
                                                     LESSONS[n + 1].href()]


def test_url_lesson_converts_its_parameters_and_refuses_others(client):
    lesson = next(l for l in LESSONS if l.path.startswith("urls/"))
    page = Page(client.get("/playground/urls/grace/7"))
    assert page.result["name"] == "grace" and page.result["number"] == "7"
    assert "GET /playground/urls/&lt;name&gt;/&lt;number:int&gt;" in page.html
    client.get("/playground/urls/grace/7x", status=404)
    assert lesson.href() == "/playground/urls/ada/42"


def test_result_tables_keep_the_order_of_the_columns_selected(client, shop):
    lesson = next(l for l in LESSONS if l.path == "orm-grouping")
    assert list(visit(client, lesson).result[0]) == ["first_name", "last_name", "orders"]


def test_views_lesson_renders_hello_world_through_a_template(client):
    page = client.get("/playground/hello")
    assert '<div class="rendered"><h1 class="hello">Hello World</h1>' in page.text


def test_templates_lesson_escapes_what_it_prints(client, shop):
    page = client.get("/playground/templates")
    assert "<script>alert" not in page.text
    assert "&amp;lt;script&amp;gt;" in page.text     # escaped by the lesson, then by the page


def test_static_lesson_reports_the_real_file(client):
    page = Page(client.get("/playground/static-files"))
    served = client.get("/static/css/base.css")
    headers = page.result["its headers"]
    assert headers["ETag"] == served.headers["ETag"]
    assert headers["Last-Modified"] == served.headers["Last-Modified"]
    # Attack: a HEAD, or a request that says it has the file already, was a 500 here.
    assert client.head("/playground/static-files").status_int == 200
    again = client.get("/playground/static-files", headers={
        "If-None-Match": served.headers["ETag"], "Range": "bytes=999999-"})
    assert again.status_int == 200 and "its status" in again.text


def test_page_cache_lesson_keeps_the_page_a_visitor_gets(client, shop):
    page = Page(client.get("/playground/page-cache"))
    size = len(client.get("/collections").text)
    assert page.result["the page in the cache"] == f"{size:,} characters"


def lesson_form(page):
    return next(f for f in page.forms.values() if f.action == page.request.path)


def test_sessions_lesson_counts_in_a_session_made_by_its_post(client):
    page = client.get("/playground/sessions")
    assert "storefront_session" not in client.cookies        # reading made no session
    page = lesson_form(page).submit(status=303).follow()
    result = Page(page).result
    assert result["the counter"] == "1" and "lesson_visits" in result["what it holds"]
    assert client.cookies["storefront_session"]
    page = lesson_form(page).submit(status=303).follow()
    assert Page(page).result["the counter"] == "2"


def test_sessions_lesson_post_needs_the_csrf_token(client):
    client.post("/playground/sessions", status=403)
    client.post("/playground/sessions", {"csrf_token": "forged"}, status=403)
    assert "storefront_session" not in client.cookies


def test_messages_lesson_shows_a_message_once(client):
    page = client.get("/playground/messages")
    page = lesson_form(page).submit(status=303).follow()
    message = "Queued by the POST, shown once, after the redirect."
    assert f'<div class="flash flash-success" role="status">{message}</div>' in page.text
    assert Page(page).result["the messages it holds"] == [message]
    assert "storefront_session" not in client.cookies        # a message needs no session
    again = Page(client.get("/playground/messages"))
    assert not by_class(again.tree, "flash") and again.result["the messages it holds"] == []


def test_authentication_lesson_hash_checks_out_and_the_guard_lets_users_in(client, login_as):
    page = Page(client.get("/playground/authentication"))
    assert models.check_password("correct horse", page.result["the stored hash"])
    assert not models.check_password("correct horse!", page.result["the stored hash"])
    login_as("alice")
    page = Page(client.get("/playground/authentication"))
    assert page.result["a guarded page gives you"] == "the page itself"
    assert len(elements(page.queries())) == 0       # who you are is the page's own query


def test_caching_lesson_second_call_is_served_from_its_own_region(client, shop):
    page = Page(client.get("/playground/caching"))
    first, second = (float(page.result[k].split()[0]) for k in ("first call", "second call"))
    assert first >= 100 > second        # the slow call sleeps 0.1 s, the cached one does not
    region = storefront.cache.get_cache_region("storefront.playground", "playground")
    assert region.has_key("slow_report")


# --- Safe for anyone ------------------------------------------------------------------------------

def snapshot():
    """Every row of every table, so a changed price or a moved stock shows up too."""
    return {model.__name__: list(model.select().order_by(*model._meta.get_primary_keys())
                                 .tuples())
            for model in models.MODELS if model._meta.primary_key}


def shop_cache():
    """The generations of the shop's cache and what its regions hold (all but the
    playground's own)."""
    regions = [r for r in storefront.CACHE_REGIONS if r != "playground"]
    return cache_generations(), {
        region: dict(storefront.cache.get_cache_region("storefront." + region, region)
                     .namespace.dictionary) for region in regions}


def test_visiting_every_lesson_leaves_the_shop_as_it_was(client, shop, settings):
    client.get("/products/1")           # the shop caches this page for visitors
    client.get("/collections")
    client.get("/products")
    cached = shop_cache()
    assert cached[1]["pages"] and cached[1]["fragments"]
    before = snapshot()
    for lesson in LESSONS:
        client.get(lesson.href())
    client.get("/playground/tour")
    client.get("/playground/")
    assert snapshot() == before
    assert shop_cache() == cached
    with count_queries() as counter:
        client.get("/products/1")       # still served from the cache: no SQL at all
    assert counter.count == 0
    assert "storefront_session" not in client.cookies       # no lesson GET made a session
    assert not any(files for _, _, files in os.walk(os.path.join(settings.data_dir, "sessions")))


def test_the_snapshot_sees_a_write_that_a_lesson_would_forget_to_undo(client, shop):
    before = snapshot()
    models.Product.update(inventory=models.Product.inventory + 1).where(
        models.Product.id == 1).execute()
    assert snapshot() != before


# --- The tour ------------------------------------------------------------------------------------

TOUR_TEXT = storefront.playground_text("tour")["stops"]


def test_tour_shows_each_stop_of_its_text_with_the_code_it_names(client, shop):
    tree = Tree(client.get("/playground/tour").text).root
    stops = elements(by_class(tree, "tour"))
    assert [text(elements(stop)[0]) for stop in stops] == [s["title"] for s in TOUR_TEXT]
    for stop, written in zip(stops, TOUR_TEXT):
        heading, _, place, code = elements(stop)
        if "file" in written:
            name, where = written["file"] + ".tpl", f"views/{written['file']}.tpl"
        else:
            function = storefront.named(written["code"])[1]
            name, where = function.__qualname__, written["code"].partition(": ")[0]
        assert text(place).startswith(f"{name} · {where}, line "), written["title"]
        if written.get("around"):
            assert written["around"] in text(code), f"{written['title']}: no {written['around']}"
    page = client.get("/playground/tour").text
    assert "/products/1 to the route /products/&lt;product_id&gt;" in page
    hooks = ", ".join(h.__name__ for h in storefront.root._hooks["before_request"])
    assert f"before_request hooks run: {hooks}." in page


def served_by_runserver(monkeypatch):
    """The WSGI application `python app.py` hands to waitress (the server is not started)."""
    import waitress

    class Served(Exception):
        pass

    def create_server(app, **options):
        served.append(app)
        raise Served
    served = []
    monkeypatch.setattr(waitress, "create_server", create_server)
    with pytest.raises(Served):
        storefront.main(["runserver", "--no-demo", "127.0.0.1:8123"])
    return served[0]


def calls_in_order(application, path):
    """The qualified names of the functions a GET of `path` calls, first calls only, in order."""
    import sys
    from webtest import TestApp
    called = {}

    def profile(frame, event, arg):
        if event == "call":
            called.setdefault(frame.f_code.co_qualname, len(called))
    sys.setprofile(profile)
    try:
        TestApp(application, extra_environ={"REMOTE_ADDR": "127.0.0.1"}).get(path)
    finally:
        sys.setprofile(None)
    return called


def first_call(called, function):
    """When `function`, or a function it defines (a middleware's inner wsgi), first ran."""
    name = function.__qualname__
    return min((n for qualname, n in called.items()
                if qualname == name or qualname.startswith(name + ".<locals>.")), default=None)


# What the tour shows but a request through WebTest does not run: the real server, and the
# start-up that made the application.
NOT_IN_A_WEBTEST_REQUEST = {"WSGITask.execute", "cmd_runserver"}


def test_tour_follows_python_app_py_in_the_order_its_code_runs(shop, monkeypatch):
    called = calls_in_order(served_by_runserver(monkeypatch), "/products/1")
    _, stops = storefront.tour_stops()
    order, skipped, shown = [], set(), set()
    for stop, written in zip(stops, TOUR_TEXT):
        if "file" in written or written["code"] in shown:   # the way back out: the response
            continue
        shown.add(written["code"])
        n = first_call(called, storefront.named(written["code"])[1])
        if n is None:
            skipped.add(stop["name"])
        else:
            order.append((n, stop["title"]))
    assert skipped == NOT_IN_A_WEBTEST_REQUEST, f"stops that never ran: {skipped}"
    assert order == sorted(order), f"the tour's order is not the order the code runs: {order}"
    assert order[0][1] == "The request logger", "python app.py's outermost layer"


def test_under_gunicorn_the_stack_starts_with_the_request_logger(shop):
    application = storefront._Application()
    calls_in_order(application, "/products/2")     # the first request builds the stack
    called = calls_in_order(application, "/products/1")
    outermost = first_call(called, storefront.log_requests)
    assert outermost < first_call(called, storefront.with_security_headers)
    assert first_call(called, storefront._Application.__call__) < outermost
    assert all(n > outermost for n in (first_call(called, storefront.closing_database),
                                       first_call(called, storefront.render)))
    stop = next(s for s in TOUR_TEXT if s["code"] == "app.py: cmd_runserver")
    assert "gunicorn" in stop["text"] and "_Application" in stop["text"]


def test_tour_reads_its_code_from_the_source_as_it_is_now(client, shop):
    source, start = inspect.getsourcelines(storefront.product_detail)
    tree = Tree(client.get("/playground/tour").text).root
    n = next(n for n, s in enumerate(TOUR_TEXT) if s.get("code") == "app.py: product_detail")
    handler = elements(by_class(tree, "tour"))[n]
    assert text(elements(handler)[2]).endswith(f"app.py, line {start}")
    assert text(elements(handler)[3]) == textwrap.dedent("".join(source[:14])).rstrip()


def test_tour_stops_find_their_lines_in_the_libraries_installed(shop):
    path, stops = storefront.tour_stops()
    assert path == "/products/1"
    lost = [stop["title"] for stop in stops if not stop["found"]]
    assert not lost, f"a library changed under the tour: {lost}"
    assert not storefront.code_stop("", "", "app.py: render", "no such line")["found"]
