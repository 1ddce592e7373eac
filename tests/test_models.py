"""The data model without HTTP: rules, migrations, demo data."""
import datetime
import json
from decimal import Decimal

import pytest
from peewee import IntegrityError

import models
from models import Collection, Customer, Product


def test_prices_are_decimal_and_rules_are_enforced(wsgi):
    collection = Collection.create(title="Tea")
    product = Product.create(title="Green tea", unit_price="3.10", inventory=2,
                             collection=collection)
    assert Product.get_by_id(product.id).unit_price == Decimal("3.10")
    assert product.slug == "green-tea"
    for field, value in [("unit_price", Decimal("0.99")), ("inventory", -1), ("title", "  ")]:
        bad = Product(title="x", unit_price=5, inventory=1, collection=collection)
        setattr(bad, field, value)
        with pytest.raises(models.ValidationError) as error:
            bad.save()
        assert field in error.value.errors


def test_database_constraints_hold_even_without_validation(wsgi):
    collection = Collection.create(title="Tea")
    with pytest.raises(IntegrityError):
        Product.insert(title="x", slug="x", unit_price=0, inventory=1,
                       collection=collection).execute()
    with pytest.raises(IntegrityError):
        Product.insert(title="x", slug="x", unit_price=2, inventory=-5,
                       collection=collection).execute()


def test_customer_email_is_unique_regardless_of_case(wsgi):
    Customer.create(first_name="A", last_name="B", email="ada@example.com")
    with pytest.raises(models.ValidationError) as error:
        Customer.create(first_name="C", last_name="D", email="ADA@example.com")
    assert "email" in error.value.errors


def test_a_collection_with_products_cannot_be_deleted(wsgi):
    collection = Collection.create(title="Tea")
    Product.create(title="Chai", unit_price=4, inventory=1, collection=collection)
    with pytest.raises(IntegrityError):
        collection.delete_instance()


def test_timestamps_are_utc(wsgi):
    collection = Collection.create(title="Tea")
    product = Product.create(title="Chai", unit_price=4, inventory=1, collection=collection)
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert abs((now - Product.get_by_id(product.id).last_update).total_seconds()) < 5


def test_passwords_are_salted_pbkdf2_with_their_parameters(wsgi):
    first, second = models.make_password("s3cret-pass"), models.make_password("s3cret-pass")
    algorithm, iterations, salt, digest = first.split("$")
    assert algorithm == "pbkdf2_sha256" and int(iterations) == models.PASSWORD_ITERATIONS
    assert first != second
    assert models.check_password("s3cret-pass", first)
    assert not models.check_password("wrong", first)
    assert not models.check_password("s3cret-pass", "md5$1$x$y")


def test_old_hashes_are_upgraded_on_login(wsgi):
    user = models.User.create_user("bob", "bob@example.com", "long enough pass")
    user.password = models.make_password("long enough pass", iterations=10)
    user.save()
    assert models.authenticate("bob", "long enough pass") is not None
    assert models.User.get_by_id(user.id).password.split("$")[1] == str(models.PASSWORD_ITERATIONS)


@pytest.mark.parametrize("password,problem", [
    ("short", "8 characters"), ("12345678901", "all digits"), ("alice-the-great", None),
    ("Alice", "8 characters"),
])
def test_password_policy(password, problem):
    problems = " ".join(models.password_problems(password, "alice"))
    assert (problem in problems) if problem else not problems
    assert "username" in " ".join(models.password_problems("AliceAlice", "alicealice"))


def test_permissions_come_from_user_groups_and_superuser(wsgi):
    staff = models.User.create_user("sam", "sam@example.com", "long enough pass", is_staff=True)
    editors = models.Group.create(name="Editors")
    models.GroupPermission.create(group=editors, codename="product.change")
    assert not staff.has_perm("product.change")
    models.UserGroup.create(user=staff, group=editors)
    models.UserPermission.create(user=staff, codename="order.view")
    staff = models.User.get_by_id(staff.id)
    assert staff.has_perm("product.change") and staff.has_perm("order.view")
    assert not staff.has_perm("product.delete")
    boss = models.User.create_user("boss", "b@example.com", "long enough pass", is_superuser=True)
    assert boss.has_perm("anything.delete")
    boss.is_active = False
    assert not boss.has_perm("anything.delete")


def test_migrate_is_idempotent(wsgi):
    assert models.schema_version() == len(models.MIGRATIONS)
    assert models.migrate() == []


def test_an_old_schema_is_brought_forward_without_losing_rows(tmp_path):
    models.open_database(f"sqlite:///{tmp_path}/old.sqlite3")
    assert models.migrate(target=1) == [1]
    collection = Collection.create(title="Old")
    models.db.execute_sql(      # in the columns of then: the model names some added since
        "INSERT INTO product (title, slug, description, unit_price, price, inventory, "
        "last_update, collection_id) VALUES ('Ancient Sourdough', '', 'Baked in Zürich', "
        "5, 5, 3, '2026-01-01 00:00:00', ?)", (collection.id,))
    assert models.migrate() == list(range(2, len(models.MIGRATIONS) + 1))
    product = Product.get(Product.title == "Ancient Sourdough")
    assert product.slug == "ancient-sourdough" and product.inventory == 3
    assert (product.search_title, product.search_description) == (
        "ancient sourdough", "baked in zurich")
    indexes = [i.name for i in models.db.get_indexes("product")]
    assert "product_title_lower" in indexes
    models.db.close()


def test_seed_is_deterministic_and_complete(wsgi):
    models.seed(products=40, customers=5)
    first = [(p.title, p.unit_price, p.inventory) for p in Product.select().order_by(Product.id)]
    assert len(first) == 40
    assert Collection.select().where(Collection.featured_product.is_null(False)).count() > 0
    assert models.Order.select().count() == 10 and models.OrderItem.select().count() >= 10
    assert models.Address.select().count() == 5 and models.TaggedItem.select().count() > 0
    assert models.ProductPromotion.select().count() > 0
    with pytest.raises(models.SeedRefused):
        models.seed(products=40)
    models.seed(products=40, customers=5, reset=True)
    again = [(p.title, p.unit_price, p.inventory) for p in Product.select().order_by(Product.id)]
    assert again == first


def test_every_page_sorted_or_filtered_column_is_indexed(wsgi):
    def indexed(table, column):
        return any(i.columns[0] == column for i in models.db.get_indexes(table))
    for table, column in [("product", "title"), ("product", "unit_price"),
                          ("product", "collection_id"), ("product", "inventory"),
                          ("product", "last_update"), ("order", "placed_at"),
                          ("order", "customer_id"), ("order", "payment_status"),
                          ("order_item", "order_id"), ("order_item", "product_id"),
                          ("customer", "membership"), ("customer", "last_name"),
                          ("cart_item", "cart_id"), ("admin_log_entry", "action_time")]:
        assert indexed(table, column), (table, column)


def test_usernames_of_an_old_database_get_their_keys(tmp_path):
    """Migrations 3 (case-folded keys) and 8 (look-alike skeletons) on a database made before
    usernames had a key: of two names that clash, the older account keeps the key."""
    models.open_database(f"sqlite:///{tmp_path}/old.sqlite3")
    models.migrate(target=2)
    models.db.execute_sql('DROP INDEX user_username_key')
    models.db.execute_sql('ALTER TABLE "user" DROP COLUMN username_key')
    for name in ("Alice", "alice", "bob", "b0b"):
        models.db.execute_sql('INSERT INTO "user" (username, email, password, first_name, '
                              "last_name, is_active, is_staff, is_superuser, date_joined) "
                              "VALUES (?, '', '!', '', '', 1, 0, 0, '2026-01-01')", (name,))
    assert models.migrate() == list(range(3, len(models.MIGRATIONS) + 1))
    keys = dict(models.User.select(models.User.username, models.User.username_key).tuples())
    alice, bob = models.username_key("alice"), models.username_key("bob")
    assert keys == {"Alice": alice, "alice": f"{alice}#2", "bob": bob, "b0b": f"{bob}#4"}
    with pytest.raises(IntegrityError):
        models.User.insert(username="BOB", username_key=bob, email="", password="!").execute()
    models.db.close()


def test_a_version_2_database_with_orders_is_brought_forward(tmp_path):
    """The columns later migrations add reach a database the old code made, rows and foreign
    keys in place (SQLite cannot rebuild a table that others point at)."""
    models.open_database(f"sqlite:///{tmp_path}/v2.sqlite3")
    models.migrate(target=2)
    sql = models.db.execute_sql
    for statement in ['DROP INDEX user_username_key', 'ALTER TABLE "user" DROP COLUMN username_key',
                      'DROP INDEX product_price', 'DROP INDEX product_collection_id_price',
                      'ALTER TABLE product DROP COLUMN price',
                      'ALTER TABLE promotion DROP COLUMN starts_on',
                      'ALTER TABLE promotion DROP COLUMN ends_on',
                      'ALTER TABLE order_item DROP COLUMN list_price', 'DROP TABLE pricing_day']:
        sql(statement)
    sql("INSERT INTO collection (id, title) VALUES (1, 'Old')")
    sql("INSERT INTO product (id, title, slug, description, unit_price, inventory, last_update, "
        "collection_id) VALUES (1, 'Ancient Sourdough', 'a', '', 5, 3, '2026-01-01', 1)")
    sql("INSERT INTO promotion (id, description, discount) VALUES (1, 'Old sale', 20)")
    sql("INSERT INTO product_promotion (product_id, promotion_id) VALUES (1, 1)")
    sql("INSERT INTO customer (id, first_name, last_name, email, phone, membership) "
        "VALUES (1, 'A', 'B', 'a@example.com', '', 'B')")
    sql("INSERT INTO \"order\" (id, placed_at, payment_status, customer_id) "
        "VALUES (1, '2026-01-01', 'C', 1)")
    sql("INSERT INTO order_item (order_id, product_id, quantity, unit_price) VALUES (1, 1, 2, 5)")
    sql("INSERT INTO \"user\" (username, email, password, first_name, last_name, is_active, "
        "is_staff, is_superuser, date_joined) VALUES ('Ada', '', '!', '', '', 1, 0, 0, '2026-01-01')")
    assert models.migrate() == list(range(3, len(models.MIGRATIONS) + 1))
    assert Product.get_by_id(1).price == Decimal("4.00")             # 20% off, worked out
    assert models.OrderItem.get().unit_price == Decimal("5.00")      # the order as it was
    assert models.User.get().username_key == models.username_key("ada")
    assert [p.title for p in Product.search(Product.select(), "sourd")] == ["Ancient Sourdough"]
    models.db.close()


def test_a_save_writes_only_the_fields_assigned_since_the_row_was_read(wsgi):
    """A save after a slow step used to write every column as it had read it: what others
    had written meanwhile (a checkout's stock) was undone."""
    collection = Collection.create(title="Tea")
    product = Product.create(title="Green tea", unit_price="3.10", inventory=100,
                             collection=collection)
    stale = Product.get_by_id(product.id)
    Product.update(inventory=Product.inventory - 7, description="Theirs").where(
        Product.id == product.id).execute()
    stale.title = "Mine"
    stale.save()
    saved = Product.get_by_id(product.id)
    assert (saved.title, saved.inventory, saved.description) == ("Mine", 93, "Theirs"), \
        "expected my title, and the stock and the description as the other write left them"


def test_a_snapshot_reads_back_as_the_values_it_was_made_of(wsgi):
    """What a form carries (JSON) to say what it was opened on: text, money, moments, dates,
    yes/no and related rows all come back as the same values."""
    collection = Collection.create(title="Tea")
    product = Product.create(title="Green tea", unit_price="3.10", inventory=2,
                             collection=collection)
    customer = Customer.create(first_name="A", last_name="B", email="a@example.com",
                               birth_date=datetime.date(1990, 2, 3))
    user = models.User.create_user("ada", "ada@example.com", "correct horse battery")
    for row, names in ((product, ["title", "unit_price", "inventory", "collection",
                                  "last_update"]),
                       (customer, ["birth_date", "user"]), (user, ["is_active", "email"])):
        values = type(row).read_snapshot(json.loads(json.dumps(row.snapshot(names))))
        changed = [n for n in names if not row.same(n, values[n], row.__data__.get(n))]
        assert changed == [], f"expected every field of {type(row).__name__} back as it was"
    with pytest.raises(ValueError):
        Product.read_snapshot({"unit_price": "many"})


def test_a_conflict_is_someone_elses_change_to_a_field_the_edit_changes(wsgi):
    collection = Collection.create(title="Tea")
    product = Product.create(title="Green tea", unit_price="3.10", inventory=2,
                             collection=collection)
    opened = Product.read_snapshot(product.snapshot(["title", "unit_price", "inventory"]))
    Product.update(title="Theirs", inventory=9).where(Product.id == product.id).execute()
    with models.write_transaction():
        assert product.reread() and product.inventory == 9
        assert product.conflicts({"title": "Mine", "unit_price": Decimal("4")}, opened) == \
            {"title": "Theirs"}, "expected the title only: nobody else changed the price"
        assert product.conflicts({"title": "Theirs"}, opened) == {}, \
            "expected no conflict with a change to the value the edit makes too"
    Product.delete().where(Product.id == product.id).execute()
    with models.write_transaction():
        assert not product.reread()
