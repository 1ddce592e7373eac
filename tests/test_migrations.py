"""Migrations against the models: every migration from nothing makes the schema the models
declare, and `python app.py makemigrations` writes the migration when they differ."""
import contextlib

import pytest
from peewee import IntegerField

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


@contextlib.contextmanager
def field_added(model, name, field):
    """`model` with one more field, as if a student had added it, for the `with` block."""
    model._meta.add_field(name, field)
    try:
        yield field
    finally:
        model._meta.remove_field(name)


def next_migration(title):
    return f"_m{len(models.MIGRATIONS) + 1:03d}_{title}"


def test_every_migration_from_nothing_makes_what_the_models_declare(empty_database):
    assert models.migrate() == list(range(1, len(models.MIGRATIONS) + 1))
    changes = models.schema_changes()
    assert not changes, models.describe_changes(changes)


def test_a_field_without_its_migration_is_named_with_the_migration_to_write(empty_database):
    """Migration 1 is a fixed schema: a field added to a model today is in no migration."""
    with field_added(Product, "weight", IntegerField(default=0, index=True)):
        models.migrate()
        message = models.describe_changes(models.schema_changes())
    assert "Product.weight: no migration adds its column product.weight" in message
    assert "Product declares the index product_weight (weight)" in message
    assert f"def {next_migration('add_product_weight')}():" in message
    assert '    _add_column("product", "weight", "INTEGER NOT NULL DEFAULT 0")\n' in message


@pytest.mark.parametrize("definition,problem", [
    ("INTEGER NOT NULL DEFAULT 0", None),
    ("INTEGER NOT NULL DEFAULT 1", "its default is 1 in the database, 0 in the model"),
    ("INTEGER", "NULL is allowed in the database, refused in the model"),
    ("VARCHAR(10) NOT NULL DEFAULT '0'", "its type is {} in the database, {} in the model"),
])
def test_a_column_unlike_its_field_is_told(empty_database, definition, problem):
    models.migrate()
    with field_added(Product, "weight", IntegerField(default=0)):
        models._add_column("product", "weight", definition)
        told = [change.about for change in models.schema_changes()]
    types = ("VARCHAR(10)", "INTEGER") if models.is_sqlite() else ("character varying(10)",
                                                                    "integer")
    assert told == ([f"Product.weight: {problem.format(*types)}"] if problem else [])
