"""Lost updates: a write touches only the columns it changes, and a save over someone else's
newer change to the same field is refused (409) with a page that shows both.

The races run for real: each request on a client of its own (its own session), all of them
released together by a threading.Barrier, on whichever database the suite runs on.
"""
import re
from decimal import Decimal

import models
from conftest import PASSWORD, new_client, released_together
from models import AdminLogEntry, Collection, Product, User
from test_admin import tick
from test_cart import ADDRESS, add, form_for


def logged_in(wsgi, username, **fields):
    """A client of its own, logged in as `username` (made first if there is no such user)."""
    if not User.select().where(User.username == username).exists():
        fields.setdefault("email", f"{username}@example.com")
        User.create_user(username, password=PASSWORD, **fields)
    client = new_client(wsgi)
    form = client.get("/accounts/login").forms["login-form"]
    form["username"], form["password"] = username, PASSWORD
    assert form.submit().status_int == 303
    return client


def admins(wsgi, count):
    """`count` browsers of one superuser, each with its own session."""
    return [logged_in(wsgi, "boss", is_staff=True, is_superuser=True) for _ in range(count)]


def race(*calls):
    """Run the calls at once (conftest's released_together); what each returned, in order.
    An exception one of them raised is raised again here, in the test's own thread."""
    results = released_together(calls)
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


def submitting(form):
    return lambda: form.submit(expect_errors=True)


def statuses(results):
    return sorted(result.status_int for result in results)


def racing_products(count, stock=100):
    collection = Collection.create(title="Racing")
    return collection, [Product.create(title=f"Racer {n}", unit_price=Decimal("10.00"),
                                       inventory=stock, collection=collection)
                        for n in range(count)]


# Case 2: a list edit writes the price, and only the price ##################################

def test_list_edits_during_checkouts_give_no_stock_back(wsgi):
    """Issue 25, case 2: a list edit saved each row as it had read it, inventory included:
    the stock that checkouts took meanwhile came back (20 sold, stock 91 instead of 80). Here
    each admin changes the price of another row of one list: a form carries every row of its
    page, and a row it did not change is not written either (nor one the others changed)."""
    stock, buyers, editors = 100, 15, 5
    collection, products = racing_products(editors, stock)
    checkouts = []
    for n in range(buyers):
        buyer = logged_in(wsgi, f"buyer{n}")
        for product in products:
            assert add(buyer, product, "1").status_int == 303
        form = form_for(buyer.get("/checkout"), "/checkout")
        for name, value in dict(ADDRESS, email=f"buyer{n}@example.com").items():
            form[name] = value
        checkouts.append(submitting(form))
    edits, prices = [], {}
    for admin, product in zip(admins(wsgi, editors), products):
        form = admin.get("/admin/product/", {"collection": collection.id}).forms["edit-form"]
        prices[product.id] = Decimal(f"{20 + len(prices)}.50")
        form[f"row-{product.id}-unit_price"] = str(prices[product.id])
        edits.append(submitting(form))
    results = race(*checkouts, *edits)
    assert statuses(results) == [303] * (buyers + editors), [
        r.text[:300] for r in results if r.status_int != 303]
    for product in Product.select().where(Product.collection == collection):
        assert (product.inventory, product.unit_price) == (stock - buyers, prices[product.id]), \
            f"{product.title}: expected {stock - buyers} left after {buyers} checkouts and " \
            f"the price {prices[product.id]} of its list edit"


# Case 3: two people editing the same thing #################################################

def opened_forms(clients, path, name="admin-form"):
    return [client.get(path).forms[name] for client in clients]


def test_simultaneous_saves_of_one_product_one_wins_the_others_see_both(wsgi):
    """Issue 25, case 3: two admins saving one product at once: one edit was silently lost."""
    collection, (product,) = racing_products(1)
    count = 10
    forms = opened_forms(admins(wsgi, count), f"/admin/product/{product.id}/")
    titles = [f"Title of admin {n}" for n in range(count)]
    for form, title in zip(forms, titles):
        form["title"] = title
    results = race(*map(submitting, forms))
    assert statuses(results) == [303] + [409] * (count - 1), "expected one save, the others " \
        "refused"
    now = Product.get_by_id(product.id).title
    winner = titles.index(now)
    for n, result in enumerate(results):
        if n != winner:
            assert "Someone else changed" in result.text
            assert all(text in result.text for text in (now, titles[n], "Racer 0")), \
                "expected theirs, yours and the value both started from"
    log = AdminLogEntry.select().where(AdminLogEntry.object_id == str(product.id))
    assert log.count() == 1, "expected the winner's change only in the history"


def test_simultaneous_list_edits_of_one_row_one_wins(wsgi):
    collection, (product, other) = racing_products(2)
    count = 10
    forms = opened_forms(admins(wsgi, count), f"/admin/product/?collection={collection.id}",
                         "edit-form")
    prices = [Decimal(f"{11 + n}.00") for n in range(count)]
    for form, price in zip(forms, prices):
        form[f"row-{product.id}-unit_price"] = str(price)
    results = race(*map(submitting, forms))
    assert statuses(results) == [303] + [409] * (count - 1), "expected one save, the others " \
        "refused"
    now = Product.get_by_id(product.id).unit_price
    assert now in prices and Product.get_by_id(other.id).unit_price == Decimal("10.00")
    for result, price in zip(results, prices):
        if price != now:
            assert f"${now}" in result.text and f"${price}" in result.text


def conflict(wsgi, path, change_theirs, change_mine, name="admin-form"):
    """Open a form, let someone else save `change_theirs` meanwhile, then save
    `change_mine`: the response."""
    mine, theirs = opened_forms(admins(wsgi, 2), path, name)
    change_theirs(theirs)
    assert theirs.submit().status_int == 303
    change_mine(mine)
    return mine.submit(expect_errors=True)


def test_the_conflict_page_shows_each_field_and_re_applies_mine(wsgi):
    collection, (product,) = racing_products(1)

    def theirs(form):
        form["title"], form["unit_price"] = "Their title", "12.00"

    def mine(form):
        form["title"], form["unit_price"], form["description"] = "My title", "13.00", "Mine"
    page = conflict(wsgi, f"/admin/product/{product.id}/", theirs, mine)
    assert page.status_int == 409
    rows = re.findall(r"<tr>\s*<th[^>]*>([^<]*)</th>\s*<td[^>]*>([^<]*)</td>\s*<td[^>]*>([^<]*)"
                      r"</td>\s*<td[^>]*>([^<]*)</td>", page.text)
    assert rows == [("Title", "Racer 0", "Their title", "My title"),
                    ("Unit price", "$10.00", "$12.00", "$13.00")]
    assert Product.get_by_id(product.id).description == "", "expected nothing of mine saved"
    Product.update(inventory=5).where(Product.id == product.id).execute()   # no field of mine
    page.forms["conflict-form"].submit(status=303)      # mine, over theirs: on purpose now
    saved = Product.get_by_id(product.id)
    assert (saved.title, saved.unit_price, saved.price, saved.description, saved.inventory) \
        == ("My title", Decimal("13.00"), Decimal("13.00"), "Mine", 5), \
        "expected my values, the price made from mine, and the stock as the other change left it"


def test_re_applying_mine_is_refused_again_after_a_newer_change(wsgi):
    collection, (product,) = racing_products(1)
    page = conflict(wsgi, f"/admin/product/{product.id}/",
                    lambda form: form.__setitem__("title", "Theirs"),
                    lambda form: form.__setitem__("title", "Mine"))
    Product.update(title="Newer still").where(Product.id == product.id).execute()
    page = page.forms["conflict-form"].submit(status=409)
    assert "Newer still" in page.text
    assert Product.get_by_id(product.id).title == "Newer still"


def test_a_conflicting_list_edit_shows_the_row_and_saves_nothing(wsgi):
    collection, (product, other) = racing_products(2)

    def theirs(form):
        form[f"row-{product.id}-unit_price"] = "15.00"

    def mine(form):
        form[f"row-{product.id}-unit_price"] = "16.00"
        form[f"row-{other.id}-unit_price"] = "17.00"
    page = conflict(wsgi, f"/admin/product/?collection={collection.id}", theirs, mine,
                    "edit-form")
    assert page.status_int == 409 and "Racer 0" in page.text and "$15.00" in page.text
    assert Product.get_by_id(other.id).unit_price == Decimal("10.00"), \
        "expected all or nothing: no row of a refused list edit saved"
    page.forms["conflict-form"].submit(status=303)
    assert [p.unit_price for p in (Product.get_by_id(product.id), Product.get_by_id(other.id))] \
        == [Decimal("16.00"), Decimal("17.00")]


def test_a_conflicting_inline_row_is_refused(wsgi):
    collection, (product,) = racing_products(1)
    tags = [models.Tag.create(label=label) for label in ("old", "theirs", "mine")]
    models.TaggedItem.create(tag=tags[0], content_type="product", object_id=product.id)
    page = conflict(wsgi, f"/admin/product/{product.id}/",
                    lambda form: form.__setitem__("taggeditem-0-tag", str(tags[1].id)),
                    lambda form: form.__setitem__("taggeditem-0-tag", str(tags[2].id)))
    assert page.status_int == 409 and "theirs" in page.text and "mine" in page.text
    assert [t.label for t in models.tags_for(product)] == ["theirs"]


def test_deleting_an_inline_row_someone_changed_meanwhile_is_refused(wsgi):
    """Deleting a row that someone else changed after the form was opened would throw away
    what the user never saw: refused like an edit, and deleted once they send it again."""
    collection, (product,) = racing_products(1)
    tags = [models.Tag.create(label=label) for label in ("old", "theirs")]
    models.TaggedItem.create(tag=tags[0], content_type="product", object_id=product.id)
    page = conflict(wsgi, f"/admin/product/{product.id}/",
                    lambda form: form.__setitem__("taggeditem-0-tag", str(tags[1].id)),
                    lambda form: form.__setitem__("taggeditem-0-DELETE", True))
    assert page.status_int == 409
    assert re.search(r">old</td>\s*<td[^>]*>theirs</td>\s*<td[^>]*>\(deleted\)</td>", page.text)
    assert [t.label for t in models.tags_for(product)] == ["theirs"], "expected theirs kept"
    page.forms["conflict-form"].submit(status=303)      # deleted, now knowing what it was
    assert list(models.tags_for(product)) == []


def test_deleting_a_row_someone_else_deleted_or_left_alone_is_no_conflict(wsgi):
    collection, (product,) = racing_products(1)
    tag = models.Tag.create(label="old")
    models.TaggedItem.create(tag=tag, content_type="product", object_id=product.id)
    page = conflict(wsgi, f"/admin/product/{product.id}/",
                    lambda form: form.__setitem__("title", "Theirs"),
                    lambda form: form.__setitem__("taggeditem-0-DELETE", True))
    assert page.status_int == 303 and list(models.tags_for(product)) == []
    models.TaggedItem.create(tag=tag, content_type="product", object_id=product.id)
    mine, theirs = opened_forms(admins(wsgi, 2), f"/admin/product/{product.id}/")
    for form in (theirs, mine):
        form["taggeditem-0-DELETE"] = True
        form.submit(status=303)
    assert list(models.tags_for(product)) == []


def test_changes_to_other_fields_are_no_conflict(wsgi):
    """What others changed is kept, and refuses nothing: a checkout's stock, another admin's
    price, a promotion they added, while this form changes the title and a promotion."""
    collection, (product,) = racing_products(1)
    promotions = [models.Promotion.create(description=f"Sale {n}", discount=10 * (n + 1))
                  for n in range(2)]
    mine, theirs = opened_forms(admins(wsgi, 2), f"/admin/product/{product.id}/")
    theirs["unit_price"] = "20.00"
    tick(theirs, "promotions", str(promotions[0].id))
    theirs.submit(status=303)
    buyer = logged_in(wsgi, "buyer")
    add(buyer, product, "3")
    form = form_for(buyer.get("/checkout"), "/checkout")
    for name, value in ADDRESS.items():
        form[name] = value
    assert form.submit().status_int == 303
    mine["title"] = "Mine"
    tick(mine, "promotions", str(promotions[1].id))
    mine.submit(status=303)
    saved = Product.get_by_id(product.id)
    assert (saved.title, saved.unit_price, saved.inventory, saved.price) == (
        "Mine", Decimal("20.00"), 97, Decimal("16.00")), \
        "expected my title, their price, the stock after the checkout, and 20.00 less the " \
        "better promotion (20%)"
    assert sorted(pp.promotion_id for pp in saved.product_promotions) == \
        sorted(p.id for p in promotions)


def test_a_login_meanwhile_refuses_no_edit_of_the_account(wsgi):
    logged_in(wsgi, "alice")
    alice = User.get(User.username == "alice")
    form = opened_forms(admins(wsgi, 1), f"/admin/user/{alice.id}/")[0]
    logged_in(wsgi, "alice")        # her last_login changes meanwhile
    last_login = User.get_by_id(alice.id).last_login
    form["is_active"], form["first_name"] = False, "Alice"
    form.submit(status=303)
    saved = User.get_by_id(alice.id)
    assert (saved.is_active, saved.first_name, saved.last_login) == (False, "Alice", last_login)


def test_a_save_of_a_user_that_leaves_the_name_alone_writes_no_name(make_user):
    """A password change saved while an admin renames the account keeps the new name."""
    user = make_user("renamed_meanwhile", "correct horse battery")
    models.User.update(username="someone_else", username_key=models.username_key(
        "someone_else")).where(models.User.id == user.id).execute()
    user.set_password("another horse battery")
    user.save()
    assert models.User.get_by_id(user.id).username == "someone_else"


# Select all, at once ########################################################################

def test_admins_acting_on_every_pending_order_at_once_each_order_goes_once(wsgi, shop):
    """Each admin confirms an action on "every pending order" (select all): some delete them,
    one marks them complete, all released together. The actions name the rows by the list's
    condition (models.selected_by), so each statement finds what is pending when it runs: each
    order is deleted or completed once, its items go with it, and the customers' counts of
    orders stay right."""
    pending = models.Order.select().where(models.Order.payment_status == "P")
    before = {o.id for o in pending}
    assert len(before) > 1, "too few pending orders to race over"
    clients = admins(wsgi, 8)

    def confirm(client, action):
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/").text)[1]
        return lambda: client.post("/admin/order/actions", {
            "csrf_token": token, "action": action, "select_across": "1",
            "_back": "payment_status=P", "confirm": "1"}, expect_errors=True)
    results = race(*[confirm(c, "mark_complete" if n == 0 else "delete_selected")
                     for n, c in enumerate(clients)])
    assert statuses(results) == [303] * len(clients), [r.text[-300:] for r in results]
    assert not pending.exists()
    completed = {o.id for o in models.Order.select().where(models.Order.id.in_(before))}
    assert all(o.payment_status == "C" for o in models.Order.select().where(
        models.Order.id.in_(completed)))
    assert not models.OrderItem.select().where(
        models.OrderItem.order.not_in(models.Order.select(models.Order.id))).exists()
    assert set(models.check_sums().values()) == {0}, models.check_sums()
