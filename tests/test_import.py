"""The admin's product import (/admin/product/import): upload a CSV, preview every row, confirm;
the whole file in one transaction or nothing; its own permission."""
import csv
import io
import time
from decimal import Decimal

import pytest
import webtest

import models
from models import AdminLogEntry, Collection, Product, ProductImport


@pytest.fixture
def staff(login_as):
    return login_as("boss", is_staff=True, is_superuser=True)


def snapshot():
    """Every product as the import could change it."""
    return [tuple(str(p.__data__[name]) for name in ("id", "price", "last_update")
                  + models.IMPORT_FIELDS) for p in Product.select().order_by(Product.id)]


def export(client):
    return client.get("/admin/product/export.csv").body


def upload(client, content, filename="products.csv", **submit):
    form = client.get("/admin/product/import").forms["import-form"]
    form["file"] = webtest.Upload(filename, content, "text/csv")
    return form.submit(**submit)


def preview(client, content, **kwargs):
    return upload(client, content, status=303, **kwargs).follow()


def rows_of(content):
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def to_csv(rows):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


HEADER = ["Slug", "Title", "Collection", "Unit price", "Inventory", "Description"]


def test_an_export_imports_back_unchanged(client, staff, shop):
    Product.update(title="=HYPERLINK(1)", description="- a list\n- of lines").where(
        Product.id == 1).execute()      # written defused ('=...) by the export, read back
    before = snapshot()
    page = preview(client, export(client))
    counts = page.html.select_one(".import-counts").text.split()
    assert counts[:6] == ["0", "new,", "0", "changed,", str(len(before)), "unchanged,"]
    page.forms["import-confirm-form"].submit(status=303)
    assert snapshot() == before and ProductImport.select().count() == 0


def test_a_bom_is_accepted(client, staff, shop):
    page = preview(client, b"\xef\xbb\xbf" + export(client))
    assert f"{Product.select().count()} unchanged" in page.text


def test_preview_shows_new_and_changed_rows_then_applies_them(client, staff, shop):
    product = Product.get_by_id(2)
    collection = Collection.get_by_id(1)
    content = to_csv([HEADER, [product.slug, product.title, product.collection.title,
                               "123.40", str(product.inventory), product.description],
                      ["", "Linen Shirt", collection.title, "39.90", "7", "Soft and cool."]])
    page = preview(client, content)
    assert f"Unit price: ${product.unit_price:,} → $123.40" in page.text
    assert "Adds it to " + collection.title in page.text and "linen-shirt" in page.text
    assert page.forms["import-confirm-form"].submit(status=303).follow().status_int == 200
    changed = Product.get_by_id(2)
    assert changed.unit_price == Decimal("123.40")
    assert changed.price == models.price_after(Decimal("123.40"), changed.best_discount())
    shirt = Product.get(Product.slug == "linen-shirt")
    assert (shirt.title, shirt.unit_price, shirt.price, shirt.inventory, shirt.collection_id) == \
        ("Linen Shirt", Decimal("39.90"), Decimal("39.90"), 7, collection.id)
    assert [p.title for p in Product.search(Product.select(), "linen")] == ["Linen Shirt"]
    history = {e.object_id: e.change_message for e in AdminLogEntry.select()}
    assert history == {"2": "Changed unit price (imported).", str(shirt.id): "Added (imported)."}


def test_ten_thousand_rows_preview_and_apply_in_seconds(client, staff, shop):
    collections = [c.title for c in Collection.select()]
    existing = list(Product.select().order_by(Product.id))
    rows = [HEADER] + [[p.slug, p.title, p.collection.title, str(p.unit_price + 1),
                        str(p.inventory), p.description] for p in existing]
    n = 10_000 - len(existing)
    rows += [[f"bulk-{i}", f"Bulk item {i}", collections[i % len(collections)],
              f"{2 + i % 500}.50", str(i % 40), f"Item {i} of a supplier's list."]
             for i in range(n)]
    started = time.perf_counter()
    page = preview(client, to_csv(rows))
    previewed = time.perf_counter()
    page.forms["import-confirm-form"].submit(status=303)
    applied = time.perf_counter()
    print(f"10,000 rows: preview {previewed - started:.1f} s, apply {applied - previewed:.1f} s")
    assert Product.select().count() == len(existing) + n
    assert Product.get(Product.slug == "bulk-9").unit_price == Decimal("11.50")
    assert Product.get_by_id(existing[0].id).unit_price == existing[0].unit_price + 1
    assert previewed - started < 30 and applied - previewed < 30


FILE_REFUSALS = [
    (b"", "The file is empty."),
    (b"   \n\n", "The file is empty."),
    (b"Slug,Title,Collection,Unit price,Inventory\n", "The file has a header but no rows"),
    (b"Title,Collection,Unit price,Inventory,Colour\nA,Bakery,2,1,red\n",
     "Unknown column &#039;Colour&#039;"),
    (b"Title,Collection,Inventory\nA,Bakery,1\n", "The file has no Unit price column"),
    (b"Title,Title,Collection,Unit price,Inventory\nA,A,Bakery,2,1\n", "is there twice"),
    (b"PK\x03\x04\x00\x00binary spreadsheet", "The file is not CSV text"),
]


@pytest.mark.parametrize("content,message", FILE_REFUSALS)
def test_a_file_that_cannot_be_imported_is_refused_with_the_reason(client, staff, shop,
                                                                    content, message):
    before = snapshot()
    page = upload(client, content, status=400)
    assert message in page.text
    assert snapshot() == before and ProductImport.select().count() == 0


def test_no_file_chosen(client, staff, shop):
    form = client.get("/admin/product/import").forms["import-form"]
    assert "Choose a CSV file" in form.submit(status=400).text


def test_a_file_too_big_is_refused_before_it_is_read(client, staff, shop):
    big = b"Title,Collection,Unit price,Inventory\n" + b"x" * (models.IMPORT_MAX_BYTES + 1)
    assert "larger than 10 MB" in upload(client, big, status=400).text      # read, refused
    huge = big + b"x" * 100_000
    assert "at most 10 MB" in upload(client, huge, status=413).text     # not even read
    assert ProductImport.select().count() == 0


ROW_ERRORS = [
    ({"Unit price": "abc"}, "Unit price: Not a valid decimal value"),
    ({"Unit price": "0.50"}, "Unit price: The price must be at least 1."),
    ({"Unit price": "1e400"}, "Unit price:"),
    ({"Inventory": "-3"}, "Inventory: Inventory cannot be negative."),
    ({"Inventory": "2.5"}, "Inventory: Not a valid integer value"),
    ({"Title": ""}, "Title: This field is required."),
    ({"Collection": "Nowhere"}, "Collection: There is no collection called &#039;Nowhere&#039;."),
    ({"Title": "=HYPERLINK(\"http://x\")"}, "Title: A formula is not imported"),
    ({"Description": "@SUM(A1)"}, "Description: A formula is not imported"),
    ({"Slug": "Not A Slug"}, "Slug: Use lowercase letters"),
]


@pytest.mark.parametrize("change,message", ROW_ERRORS)
def test_a_row_a_form_would_refuse_is_an_error_and_nothing_is_imported(client, staff, shop,
                                                                       change, message):
    before = snapshot()
    product = Product.get_by_id(3)
    values = dict(zip(HEADER, [product.slug, product.title, product.collection.title,
                               str(product.unit_price), str(product.inventory), "ok"]))
    new = dict(zip(HEADER, ["fresh-bread", "Fresh Bread", product.collection.title, "4.20",
                            "3", "Warm."]))
    page = preview(client, to_csv([HEADER, list(new.values()), list(dict(values, **change)
                                                                     .values())]))
    assert "1 with errors" in page.text and message in page.text
    row = page.html.select_one("tr.import-error")
    assert row.select("td")[0].text == "3"          # its row number as a spreadsheet shows it
    assert "import-confirm-form" not in page.forms
    assert snapshot() == before


def test_a_slug_twice_in_the_file_is_an_error(client, staff, shop):
    collection = Collection.get_by_id(1).title
    page = preview(client, to_csv([HEADER, ["a-b", "A", collection, "2", "1", ""],
                                   ["a-b", "B", collection, "3", "1", ""]]))
    assert "Slug: Row 2 has the same slug." in page.text


def test_latin_1_is_read_with_a_notice(client, staff, shop):
    collection = Collection.get_by_id(1).title
    content = "Title,Collection,Unit price,Inventory\nCafé crème,{},2.50,4\n".format(collection)
    page = preview(client, content.encode("latin-1"))
    assert "not UTF-8 text: it was read as Windows-1252" in page.text
    assert "Café crème" in page.text
    page.forms["import-confirm-form"].submit(status=303)
    assert Product.get(Product.slug == "cafe-creme").title == "Café crème"


def test_semicolons_as_a_european_spreadsheet_writes_them(client, staff, shop):
    collection = Collection.get_by_id(1).title
    page = preview(client, f"Title;Collection;Unit price;Inventory\nRye;{collection};3;2\n"
                   .encode())
    assert "1 new" in page.text


def test_a_product_changed_after_the_preview_refuses_the_import_and_shows_it_again(
        client, staff, shop):
    """The confirmation carries a fingerprint of what the preview showed: if a product of the
    file changed meanwhile, nothing is imported and the new preview is shown (409)."""
    product = Product.get_by_id(4)
    row = [product.slug, product.title, product.collection.title, "77.00",
           str(product.inventory), product.description]
    page = preview(client, to_csv([HEADER, row]))
    Product.update(unit_price=Decimal("55.00"), price=Decimal("55.00")).where(
        Product.id == 4).execute()          # someone else, meanwhile
    again = page.forms["import-confirm-form"].submit(status=409)
    assert "changed since you saw its preview" in again.text
    assert "Unit price: $55.00 → $77.00" in again.text
    assert Product.get_by_id(4).unit_price == Decimal("55.00")
    again.forms["import-confirm-form"].submit(status=303)       # confirmed as it is now
    assert Product.get_by_id(4).unit_price == Decimal("77.00")


def test_the_import_needs_its_own_permission(client, login_as, shop, csrf):
    clerk = login_as("clerk", is_staff=True)
    for codename in ("product.view", "product.add", "product.change"):
        models.UserPermission.create(user=clerk, codename=codename)
    assert "Import</a>" not in client.get("/admin/product/").text
    client.get("/admin/product/import", status=403)
    client.post("/admin/product/import", {"csrf_token": csrf()}, status=403)
    models.UserPermission.create(user=clerk, codename="product.import")
    assert "Import</a>" in client.get("/admin/product/").text
    page = preview(client, export(client))
    stored = ProductImport.get()
    models.UserPermission.delete().where(models.UserPermission.codename == "product.import") \
        .execute()
    page.forms["import-confirm-form"].submit(status=403)
    client.get(f"/admin/product/import/{stored.id}", status=403)


def test_the_permission_is_offered_to_users_and_groups(client, staff, shop):
    page = client.get("/admin/user/add")
    assert "product.import" in [box._value for box in page.forms["admin-form"].fields["permissions"]]
    assert "order.import" not in page.text


def test_someone_elses_upload_is_a_404(client, staff, shop, make_user):
    other = make_user("other", is_staff=True, is_superuser=True)
    stored = models.store_import(other, "x.csv", export(client))
    client.get(f"/admin/product/import/{stored.id}", status=404)
    client.get("/admin/product/import/nope", status=404)


def test_upload_and_confirm_need_the_csrf_token(client, staff, shop):
    content = export(client)
    client.post("/admin/product/import", upload_files=[("file", "p.csv", content)], status=403)
    assert ProductImport.select().count() == 0
    page = preview(client, to_csv([HEADER, ["x-y", "X Y", Collection.get_by_id(1).title,
                                            "5", "1", ""]]))
    form = page.forms["import-confirm-form"]
    client.post(form.action or page.request.path,
                {"fingerprint": form["fingerprint"].value}, status=403)
    assert not Product.select().where(Product.slug == "x-y").exists()
