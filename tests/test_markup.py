"""Every page is valid HTML, as the Nu HTML Checker (the W3C's validator) reads it.

The pages are fetched through WebTest as a visitor, a customer and a superuser: every GET
route without parameters, every route with parameters filled from the demo shop, every
page of the admin for every model, and the pages a form leads to (an error, a token shown
once, an import's preview). The checker runs once over all of them.

It needs Java and the checker's jar: `npm install vnu-jar` and point STOREFRONT_TEST_VNU_JAR at
node_modules/vnu-jar/build/dist/vnu.jar (.ci/run does). Without them the test is skipped.
"""
import json
import os
import re
import shutil
import subprocess

import pytest

import app as storefront
import models
from conftest import new_client
from test_import import HEADER, to_csv, upload

VNU = os.environ.get("STOREFRONT_TEST_VNU_JAR", "")


def pages_of_the_shop():
    """(who, path) for every page a person can open."""
    product = models.Product.select().where(models.Product.inventory > 0).first()
    order = models.Order.select().first()
    examples = {"product_id": product.id, "collection_id": product.collection_id,
                "label": models.Tag.select().first().label, "order_id": order.id,
                "name": "world", "number": 7}
    pages = []
    for route in storefront.root.routes:
        if route.method != "GET" or route.rule.startswith(("/static/", "/__debug__/", "/api/")) \
                or route.rule.endswith((".csv", "/autocomplete")) or "/admin/" in route.rule:
            continue
        names = re.findall(r"<(\w+)(?::[^>]*)?>", route.rule)
        if all(name in examples for name in names):
            who = "customer" if route.rule.startswith(
                ("/orders", "/accounts/likes", "/cart", "/checkout")) else "staff"
            pages.append((who, storefront.url(route.name, **{n: examples[n] for n in names})))
    pages += [("visitor", "/"), ("visitor", "/products/{}".format(product.id)),
              ("visitor", "/accounts/login"), ("visitor", "/no-such-page"),
              ("visitor", "/products?q=aged&sort=price"), ("visitor", "/api/docs")]
    pages.append(("staff", "/admin/"))
    for spec in storefront.REGISTRY.values():
        row = spec.model.select().first()
        pages.append(("staff", f"/admin/{spec.name}/"))
        if spec.can_add:
            pages.append(("staff", f"/admin/{spec.name}/add"))
        if row is not None:
            pages += [("staff", f"/admin/{spec.name}/{row.get_id()}/"),
                      ("staff", f"/admin/{spec.name}/{row.get_id()}/history")]
            if spec.can_delete:
                pages.append(("staff", f"/admin/{spec.name}/{row.get_id()}/delete"))
    return pages


def conflict_pages(wsgi, client):
    """(what, page) of the saves refused because someone else saved the same field since the
    form was opened: a change form's and a list edit's. `client` is a superuser's."""
    other = new_client(wsgi)
    form = other.get("/accounts/login").forms["login-form"]
    form["username"], form["password"] = "boss", "correct horse battery"
    form.submit()
    product = models.Product.select().order_by(models.Product.id).first()
    pages = []
    for path, form_id, field in (
            (f"/admin/product/{product.id}/", "admin-form", "title"),
            (f"/admin/product/?collection={product.collection_id}", "edit-form",
             f"row-{product.id}-unit_price")):
        mine, theirs = (browser.get(path).forms[form_id] for browser in (client, other))
        theirs[field] = "42"
        theirs.submit(status=303)
        mine[field] = "43"
        pages.append((f"{path} (saved over someone else's change)", mine.submit(status=409)))
    return pages


def import_pages(client):
    """(what, page) of the product import: its form refusing no file, a preview with a new, a
    changed, an unchanged and an error row, and the preview shown again when a product
    changed since (409). `client` is a superuser's."""
    changed, same = models.Product.select().order_by(models.Product.id).limit(2)

    def row(product, **change):
        values = dict(zip(HEADER, (product.slug, product.title, product.collection.title,
                                   str(product.unit_price), str(product.inventory),
                                   product.description)), **change)
        return list(values.values())
    new = row(same, Slug="", Title="Fresh Bread")
    pages = [("the import with no file", upload(client, b"", status=400)),
             ("an import's preview with every kind of row", upload(client, to_csv(
                 [HEADER, row(changed, **{"Unit price": "77.00"}), row(same), new,
                  row(same, Slug="Not A Slug")]), status=303).follow())]
    preview = upload(client, to_csv([HEADER, row(changed, **{"Unit price": "78.00"}), new]),
                     status=303).follow()
    models.Product.update(inventory=changed.inventory + 1).where(
        models.Product.id == changed.id).execute()
    return pages + [("an import's preview again (409)",
                     preview.forms["import-confirm-form"].submit(status=409))]


def token_and_photo_pages(client):
    """(what, page) of API tokens made on the account page and in the admin (shown once, a
    form's error), and of a product's form with its photo's error. `client` is a
    superuser's."""
    pages = []
    for path, form_id, fields, status in (
            ("/accounts/", "token-form", {"name": ""}, 400),
            ("/accounts/", "token-form", {"name": "nightly export", "expires": "30"}, 200),
            ("/admin/apitoken/add", "admin-form", {"user": "1", "name": "a robot"}, 200),
            (f"/admin/product/{models.Product.select().first().id}/", "admin-form",
             {"productimage-0-alt": ""}, 400)):
        form = client.get(path).forms[form_id]
        for name, value in fields.items():
            form[name] = value
        pages.append((f"{path} sent {fields}", form.submit(status=status)))
    return pages + [("/accounts/ with tokens", client.get("/accounts/"))]


@pytest.mark.skipif(not (VNU and os.path.exists(VNU) and shutil.which("java")),
                    reason="no Nu HTML Checker: set STOREFRONT_TEST_VNU_JAR (npm install vnu-jar)"
                           " and install Java")
def test_every_page_is_valid_html(wsgi, shop, login_as, client, tmp_path, monkeypatch):
    login_as("boss", is_staff=True, is_superuser=True)
    monkeypatch.setattr(storefront.settings, "page_size", 2)   # the customer's orders: pages
    customer = new_client(wsgi)
    user = models.User.create_user("carol", "carol@example.com", "correct horse battery")
    models.Customer.update(user=user).where(
        models.Customer.id == models.Order.select().first().customer_id).execute()
    form = customer.get("/accounts/login").forms["login-form"]
    form["username"], form["password"] = "carol", "correct horse battery"
    form.submit()
    in_stock = models.Product.select().where(models.Product.inventory > 0).first()
    customer.post("/cart/items", {"product_id": in_stock.id, "quantity": 1,
                                  "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                                          customer.get("/cart").text).group(1)})
    # The product page's gallery: a second photo.
    models.ProductImage.create(product=in_stock, photo=models._demo_photo("Z", 3), position=1,
                               alt="A drawing of the letter Z")
    after_forms = import_pages(client) + token_and_photo_pages(client)
    browsers = {"visitor": new_client(wsgi), "customer": customer, "staff": client}
    files = {}
    for n, (who, path) in enumerate(pages_of_the_shop()):
        response = browsers[who].get(path, expect_errors=True)
        assert response.status_int in (200, 404), (who, path, response.status)
        file = tmp_path / f"page{n}.html"
        file.write_bytes(response.body)
        files[str(file)] = f"{path} (as {who})"
    for what, response in conflict_pages(wsgi, client) + after_forms:
        file = tmp_path / f"page{len(files)}.html"
        file.write_bytes(response.body)
        files[str(file)] = what
    assert len(files) > 60
    result = subprocess.run(["java", "-jar", VNU, "--errors-only", "--format", "json", *files],
                            capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    errors = [f"{files.get(m.get('url', '').replace('file:', ''), m.get('url'))} line "
              f"{m.get('lastLine')}: {m['message']}" for m in messages]
    assert not errors, "\n".join(errors)
