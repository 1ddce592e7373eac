"""Migrations against the models: every migration from nothing makes the schema the models
declare, and `python app.py makemigrations` writes the migration when they differ."""
import contextlib
import io
import sys

import pytest
from peewee import CharField, IntegerField

import app as storefront
import models
from conftest import empty_postgres
from models import Product


@pytest.fixture
def empty_database(tmp_path, postgres_url):
    """A database without tables: a new SQLite file, or the suite's PostgreSQL database emptied."""
    if postgres_url:
        empty_postgres(postgres_url)
        models.open_database(postgres_url)
    else:
        models.open_database(f"sqlite:///{tmp_path}/empty.sqlite3")
    yield
    models.db.close()


@pytest.fixture
def cli(settings, monkeypatch, capsys):
    """Run `python app.py ARGS` in this process, on the test's database: (stdout, stderr)."""
    monkeypatch.setattr(storefront, "settings", settings)

    def run(*args, answers=""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(answers))
        storefront.main(list(args))
        return capsys.readouterr()
    yield run
    models.db.close()


@contextlib.contextmanager
def field_added(model, name, field):
    """`model` with one more field, as if a student had added it, for the `with` block."""
    assert name not in model._meta.fields, f"{model.__name__}.{name} exists: pick another example"
    model._meta.add_field(name, field)
    try:
        yield field
    finally:
        model._meta.remove_field(name)


@contextlib.contextmanager
def field_renamed(model, old, new):
    field = model._meta.fields[old]
    model._meta.remove_field(old)
    try:
        with field_added(model, new, CharField(max_length=field.max_length, index=field.index,
                                               default=field.default)):
            yield
    finally:
        model._meta.add_field(old, field)


def next_migration(title):
    return f"_m{len(models.MIGRATIONS) + 1:03d}_{title}"


def run_printed_migration(printed, name):
    """Define the migration function makemigrations printed, as models.py would, and run it."""
    namespace = dict(vars(models))
    exec(printed, namespace)
    with models.write_transaction():
        namespace[name]()


def test_every_migration_from_nothing_makes_what_the_models_declare(empty_database):
    assert models.migrate() == list(range(1, len(models.MIGRATIONS) + 1))
    changes = models.schema_changes()
    assert not changes, models.describe_changes(changes)


# Where each database makes its index of the customers' trigrams, and what it says without.
TRIGRAMS = {"sqlite": (21, "tokenize='trigram'", "SQLite has no trigram tokenizer"),
            "postgresql": (20, "CREATE EXTENSION", "pg_trgm is not available")}


@pytest.mark.parametrize("made", [True, False], ids=["with trigrams", "without"])
def test_the_customer_search_index_is_made_where_the_database_allows(empty_database,
                                                                     monkeypatch, caplog,
                                                                     made):
    """Migration 20 (PostgreSQL: pg_trgm and a GIN index) or 21 (SQLite: an FTS5 table of
    trigrams) indexes the customers' trigrams, or says it could not, and every migration
    applies either way; the search finds the same rows, also after writes."""
    number, statement, warning = TRIGRAMS["sqlite" if models.is_sqlite() else "postgresql"]
    models.migrate(number - 1)
    execute = models.db.obj.execute_sql

    def refused(sql, *args, **kwargs):
        if statement in sql:
            raise models.peewee.OperationalError("no such tokenizer / permission denied")
        return execute(sql, *args, **kwargs)
    if not made:
        monkeypatch.setattr(models.db.obj, "execute_sql", refused)
    assert models.migrate() == list(range(number, len(models.MIGRATIONS) + 1))
    monkeypatch.undo()
    assert trigram_index_made() == made and (warning in caplog.text) != made
    smith = models.Customer.create(first_name="Ann", last_name="Smith", email="ann@example.com")
    jones = models.Customer.create(first_name="Bo", last_name="Jones", email="bo@smithy.example")
    brown = models.Customer.create(first_name="Cy", last_name="Brown", email="cy@example.com")
    brown.email = "cy@smithfield.example"
    brown.save()
    smith.delete_instance()
    models.Customer.update(last_name="Smithers").where(models.Customer.id == jones.id).execute()
    spec = storefront.REGISTRY["customer"]
    found = spec.search(models.Customer.select(), "smith").order_by(models.Customer.id)
    assert [(c.first_name, c.last_name) for c in found] == [("Bo", "Smithers"), ("Cy", "Brown")]
    assert ("customer_search MATCH" in found.sql()[0]) == (made and models.is_sqlite())


def trigram_index_made():
    if models.is_sqlite():
        return models.db.table_exists("customer_search")
    return "customer_search_trigrams" in {i.name for i in models.db.get_indexes("customer")}


def test_a_field_without_its_migration_is_named_with_the_migration_to_write(empty_database):
    """Migration 1 is a fixed schema: a field added to a model today is in no migration."""
    with field_added(Product, "example_count", IntegerField(default=0, index=True)):
        models.migrate()
        message = models.describe_changes(models.schema_changes())
    assert "Product.example_count: no migration adds its column product.example_count" in message
    assert "Product declares the index product_example_count (example_count)" in message
    assert f"def {next_migration('add_product_example_count')}():" in message
    assert '    _add_column("product", "example_count", "INTEGER NOT NULL DEFAULT 0")\n' in message


@pytest.mark.parametrize("definition,problem", [
    ("INTEGER NOT NULL DEFAULT 0", None),
    ("INTEGER NOT NULL DEFAULT 1", "its default is 1 in the database, 0 in the model"),
    ("INTEGER", "NULL is allowed in the database, refused in the model"),
    ("VARCHAR(10) NOT NULL DEFAULT '0'", "its type is {} in the database, {} in the model"),
])
def test_a_column_unlike_its_field_is_told(empty_database, definition, problem):
    models.migrate()
    with field_added(Product, "example_count", IntegerField(default=0)):
        models._add_column("product", "example_count", definition)
        told = [change.about for change in models.schema_changes()]
    types = ("VARCHAR(10)", "INTEGER") if models.is_sqlite() else ("character varying(10)",
                                                                    "integer")
    assert told == ([f"Product.example_count: {problem.format(*types)}"] if problem else [])


def test_makemigrations_prints_the_migration_of_a_new_field(cli):
    assert "No changes detected" in cli("makemigrations").out
    with field_added(Product, "example_count", IntegerField(default=0, index=True)):
        printed = cli("makemigrations", "--no-input").out
        assert "#   Product.example_count: no migration adds its column product.example_count" in printed
        run_printed_migration(printed, next_migration("add_product_example_count"))
        changes = models.schema_changes()
        assert not changes, models.describe_changes(changes)
        assert "No changes detected" in cli("makemigrations").out


def test_makemigrations_asks_whether_a_column_was_renamed(cli):
    cli("migrate")
    Product.create(title="Green Tea", unit_price=3, inventory=1,
                   collection=models.Collection.create(title="Tea"))
    with field_renamed(Product, "slug", "handle"):
        printed, asked = cli("makemigrations", answers="y\n")
        assert asked == "Did you rename product.slug to product.handle? [y/N] "
        assert "DROP COLUMN" not in printed
        run_printed_migration(printed, next_migration("rename_product_slug_to_handle"))
        changes = models.schema_changes()
        assert not changes, models.describe_changes(changes)
        assert Product.select(Product.handle).scalar() == "green-tea"      # the data kept


def test_makemigrations_no_input_takes_no_rename(cli):
    with field_renamed(Product, "slug", "handle"):
        printed, asked = cli("makemigrations", "--no-input")
    assert asked == "" and "RENAME" not in printed
    assert 'db.execute_sql(\'ALTER TABLE "product" DROP COLUMN "slug"\')' in printed
    assert '_add_column("product", "handle", "VARCHAR(255) NOT NULL DEFAULT \'\'")' in printed


def test_every_model_is_listed_in_models():
    """makemigrations and the schema test see the models of models.MODELS: a model a student
    writes and forgets to list there would be left out without a word."""
    missing = [model.__name__ for model in models._all_models() if model not in models.MODELS
               and not any(issubclass(listed, model) for listed in models.MODELS)]
    assert not missing, f"add {', '.join(missing)} to MODELS in models.py"
