"""Storefront's data: Peewee models, the rules of the shop, migrations and demo data.

Everything here works without HTTP, so it can be used from `python app.py shell` and tested
directly. The web layer (app.py) reads input, calls a function of this module and renders.

Parts, in order:
    1. Database      - one unbound database object, bound to a URL at start-up
    2. Accounts      - users, groups, permissions, password hashing
    3. Catalog       - promotions, collections, products
    4. Customers     - customers, addresses, orders
    5. Carts         - carts and their items
    6. Generic links - tags and likes that point at any model
    7. Admin log     - who changed what
    8. Shop rules    - cart and checkout operations
    9. Migrations    - numbered schema changes and the schema version
   10. Demo data     - the deterministic `seed`
   11. Common passwords - the ones a new password may not be
   12. Look-alike letters - what usernames are told apart by
"""
import base64
import collections
import contextlib
import csv
import datetime
import difflib
import errno
import fnmatch
import functools
import hashlib
import hmac
import importlib
import io
import ipaddress
import itertools
import logging
import math
import operator
import os
import random
import re
import secrets
import sys
import threading
import time
import unicodedata
import uuid
from decimal import ROUND_HALF_UP, Decimal

import peewee
from peewee import (
    JOIN, SQL, BooleanField, CharField, Check, DatabaseProxy, DateField, DateTimeField, DecimalField,
    DeferredForeignKey, ForeignKeyField, IntegerField, Model, SmallIntegerField, TextField,
    UUIDField, fn,
)
from playhouse.db_url import connect as connect_url
from playhouse.db_url import parse as parse_url
from playhouse.db_url import register_database
from playhouse.pool import PooledPostgresqlDatabase
from playhouse.sqlite_ext import FTS5Model, RowIDField, SearchField


###############################################################################
# 1. Database
###############################################################################

# The models are declared against a proxy; open_database() binds it to a real database once
# the settings are known. Tests and the CLI point it at another file without monkey-patching.
db = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",      # readers never block the writer
    "foreign_keys": 1,          # SQLite ignores REFERENCES unless asked
    "busy_timeout": 5000,       # wait for a lock (ms) instead of failing at once
    "synchronous": "normal",    # safe with WAL, and much faster than "full"
}

# A PostgreSQL that does not answer at all (a network cut off, a paused machine: packets
# dropped, no reset) would hold a request for minutes and soon every worker with it: libpq
# waits 130 s for a new connection and for ever for an answer on an open one, the pool's check
# of a pooled connection included. These libpq settings give up within seconds, without
# limiting how long a query may run: tcp_user_timeout counts only data the server's machine has
# not acknowledged (a query sent, not one running), and keepalives ask that machine, while a
# long query runs, whether it is still there (libpq sets tcp_user_timeout only where keepalives
# are on). A database URL that sets one keeps its own.
POSTGRESQL_OPTIONS = {
    "connect_timeout": 3,           # seconds for a new connection
    "tcp_user_timeout": 3000,       # ms for what was sent to be acknowledged
    "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
    "max_connections": 32, "stale_timeout": 300,    # the pool's
    # PostgreSQL compiles a query to machine code (JIT) where its plan looks costly, as a
    # query that stops after a few rows of a big table does: every order item selected for
    # deletion, 45 ms of work, took 200 ms with 155 of compiling. No page runs long enough
    # to earn it back.
    "options": "-c jit=off",
}
POSTGRESQL_RETRY_EVERY = 5      # seconds not to try again after a connection timed out


class PostgresqlPool(PooledPostgresqlDatabase):
    """The pool of connections to PostgreSQL (for postgresql:// URLs), which does not wait on
    an unreachable server more than it must."""
    timed_out = {}      # (host, port) -> (when to try again, the error): the process's

    def _connect(self):
        # After a connection timed out, each request would wait connect_timeout again (one at
        # a time: peewee connects under a lock): for a while, each is told at once instead.
        server = (self.connect_params.get("host"), self.connect_params.get("port"))
        retry_at, error = self.timed_out.get(server, (0, None))
        if time.monotonic() < retry_at:
            raise peewee.OperationalError(f"{error}; not tried again for a moment")
        try:
            connection = super()._connect()
        except peewee.psycopg.errors.ConnectionTimeout as error:
            self.timed_out[server] = (time.monotonic() + POSTGRESQL_RETRY_EVERY, error)
            raise
        self.timed_out.pop(server, None)
        return connection

    def _is_closed(self, conn):
        # A pooled connection that fails its check most often means the server went away (it
        # restarted, or is unreachable): the other idle ones went to it too, and checking each
        # could cost tcp_user_timeout, so they are let go with it.
        if not super()._is_closed(conn):
            return False
        self.close_idle()
        return True


register_database(PostgresqlPool, "postgresql+pool", "postgres+pool")


def load_driver(name):
    """Import the driver `name` ("psycopg" or "redis") and hand it to the library that needs
    it. app.py imports Peewee and Beaker without their drivers, which they would otherwise load
    in every process, used or not; a PostgreSQL or Redis URL loads its own here."""
    module = importlib.import_module(name)
    if name == "psycopg" and peewee.psycopg is None:
        importlib.import_module("psycopg.types.json")
        peewee.psycopg, peewee.TransactionStatus = module, module.pq.TransactionStatus
        peewee.Json_pg3, peewee.Jsonb_pg3 = module.types.json.Json, module.types.json.Jsonb
    if name == "redis":
        import beaker.ext.redisnm
        beaker.ext.redisnm.redis = module
    return module


def open_database(url):
    """Bind `db` to the database at `url` (sqlite:///file.db, postgresql://user@host/name)."""
    if db.obj is not None and hasattr(db.obj, "close_all"):
        db.obj.close_all()          # rebinding (tests, the CLI): let go of the old pool
    # A pool of connections: a request takes one and gives it back at its end, so connecting
    # (a new server process for PostgreSQL, the pragmas for SQLite) happens once per
    # connection, not once per request.
    scheme, rest = url.split(":", 1)
    pooled = scheme if "+" in scheme else scheme + "+pool"
    if scheme.startswith("sqlite"):
        # A connection is used by one thread at a time, but not always the same thread.
        database = connect_url(f"{pooled}:{rest}", pragmas=SQLITE_PRAGMAS, timeout=5,
                               max_connections=32, stale_timeout=300, check_same_thread=False)
    else:
        load_driver("psycopg")
        # (connect_url lets its keyword arguments win over the URL's: only the missing ones)
        options = {name: value for name, value in POSTGRESQL_OPTIONS.items()
                   if name not in parse_url(url)}
        # libpq reads PGOPTIONS only where no options are given: they come after ours.
        if "options" in options and os.environ.get("PGOPTIONS"):
            options["options"] += " " + os.environ["PGOPTIONS"]
        database = connect_url(f"{pooled}:{rest}", unquote_password=True, **options)
    database.query_hooks.append(watch_writes)
    watch_transactions(database)
    watch_reads(database)
    db.initialize(database)
    return database


def disk_full(error):
    """True if `error` says the disk is full: SQLite's "database or disk is full",
    PostgreSQL's "No space left on device", or a file that could not be written (ENOSPC)."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    text = str(error)
    return isinstance(error, peewee.OperationalError) and (
        "disk is full" in text or "No space left on device" in text)


@contextlib.contextmanager
def unless_disk_full():
    """Around a write that only keeps a record (the time of a login): on a full disk it is
    skipped, and what it records still happens."""
    try:
        yield
    except peewee.OperationalError as error:
        if not disk_full(error):
            raise


def _as_is(value):
    return value


class Prepared:
    """A query asked on every request, its SQL written once per database.

    Peewee writes a query's SQL anew each time it runs, which takes longer than SQLite takes
    to answer a question such as "who is logged in?" (about 110 µs against 10). `build` makes
    the query from one slot per value, `fields` say how each value is stored (their db_value);
    calling first() or scalar() with the values runs the written SQL with them in the slots,
    as a database's prepared statement would.
    """

    def __init__(self, build, *fields):
        self.build, self.fields, self.written = build, fields, {}

    def _sql(self, values):
        if db.obj not in self.written:
            slots = [object() for _ in self.fields]
            query = self.build(*(peewee.Value(slot, converter=_as_is, unpack=False)
                                 for slot in slots))
            sql, params = query.sql()
            self.written[db.obj] = (query.model, sql, params,
                                    [params.index(slot) for slot in slots])
        model, sql, params, positions = self.written[db.obj]
        params = list(params)
        for position, field, value in zip(positions, self.fields, values):
            params[position] = field.db_value(value)
        return model, sql, params

    def first(self, *values):
        """The first row, as a model instance, or None."""
        model, sql, params = self._sql(values)
        return next(iter(model.raw(sql, *params)), None)

    def scalar(self, *values):
        """The first column of the first row, or None."""
        _, sql, params = self._sql(values)
        row = db.execute_sql(sql, params).fetchone()
        return row[0] if row else None


def is_sqlite():
    return db.obj is not None and "sqlite" in type(db.obj).__name__.lower()


def write_transaction():
    """A transaction that takes the write lock when it starts. On SQLite a transaction that
    reads first and writes later could find the lock taken by another writer mid-way and
    fail at once (SQLITE_BUSY) instead of waiting its turn: IMMEDIATE waits at the start."""
    return db.atomic("IMMEDIATE") if is_sqlite() else db.atomic()


MAX_INT = 2 ** 63 - 1      # the largest id any of our databases can store


def utcnow():
    """The current time in UTC, naive, as every timestamp column stores it."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


# What the shop shows, and what changed it: app.py's caches keep each page with the tags of
# what its queries read, and forget it when a write changes one of them. A tag is a table's
# name ("product"); `about(model, obj)` narrows the reads and writes of `model` in its block
# to the rows about one object ("liked_item:product:5": a like touches one product's count;
# "product:product:5": a product's own row, as a save() writes it). A narrowed write also tags
# "liked_item:*", which every read of the whole table carries; "*" is everything (a schema
# change). Some columns change in place (a model names them in its Meta, changed_in_place:
# the stock an order takes): a narrowed write of those alone moves no row in or out of a
# list, nor up or down one, so it tags its rows and those columns ("product.inventory"),
# which only a read that names them carries (a list filtered or sorted by stock), not
# "product:*". A list that shows them reads its rows apart (rows_of()): a product grid then
# goes stale when an order takes the stock of a product it shows, not of any product.
# Nobody who writes has to remember to tell: every
# statement the database runs passes watch_writes() (a query hook) or watch_reads(), from a
# save(), a bulk query or raw SQL alike. A model whose rows no cached page shows (a cart, a
# failed login) says so with `private = True` in its Meta, and writing it costs no cache.
_change_listeners, _read_listeners = [], []
_WRITE = re.compile(r"\s*(?:(INSERT|REPLACE|UPDATE|DELETE)\b(?:\s+OR\s+\w+)?(?:\s+INTO|\s+FROM)?"
                    r"\s+[\"`]?(\w+)|(CREATE|ALTER|DROP|WITH)\b)", re.IGNORECASE)
_READ = re.compile(r"\b(?:FROM|JOIN)\s+[\"`]?(\w+)", re.IGNORECASE)
# A statement that only reads: a SELECT, or one with a common table expression (WITH ...
# SELECT) that writes nothing. (A WITH that writes is told as a write of everything.)
_READS_ONLY = re.compile(r"\s*(?:SELECT|WITH\b(?!.*\b(?:INSERT|UPDATE|DELETE)\b))",
                         re.IGNORECASE | re.DOTALL)
# Tables read for another: SQLite's full-text index is kept from product's rows by triggers,
# which no hook sees, so reading it is reading product.
READ_AS = {"product_search": "product"}
_about = threading.local()      # .tags: {table: the tags of the rows its reads and writes concern}


def on_data_change(listener):
    """`listener(tags)` is told the tags of every committed write."""
    _change_listeners.append(listener)


def on_data_read(listener):
    """`listener(tags)` is told the tags of every SELECT, before it runs."""
    _read_listeners.append(listener)


def data_changed(tags=("*",)):
    for listener in _change_listeners:
        listener(set(tags))


@contextlib.contextmanager
def about(model, *objs, keys=()):
    """Reads and writes of `model`'s table in this block concern only its rows about `objs`,
    or its own rows with these `keys`."""
    narrowed = _about.__dict__.setdefault("tags", {})
    table = model._meta.table_name
    before = narrowed.get(table)
    narrowed[table] = {f"{table}:{obj._meta.table_name}:{obj.get_id()}" for obj in objs} | {
        f"{table}:{table}:{key}" for key in keys}
    try:
        yield
    finally:
        if before is None:
            del narrowed[table]
        else:
            narrowed[table] = before


def tags_of(tables, writing, sql=""):
    """The tags of reading (or writing) these tables here, by the statement `sql`: see
    about()."""
    narrowed, tags = getattr(_about, "tags", {}), set()
    for table in tables:
        rows, in_place = narrowed.get(table), _changed_in_place().get(table, ())
        named = {f"{table}.{column}" for column in in_place if re.search(rf"\b{column}\b", sql)}
        if writing and not rows:
            tags.add(table)
        elif writing:
            tags |= rows | (named if _sets_only(sql, table, in_place) else {table + ":*"})
        else:
            tags |= {table} | (rows or named | {table + ":*"})
    return tags


_SET = re.compile(r"\bSET\b(.*?)(?:\bWHERE\b|\bRETURNING\b|$)", re.IGNORECASE | re.DOTALL)


def _sets_only(sql, table, columns):
    """True if `sql` is an UPDATE that sets these columns of `table` and nothing else: each
    word of its SET clause is one of them or the table's name (a function, another column,
    a subquery, and it is not). (PostgreSQL's slot for a value, %s, is no word.)"""
    match = sql.lstrip()[:6].upper() == "UPDATE" and _SET.search(sql)
    words = set(re.findall(r"(?<![%\w])[A-Za-z_]\w*", match.group(1))) if match else set()
    return bool(words) and words <= {table, *columns}


def rows_of(query, keys=None):
    """The rows of `query` (one model's rows, sorted and limited as a page shows them), read
    so that what shows them depends on those rows alone: first which rows (their `keys`, if
    not given: a read of the whole table, which no change in place touches), then those rows,
    about them only. A model without columns changed in place is read at once."""
    model, pk = query.model, query.model._meta.primary_key
    if keys is None:
        plain = all(isinstance(key, peewee.Field) for key in order_keys(query))
        if not _changed_in_place().get(model._meta.table_name) or not plain:
            return list(query)
        keys = [row[0] for row in query.select(pk).tuples()]
    if not keys:
        return []
    rows = query.limit(None).offset(None)
    rows._where = pk.in_(keys)      # (not the list's filter again: it chose them, at a cost)
    with about(model, keys=keys):
        found = {row.get_id(): row for row in rows}
    return [found[key] for key in keys if key in found]


def watch_writes(event):
    """A query hook (Database.query_hooks): tell the listeners what a statement wrote. A write
    inside a transaction is told when the transaction commits, and never if it rolls back:
    until then nobody else could read it (watch_transactions)."""
    if event.exception is not None or event.sql[:6].upper() in ("PRAGMA", "SAVEPO") \
            or _READS_ONLY.match(event.sql):
        return
    match = _WRITE.match(event.sql)
    if match and match.group(2) not in _private_tables():
        tags = tags_of([match.group(2)], writing=True, sql=event.sql) if match.group(2) \
            else {"*"}
        if db.in_transaction():
            _uncommitted.__dict__.setdefault("tags", set()).update(tags)
        else:
            data_changed(tags)


def watch_reads(database):
    """Have `database` tell the listeners what each SELECT reads, before it runs (a page made
    from it is then stamped with what the data was at most as new as)."""
    def tell_and_execute(sql, params=None, *args, **kwargs):
        if _read_listeners and _READS_ONLY.match(sql):
            tables = {READ_AS.get(t, t) for t in _READ.findall(sql)} - _private_tables()
            tags = tags_of(tables, writing=False, sql=sql)
            for listener in _read_listeners:
                listener(tags)
        return type(database).execute_sql(database, sql, params, *args, **kwargs)
    database.execute_sql = tell_and_execute


_uncommitted = threading.local()     # per thread, as Peewee keeps each thread's connection


def watch_transactions(database):
    """Have `database` tell the listeners of a transaction's writes when it commits."""
    commit, rollback = database.commit, database.rollback

    def commit_and_tell():
        commit()
        tags = getattr(_uncommitted, "tags", None)
        if tags:
            _uncommitted.tags = set()
            data_changed(tags)
        callbacks, _uncommitted.callbacks = getattr(_uncommitted, "callbacks", []), []
        for callback, args in callbacks:
            callback(*args)

    def rollback_and_forget():
        _uncommitted.tags, _uncommitted.callbacks = set(), []
        rollback()
    database.commit, database.rollback = commit_and_tell, rollback_and_forget


def on_commit(callback, *args):
    """Call `callback(*args)` once the transaction under way commits, and never if it rolls
    back (Django's transaction.on_commit): a mail about an order is sent only once the order
    is there for its reader to see. Outside a transaction, at once."""
    if db.in_transaction():
        _uncommitted.__dict__.setdefault("callbacks", []).append((callback, args))
    else:
        callback(*args)


@functools.cache
def _private_tables():
    return {model._meta.table_name for model in _all_models()
            if getattr(model._meta, "private", False)}


@functools.cache
def _changed_in_place():
    return {model._meta.table_name: tuple(model._meta.changed_in_place)
            for model in _all_models() if getattr(model._meta, "changed_in_place", ())}


def _all_models():
    """Every model of the shop, subclasses of subclasses included."""
    found, todo = [], [BaseModel]
    while todo:
        children = todo.pop().__subclasses__()
        found += children
        todo += children
    return found


class ValidationError(Exception):
    """A rule of the shop was broken; `errors` maps a field name to a message."""

    def __init__(self, errors):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


CENT = Decimal("0.01")


class MoneyField(DecimalField):
    """A Decimal with two places, whatever the database hands back (SQLite may say 12.3)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 10)
        super().__init__(*args, decimal_places=2, auto_round=True, **kwargs)

    def python_value(self, value):
        value = super().python_value(value)
        return None if value is None else value.quantize(CENT)


def nouns(model):
    """What people call a row of `model`: ("order item", "order items"). A model may say
    otherwise with `verbose_name` and `verbose_name_plural` in its Meta."""
    singular = getattr(model._meta, "verbose_name", None) or \
        re.sub(r"(?<!^)(?=[A-Z])", " ", model.__name__).lower()
    plural = getattr(model._meta, "verbose_name_plural", None) or (
        singular[:-1] + "ies" if singular.endswith("y") and singular[-2:-1] not in "aeiou"
        else singular + ("es" if singular.endswith(("s", "x")) else "s"))
    return singular, plural


def field_label(field):
    """A field as forms and lists name it, in one case style: "Unit price", "Is active"."""
    return field.verbose_name or field.name.replace("_", " ").capitalize()


def _as_json(value):
    """A column's value in JSON's terms: numbers, text, true/false and null as they are, the
    rest (a Decimal, a date, a moment, a UUID) as the text its field reads back."""
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False
        # save() writes the fields assigned since the row was read, not every column as it was
        # read: a save after a slow step (a form shown minutes ago) would otherwise undo what
        # others wrote meanwhile (the stock a checkout took). Peewee counts any assignment,
        # even of the value a field holds, so a writer assigns only what it changes.
        only_save_dirty = True

    def clean(self):
        """Check the model's own rules; return {field: message} for those broken."""
        return {}

    def problems(self):
        """Every broken rule: numbers the columns cannot hold, then the model's own rules."""
        errors = {}
        for field in self._meta.sorted_fields:
            value = self.__data__.get(field.name)
            if isinstance(field, DecimalField) and isinstance(value, Decimal):
                limit = Decimal(10) ** (field.max_digits - field.decimal_places)
                if field.auto_round and value.is_finite() and abs(value) < limit:
                    # Judge what the column will hold, rounded to its places: 99999999.995
                    # would be stored as 100000000.00, which is over the limit.
                    value = self.__data__[field.name] = value.quantize(
                        Decimal(1).scaleb(-field.decimal_places), rounding=field.rounding)
                if not value.is_finite() or abs(value) >= limit:
                    errors[field.name] = f"Use a number below {limit:,}."
            elif isinstance(field, IntegerField) and isinstance(value, int) \
                    and not isinstance(field, ForeignKeyField) and abs(value) > MAX_INT:
                errors[field.name] = "That number is too large."
            elif isinstance(value, str) and value and not value.strip():
                errors[field.name] = "Write something here, not only spaces."
        return errors or self.clean()    # the model's own rules assume numbers that fit

    def validate(self):
        errors = self.problems()
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        self.validate()
        return self.save_row(*args, **kwargs)

    def save_row(self, *args, **kwargs):
        """Peewee's save(). A row with a key, of a model whose pages read its rows apart (one
        with columns changed in place: about()), is a write about that row alone: an edit
        of one product makes stale its page and the lists, not every product's page. (Not
        every model: a like's rows are read by the product they are about, not by their own
        key, and a write of one must reach those reads.)"""
        if self.get_id() is None or not _changed_in_place().get(self._meta.table_name):
            return Model.save(self, *args, **kwargs)
        with about(type(self), self):
            return Model.save(self, *args, **kwargs)

    # Someone who edits a row (in a form shown minutes ago) changes some of its fields. Their
    # save is refused if someone else has meanwhile changed one of those fields, and only
    # those: a change to another field (a login's last_login, a checkout's stock) is no
    # conflict. The writer keeps what it read (snapshot), and in the transaction that saves,
    # reads the row again, locked (reread), and asks what someone else changed (conflicts).

    def snapshot(self, names):
        """The values of the fields `names` in JSON's terms: what a form carries to say what it
        was opened on. read_snapshot() gives them back as values of their fields."""
        return {name: _as_json(self._meta.fields[name].db_value(self.__data__.get(name)))
                for name in names}

    @classmethod
    def read_snapshot(cls, snapshot):
        """{field name: value} of a snapshot(), for the names that are fields of this model;
        ValueError if a value cannot be read as one of its field's (a price that is no
        number). Peewee reads what it cannot convert as it is: such a value is then unlike
        any the field holds, and an edit judged against it is refused, not mistaken."""
        values = {}
        for name, value in snapshot.items():
            field = cls._meta.fields.get(name)
            try:
                values.update({name: field.python_value(value)} if field else {})
            except (TypeError, ValueError, ArithmeticError) as error:
                raise ValueError(f"{name}: {value!r} is not a value of this field") from error
        return values

    def reread(self):
        """Read this row again, as it is now, and lock it until the transaction ends, so that
        nobody changes it between a check and the save that follows (on PostgreSQL other
        writers of the row wait; on SQLite write_transaction() holds the whole database).
        False if the row is gone. Call it inside write_transaction()."""
        query = type(self).select().where(self._meta.primary_key == self.get_id())
        fresh = (query if is_sqlite() else query.for_update()).first()
        if fresh is None:
            return False
        self.__data__, self.__rel__, self._dirty = fresh.__data__, {}, set()
        return True

    def same(self, name, value, other):
        """Whether two values of the field `name` are the same in the database (12.5 and
        12.50 are; a related row and its id are)."""
        field = self._meta.fields[name]
        return field.db_value(value) == field.db_value(other)

    def conflicts(self, edits, opened):
        """Of the fields that an edit changes (`edits`, {name: new value}), those that someone
        else has changed since the editor read the row as `opened` ({name: value then}):
        {name: value now}. A field that holds its new value already is none. Ask it of the row
        as reread() left it."""
        theirs = {}
        for name, value in edits.items():
            now = self.__data__.get(name)
            if name in opened and not self.same(name, now, opened[name]) \
                    and not self.same(name, now, value):
                theirs[name] = now
        return theirs

    @classmethod
    def deleting(cls, where):
        """Called by delete_rows() just before the rows matching `where` are deleted, all at
        once; returns what to do once they are gone (or None). A model that keeps something
        in step with its rows (a product's price with its promotions) says so here."""
        return None

    @classmethod
    def deletion_blockers(cls, where, limit=None):
        """What forbids deleting the rows matching `where` beyond the foreign keys that
        protect them (a rule of the model's own): [(model, condition, role)], where `role`
        says what the deleted rows are to the blocking ones ("last order item"). `limit`:
        the condition may stop at the first `limit` blocking rows, by key (a plan counts no
        further)."""
        return []


###############################################################################
# 2. Accounts
###############################################################################

PASSWORD_ALGORITHM = "pbkdf2_sha256"
# The work factor of new hashes. Tests lower it through the settings (the same code path runs).
PASSWORD_ITERATIONS = 600_000


def make_password(raw, iterations=None, salt=None):
    """Hash a password as `pbkdf2_sha256$iterations$salt$hash`: the hash carries its parameters."""
    iterations = iterations or PASSWORD_ITERATIONS
    salt = salt or secrets.token_urlsafe(16)
    digest = hashlib.pbkdf2_hmac("sha256", raw.encode(), salt.encode(), iterations)
    return f"{PASSWORD_ALGORITHM}${iterations}${salt}${base64.b64encode(digest).decode()}"


def same_secret(sent, expected):
    """True if two strings are equal, compared in constant time so that the time taken tells an
    attacker nothing. As bytes: hmac's own comparison raises on a str beyond ASCII, which a
    forged cookie or form field may hold."""
    return hmac.compare_digest(sent.encode(), expected.encode())


def check_password(raw, encoded):
    """True if `raw` matches the stored hash; compares in constant time."""
    try:
        algorithm, iterations, salt, _ = encoded.split("$", 3)
        iterations = int(iterations)
    except (ValueError, AttributeError):
        return False
    if algorithm != PASSWORD_ALGORITHM:
        return False
    return same_secret(make_password(raw, iterations, salt), encoded)


def password_problems(password, username="", email=""):
    """What is wrong with a new password, as a list of messages (empty: nothing). The rules of
    Django's validators: long enough, not all digits, not one of the most common passwords,
    not too like the username or email address."""
    problems = []
    if len(password) < 8:
        problems.append("Use at least 8 characters.")
    if password.isdigit():
        problems.append("A password cannot be all digits.")
    if password.strip().lower() in COMMON_PASSWORDS:
        problems.append("This password is one of the most common: it would be guessed first.")
    for label, value in (("username", username), ("email address", email)):
        if value and too_similar(password, value):
            problems.append(f"The password is too like the {label}.")
    return problems


def too_similar(password, value, max_similarity=0.7):
    """True if `password` is too like `value` or a part of it ("alice.smith@example.com" has
    the parts alice, smith, example and com): Django's UserAttributeSimilarityValidator."""
    password, value = password.lower(), value.lower()
    for part in re.split(r"\W+", value) + [value]:
        # A short part cannot be like a password ten times its length: skip the matcher.
        if not part or (len(password) >= 10 * len(part)
                        and len(part) < max_similarity / 2 * len(password)):
            continue
        if difflib.SequenceMatcher(a=password, b=part).quick_ratio() >= max_similarity:
            return True
    return False


PERMISSION_ACTIONS = ("view", "add", "change", "delete")

# The rules for names and addresses, used by every form and by the models themselves.
USERNAME_PATTERN = r"[\w.@+-]{1,150}"
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"


def normalize_username(username):
    """A username in Unicode NFKC, case-folded: what uniqueness and login compared until
    migration 8 (migration 3 still uses it). NFKC turns full-width and other compatibility
    forms into plain letters ("ａｄｍｉｎ" is "admin"), case-folding makes "ALICE" "alice"."""
    return unicodedata.normalize("NFKC", username or "").casefold()


def username_key(username):
    """The form of a username that uniqueness and login compare, so that no one can register
    a name that looks like someone else's: alice, ALICE, ａｌｉｃｅ, аӏісе (all Cyrillic),
    alıce, aʟice, ɑlice, aIice (a capital i) and a1ice have one key.

    The name is NFKC-normalised and case-folded (normalize_username), then each letter becomes
    the one it passes for (skeleton()). A name looks like another in small letters or in
    capitals, and in capitals I is one stroke, as l is: so the skeleton is taken again in
    capitals, and case-folded. The key is for comparing, not for showing: "alice" is "allce".
    (One letter becomes at most four, which the column has room for.)
    """
    return skeleton(skeleton(normalize_username(username)).upper()).casefold()


def skeleton(text):
    """The confusable skeleton of Unicode TR39: each letter of `text` replaced by the letter it
    passes for, from the table of part 12 ("аӏісе", all Cyrillic, becomes "alice")."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", text).translate(_SKELETON))


def _scripts(text):
    """The writing systems of the letters in `text` ({"LATIN"}, {"LATIN", "CYRILLIC"}, ...)."""
    return {unicodedata.name(c, "?").split()[0] for c in text if c.isalpha()}


def username_problem(username, user_id=None):
    """What is wrong with `username` for the user `user_id` (None: a new user), or None."""
    name = unicodedata.normalize("NFKC", username or "")
    if not re.fullmatch(USERNAME_PATTERN, name):
        return "Use letters, digits and @ . + - _ only, up to 150 of them."
    if len(_scripts(name)) > 1:     # "аdmin" with a Cyrillic "а" would pass for "admin"
        return "Use the letters of one alphabet only."
    taken = User.select().where(User.username_key == username_key(name))
    if user_id is not None:
        taken = taken.where(User.id != user_id)
    if taken.exists():
        return "This username is taken."
    return None


class User(BaseModel):
    username = CharField(max_length=150, unique=True)
    # username_key(username): what uniqueness and login compare (case-folding and look-alike
    # letters may lengthen a name, "ß" becomes "ss", hence the room).
    username_key = CharField(max_length=600, unique=True)
    email = CharField(max_length=254, index=True)
    password = CharField(max_length=255)
    first_name = CharField(max_length=150, default="")
    last_name = CharField(max_length=150, default="")
    is_active = BooleanField(default=True)
    is_staff = BooleanField(default=False)
    is_superuser = BooleanField(default=False)
    date_joined = DateTimeField(default=utcnow)
    last_login = DateTimeField(null=True)
    # How many times the account was deactivated. Sessions and reset links carry it, so that
    # those made before a deactivation stay dead when the account is reactivated. Only the
    # database writes it (the trigger of migration 7): it counts every deactivation, by a form,
    # a bulk update or raw SQL alike, and never goes back, whatever an UPDATE says.
    deactivations = IntegerField(default=0)

    class Meta:
        # No cached page shows a user, and a login (which writes last_login) should not cost
        # the shop its caches. The admin's edits of users write their log entry, which does.
        private = True

    def __str__(self):
        return self.username

    @classmethod
    def create_user(cls, username, email, password, **fields):
        user = cls(username=username, email=email, **fields)
        user.set_password(password)
        user.save()
        return user

    def clean(self):
        errors = {}
        problem = username_problem(self.username, self.id)
        if problem:
            errors["username"] = problem
        if self.email and not re.fullmatch(EMAIL_PATTERN, self.email):
            errors["email"] = "Enter a valid email address."
        return errors

    def save(self, *args, **kwargs):
        if not self.password:   # made in the admin without one: no password can match it
            self.password = "!" + secrets.token_urlsafe(24)
        # Only a new or renamed user's name is worked out again: a save that wrote the name it
        # read would undo a rename made meanwhile.
        if self.id is None or "username" in self._dirty:
            self.username = unicodedata.normalize("NFKC", self.username or "")
            self.username_key = username_key(self.username)
        return super().save(*args, **kwargs)

    def set_password(self, raw):
        self.password = make_password(raw)

    def change_password(self, raw, if_still=None):
        """Write a new password, and only that column. With `if_still`, only if the stored hash
        is still that one: of two changes that started from it, one wins. True if written."""
        return self.write_if_unchanged([User.password] if if_still else [],
                                       password=make_password(raw))

    def write_if_unchanged(self, unchanged=(), **values):
        """Write `values` to this user's row and nothing else (UPDATE ... SET only them), if the
        fields `unchanged` still hold what this instance has (... WHERE each is as it was).
        save() would write back every column as read, undoing what anyone changed since; and
        of two writers that read the same row, the condition lets only the first through.
        True if written; this instance then holds `values`."""
        query = User.update(**values).where(User.id == self.id, *[
            field.is_null() if getattr(self, field.name) is None
            else field == getattr(self, field.name) for field in unchanged])
        if query.execute() != 1:
            return False
        for name, value in values.items():
            setattr(self, name, value)
        return True

    def check_password(self, raw):
        return check_password(raw, self.password)

    def has_usable_password(self):
        return not (self.password or "!").startswith("!")

    def session_hash(self, secret):
        """A fingerprint of the password hash and of the deactivations, kept in the session at
        login and compared on every request: when the password changes, by any means, or the
        account is deactivated, every session that holds the old fingerprint is logged out
        for good (Django's get_session_auth_hash)."""
        return _mac(secret, "session", self.password, self.deactivations)

    def password_needs_upgrade(self):
        """True when the stored hash is weaker than what make_password() makes today."""
        parts = (self.password or "").split("$")
        return len(parts) != 4 or parts[0] != PASSWORD_ALGORITHM or \
            not parts[1].isdigit() or int(parts[1]) < PASSWORD_ITERATIONS

    def permissions(self):
        """Every "<model>.<action>" string this user holds, directly or through groups."""
        if not self.is_active:
            return set()
        own = UserPermission.select(UserPermission.codename).where(UserPermission.user == self)
        via_groups = (GroupPermission.select(GroupPermission.codename)
                      .join(UserGroup, on=(UserGroup.group == GroupPermission.group))
                      .where(UserGroup.user == self))
        return {row.codename for row in (own | via_groups)}

    def has_perm(self, codename):
        if not self.is_active:
            return False
        if self.is_superuser:
            return True
        if not hasattr(self, "_perm_cache"):
            self._perm_cache = self.permissions()
        return codename in self._perm_cache


def _mac(secret, purpose, *values):
    """A keyed hash of `values` for one purpose: without the secret key, no one can make one."""
    message = "|".join([purpose, *map(str, values)]).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


# Failed logins are kept in the database (so every process of a deployment sees them) for
# LOGIN_WINDOW, each under three keys, and judged so that no one can lock anyone else out:
#   the pair   (this name, from this client): the guesser's own attempts. After
#              PAIR_FREE_FAILURES its next attempt is accepted only after a wait that doubles
#              with each failure; one that comes sooner is refused at once, which costs the
#              server nothing (a wait spent sleeping would hold one of its threads).
#   the name   (from any client): attempts on one account from many addresses. After
#              USER_FREE_FAILURES each is slowed a little more, up to LOGIN_MAX_DELAY, but never
#              refused: whoever guesses at alice's name, alice can still log in.
#   the client (any name): refused only after CLIENT_MAX_FAILURES, which an office behind one
#              address reaches only under attack. An IPv6 client is its /64 network, since
#              anyone with one address has the 2**64 others of their network too.
# A successful login clears its pair: a user's own typos are forgotten.
LOGIN_WINDOW = datetime.timedelta(minutes=15)
PAIR_FREE_FAILURES = 3
PAIR_MAX_WAIT = 300             # seconds
USER_FREE_FAILURES = 10
LOGIN_MAX_DELAY = 2.0           # seconds
CLIENT_MAX_FAILURES = 100


class LoginFailure(BaseModel):
    key = CharField(max_length=300)          # "pair:192.0.2.1 alice", "user:alice", "client:..."
    failed_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("key", "failed_at"), False),)
        private = True          # no page shows it: a failed login leaves the caches alone


def client_network(address):
    """The client that failed logins are counted for: an IPv4 address, or an IPv6 /64."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return str(address or "unknown")[:64]
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)


def _throttle_keys(username, client):
    name, client = username_key(username)[:150], client_network(client)
    return {"pair": f"pair:{client} {name}", "user": f"user:{name}", "client": f"client:{client}"}


class LoginVerdict:
    """How to treat one login attempt: refuse it for `refuse_for` seconds (0: let it through,
    saying `reason` otherwise), after slowing it by `delay` seconds."""

    def __init__(self, refuse_for=0, delay=0.0, reason=""):
        self.refuse_for, self.delay, self.reason = refuse_for, delay, reason


def login_throttle(username, client):
    """The LoginVerdict on an attempt to log in as `username` from the address `client`."""
    keys = _throttle_keys(username, client)
    now = utcnow()
    rows = (LoginFailure.select(LoginFailure.key, fn.COUNT(LoginFailure.id),
                                fn.MIN(LoginFailure.failed_at), fn.MAX(LoginFailure.failed_at))
            .where(LoginFailure.key.in_(list(keys.values()))
                   & (LoginFailure.failed_at > now - LOGIN_WINDOW))
            .group_by(LoginFailure.key).tuples())
    found = {key: (count, first, last) for key, count, first, last in rows}
    count, first, last = found.get(keys["client"], (0, None, None))
    if count >= CLIENT_MAX_FAILURES:
        return LoginVerdict(_seconds_until(first + LOGIN_WINDOW, now),
                            reason="Too many failed logins from your network.")
    count, first, last = found.get(keys["pair"], (0, None, None))
    if count >= PAIR_FREE_FAILURES:
        wait = min(PAIR_MAX_WAIT, 2 ** (count - PAIR_FREE_FAILURES))
        if last + datetime.timedelta(seconds=wait) > now:
            return LoginVerdict(_seconds_until(last + datetime.timedelta(seconds=wait), now),
                                reason="Too many failed logins for this account from your "
                                       "network.")
    count = found.get(keys["user"], (0,))[0]
    if count >= USER_FREE_FAILURES:
        return LoginVerdict(delay=min(LOGIN_MAX_DELAY,
                                      0.25 * 2 ** (count - USER_FREE_FAILURES)))
    return LoginVerdict()


def _seconds_until(moment, now):
    return max(1, math.ceil((moment - now).total_seconds()))


def record_login_failure(username, client):
    with write_transaction():
        LoginFailure.insert_many([{"key": key} for key in
                                  _throttle_keys(username, client).values()]).execute()
        LoginFailure.delete().where(LoginFailure.failed_at < utcnow() - LOGIN_WINDOW).execute()


def purge_old_login_failures():
    """Delete the failed logins older than LOGIN_WINDOW (they count no more); how many."""
    return LoginFailure.delete().where(LoginFailure.failed_at < utcnow() - LOGIN_WINDOW).execute()


def clear_login_failures(username, client):
    """Forget the failures of this name from this client (after it logged in)."""
    pair = _throttle_keys(username, client)["pair"]
    with unless_disk_full():
        LoginFailure.delete().where(LoginFailure.key == pair).execute()


def authenticate(username, password):
    """Return the active user with these credentials, or None. Upgrades an old hash.

    Checking a password takes a while (that is the point of the hash), and an admin or the
    owner may change the account meanwhile: so a login writes its time and nothing else, and
    an upgraded hash only if the password is still the one it checked."""
    user = User.get_or_none(User.username_key == username_key(username))
    if user is None:
        make_password(password)   # spend the same time, so timing does not reveal who exists
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    with unless_disk_full():        # a full disk does not keep anyone out
        user.write_if_unchanged(last_login=utcnow())
        if user.password_needs_upgrade():
            user.change_password(password, if_still=user.password)
    return user


def remote_user(name, create=True):
    """The active user a signing-in proxy names (part 10 of app.py), made on first sight if
    `create`; None if there is none, or none may be made. A name only matches an account whose
    name differs from it in case alone: a look-alike ("aIice") is not "alice"."""
    name = unicodedata.normalize("NFKC", name)
    key = username_key(name)
    user = User.get_or_none(User.username_key == key)
    if user is None and create and username_problem(name) is None:
        try:
            with write_transaction():
                user = User.create(username=name, email="")     # with no usable password
        except peewee.IntegrityError:      # made by a request that came at the same moment
            user = User.get_or_none(User.username_key == key)
    if user is None or not user.is_active or \
            normalize_username(user.username) != normalize_username(name):
        return None
    return user


# Password reset by email, as Django's auth does it. The link carries the user's id and a
# token "<time>-<mac>": the mac covers the time, so the token expires, and the columns below,
# which the reset itself, a login, a new address or a deactivation change, so the link works
# once. Setting the password spends it: an UPDATE ... WHERE they are all as the link found
# them, which one request wins, however many post the link's form at once.
PASSWORD_RESET_TIMEOUT = datetime.timedelta(days=3)    # app.py sets it from the settings
RESET_TOKEN_COVERS = (User.password, User.last_login, User.email, User.deactivations)


def users_for_password_reset(email):
    """The active users with this email address (in any case) who have a usable password."""
    return [user for user in User.select().where(
        (fn.LOWER(User.email) == fn.LOWER((email or "").strip())) & User.is_active)
        if user.has_usable_password()]


def make_reset_token(user, secret, now=None):
    timestamp = int(now if now is not None else time.time())
    return f"{timestamp:x}-{_reset_mac(user, timestamp, secret)}"


def _reset_mac(user, timestamp, secret):
    last_login = user.last_login.replace(microsecond=0) if user.last_login else ""
    return _mac(secret, "reset", user.id, user.password, last_login, user.email,
                user.deactivations, timestamp)[:32]


def user_for_reset_token(uid, token, keys):
    """The user a reset link is for, or None if it is wrong, used or out of date. `keys`: the
    secret key, then the old keys whose links still count (a key was just rotated)."""
    user_id = parse_id(uid)
    user = User.get_or_none((User.id == user_id) & User.is_active) if user_id else None
    stamp, _, mac = (token or "").partition("-")
    if user is None or not re.fullmatch(r"[0-9a-f]{1,16}", stamp):
        return None
    timestamp = int(stamp, 16)
    if not any(same_secret(mac, _reset_mac(user, timestamp, key)) for key in keys):
        return None
    if time.time() - timestamp > PASSWORD_RESET_TIMEOUT.total_seconds():
        return None
    return user


def reset_password(user, raw):
    """Set the new password of a reset link for `user`, as user_for_reset_token() found them,
    if nothing the link's token covers has changed since: the link is spent. True if this
    request set it; False if another spent the link first (or the account changed)."""
    return user.write_if_unchanged(RESET_TOKEN_COVERS + (User.is_active,),
                                   password=make_password(raw))


# A reset mail goes to an address at most RESET_MAILS_PER_HOUR times an hour, so that the
# form cannot flood anyone's inbox. Each mail takes one of the numbered places of its address
# for an hour, and the unique key lets a place be taken once: of two requests that race for
# the last place, the database gives it to one (on SQLite and PostgreSQL alike, no lock).
RESET_MAILS_PER_HOUR = 3
RESET_MAIL_WINDOW = datetime.timedelta(hours=1)


class ResetMail(BaseModel):
    address = CharField(max_length=254)         # in lower case
    place = SmallIntegerField()                 # 0 to RESET_MAILS_PER_HOUR - 1
    sent_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("address", "place"), True),)
        private = True          # no page shows it


def reserve_reset_mail(address):
    """True if one more reset mail may go to `address` now, which is then counted."""
    address = address.strip().lower()
    ResetMail.delete().where((ResetMail.address == address)
                             & (ResetMail.sent_at <= utcnow() - RESET_MAIL_WINDOW)).execute()
    for place in range(RESET_MAILS_PER_HOUR):
        if ResetMail.insert(address=address, place=place).on_conflict_ignore() \
                .as_rowcount().execute():
            return True
    return False


# The demo shop's admin, made on a first start with a password printed once. Its hash is
# salted "demo-...": any new password gets a fresh salt, so `python app.py check --deploy` can
# tell that the printed password is still the one in use.
DEMO_SALT = "demo-"


def create_demo_admin(password):
    """The demo admin, made with `password`; None if a user called admin (or Admin, or a name
    that looks like it) exists."""
    if User.select().where(User.username_key == username_key("admin")).exists():
        return None
    user = User(username="admin", email="admin@example.com", is_staff=True, is_superuser=True)
    user.password = make_password(password, salt=DEMO_SALT + secrets.token_urlsafe(16))
    user.save()
    return user


def demo_admin_unchanged():
    """True if the demo admin exists, active, with the password it was made with."""
    admin = User.get_or_none((User.username_key == username_key("admin")) & User.is_active)
    parts = admin.password.split("$") if admin else []
    return len(parts) == 4 and parts[2].startswith(DEMO_SALT)


class Group(BaseModel):
    name = CharField(max_length=150, unique=True)

    def __str__(self):
        return self.name


ACTIVE_USER = Prepared(lambda user_id: User.select().where(
    (User.id == user_id) & User.is_active).limit(1), User.id)


def active_user(user_id):
    """The active user with this id, or None (asked by every request of a logged-in user)."""
    return ACTIVE_USER.first(user_id)


class UserGroup(BaseModel):
    user = ForeignKeyField(User, backref="user_groups", on_delete="CASCADE")
    group = ForeignKeyField(Group, backref="user_groups", on_delete="CASCADE")

    class Meta:
        indexes = ((("user", "group"), True),)
        verbose_name = "group membership"

    def __str__(self):
        return f"{self.user} in {self.group}"


class GroupPermission(BaseModel):
    group = ForeignKeyField(Group, backref="permissions", on_delete="CASCADE")
    codename = CharField(max_length=100)

    class Meta:
        indexes = ((("group", "codename"), True),)
        verbose_name = "group permission"

    def __str__(self):
        return f"{self.group}: {self.codename}"


class UserPermission(BaseModel):
    user = ForeignKeyField(User, backref="user_permissions", on_delete="CASCADE")
    codename = CharField(max_length=100)

    class Meta:
        indexes = ((("user", "codename"), True),)
        verbose_name = "user permission"

    def __str__(self):
        return f"{self.user}: {self.codename}"


# API tokens, for programs (Django REST framework's TokenAuthentication). A token is
# "sf_<prefix>_<secret>": the prefix finds its row, and only a SHA-256 hash of the whole token
# is stored, so a copy of the database holds no token that works. (The secret is 256 random
# bits: a fast hash is enough, where a password, which people choose, needs a slow one.)
TOKEN_PATTERN = re.compile(r"sf_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
TOKEN_USE_NOTED_EVERY = datetime.timedelta(minutes=1)   # last_used_at is at most this stale


class ApiToken(BaseModel):
    user = ForeignKeyField(User, backref="api_tokens", on_delete="CASCADE")
    name = CharField(max_length=100)
    prefix = CharField(max_length=12, unique=True)
    hash = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(null=True)
    expires_at = DateTimeField(null=True)
    revoked = BooleanField(default=False)

    class Meta:
        indexes = ((("user", "created_at"), False),)
        verbose_name = "API token"
        # No cached page shows a token, and noting a token's use must not cost the caches.
        private = True

    def __str__(self):
        return f"{self.name} (sf_{self.prefix}_…)"

    def new_secret(self):
        """Give this token a new secret (its prefix and hash); return the token, the one time
        anyone sees it."""
        self.prefix = secrets.token_hex(6)
        token = f"sf_{self.prefix}_{secrets.token_urlsafe(32)}"
        self.hash = hashlib.sha256(token.encode()).hexdigest()
        return token

    @property
    def status(self):
        if self.revoked:
            return "revoked"
        return "expired" if self.expires_at and self.expires_at <= utcnow() else "active"


def issue_token(user, name, days=0):
    """A new token for `user`, which expires in `days` days (0: never): (the ApiToken, the
    token itself, to be shown once)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": "Give the token a name of 1 to 100 characters."})
    expires_at = utcnow() + datetime.timedelta(days=days) if days else None
    row = ApiToken(user=user, name=name, expires_at=expires_at)
    token = row.new_secret()
    row.save(force_insert=True)
    return row, token


def user_for_token(token):
    """The active user whose unrevoked, unexpired token this is, or None. Notes the token's
    use, at most once every TOKEN_USE_NOTED_EVERY: a program calling ten times a second must
    not write ten times a second."""
    match = TOKEN_PATTERN.fullmatch(token or "")
    row = ApiToken.select(ApiToken, User).join(User).where(
        (ApiToken.prefix == match.group(1)) & ~ApiToken.revoked & User.is_active
    ).first() if match else None
    if row is None or not same_secret(hashlib.sha256(token.encode()).hexdigest(), row.hash) \
            or (row.expires_at is not None and row.expires_at <= utcnow()):
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_NOTED_EVERY:
        ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
    return row.user


def tokens_of(user):
    return ApiToken.select().where(ApiToken.user == user).order_by(ApiToken.created_at.desc())


def revoke_token(user, token_id):
    """Revoke one of `user`'s own tokens; False if they have none with this id."""
    return ApiToken.update(revoked=True).where(
        (ApiToken.id == parse_id(token_id)) & (ApiToken.user == user)).execute() == 1


###############################################################################
# 3. Catalog
###############################################################################

def slugify(text):
    """'Café Crème, 250 g' -> 'cafe-creme-250-g'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:255].rstrip("-")


def price_after(unit_price, discount):
    """The price paid: the unit price less a discount (a percentage), rounded to the cent,
    half up. The one place the shop computes a price; Product.price stores its result."""
    return (Decimal(unit_price) * (100 - Decimal(discount)) / 100).quantize(CENT, ROUND_HALF_UP)


class Promotion(BaseModel):
    description = CharField(max_length=255)
    discount = DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    starts_on = DateField(null=True)    # the first day it applies (none: already)
    ends_on = DateField(null=True)      # the last day it applies (none: until removed)

    def __str__(self):
        return self.description

    def clean(self):
        errors = {}
        if self.discount is None or not Decimal("0") <= Decimal(self.discount) <= Decimal("100"):
            errors["discount"] = "A discount is a percentage between 0 and 100."
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = "A promotion cannot end before it starts."
        return errors

    @classmethod
    def current(cls, today=None):
        """The condition "applies today" (UTC), for a where()."""
        today = today or utcnow().date()
        return ((cls.starts_on.is_null() | (cls.starts_on <= today))
                & (cls.ends_on.is_null() | (cls.ends_on >= today)))

    @property
    def is_current(self):
        today = utcnow().date()
        return (self.starts_on or today) <= today <= (self.ends_on or today)

    def products(self):
        return ProductPromotion.select(ProductPromotion.product).where(
            ProductPromotion.promotion == self.id)

    def save(self, *args, **kwargs):
        saved = super().save(*args, **kwargs)
        reprice(self.products())        # a new discount or new dates change their prices
        return saved

    def delete_instance(self, *args, **kwargs):
        products = [row.product_id for row in self.products()]
        deleted = super().delete_instance(*args, **kwargs)
        reprice(products)
        return deleted


class Collection(BaseModel):
    title = CharField(max_length=255, index=True)
    # A collection and a product point at each other; one side has to be declared later.
    featured_product = DeferredForeignKey("Product", null=True, on_delete="SET NULL",
                                          backref="featured_in")

    def __str__(self):
        return self.title


class Product(BaseModel):
    title = CharField(max_length=255, index=True)
    slug = CharField(max_length=255, index=True, default="")   # made from the title if empty
    description = TextField(default="")
    # The title and the description as search compares them (fold()), made by save(): the
    # full-text index of either database reads these, so both find the same products.
    search_title = TextField(default="")
    search_description = TextField(default="")
    unit_price = MoneyField(index=True)                 # the list price
    price = MoneyField(index=True)      # what it sells for today: price_after(unit_price, ...)
    inventory = IntegerField(default=0, index=True)
    last_update = DateTimeField(default=utcnow, index=True)
    collection = ForeignKeyField(Collection, backref="products", on_delete="RESTRICT")

    class Meta:
        indexes = (
            (("collection", "title"), False),
            (("collection", "unit_price"), False),
            (("collection", "price"), False),
        )
        constraints = [Check("unit_price >= 1"), Check("inventory >= 0")]
        # An order takes stock: a change that moves no product in a list nor out of one, so
        # it makes stale the pages that show those products, not every list (see about()).
        changed_in_place = ("inventory", "last_update")

    LOW_STOCK = 10

    def __str__(self):
        return self.title

    def clean(self):
        errors = {}
        if not (self.title or "").strip():
            errors["title"] = "A product needs a title."
        try:
            if self.unit_price is None or Decimal(self.unit_price) < 1:
                errors["unit_price"] = "The price must be at least 1."
        except ArithmeticError:
            errors["unit_price"] = "The price must be a number."
        if self.inventory is None or int(self.inventory) < 0:
            errors["inventory"] = "Inventory cannot be negative."
        if self.slug and slugify(self.slug) != self.slug:     # it is a part of a URL
            errors["slug"] = (f"Use lowercase letters, digits and hyphens: "
                              f"{slugify(self.slug) or 'or leave it empty'}.")
        return errors

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.title or "")
        self.last_update = utcnow()
        self.validate()                 # the price is worked out from a valid unit price
        self.price = price_after(self.unit_price, self.best_discount())
        self.search_title, self.search_description = fold(self.title), fold(self.description)
        return self.save_row(*args, **kwargs)

    def best_discount(self):
        """The biggest discount among the product's current promotions (0 without one)."""
        return best_discounts([self.id]).get(self.id, Decimal(0)) if self.id else Decimal(0)

    @property
    def discounted(self):
        return self.price < self.unit_price

    def current_promotions(self):
        """The promotions that apply today, best first."""
        return (Promotion.select().join(ProductPromotion)
                .where((ProductPromotion.product == self.id) & Promotion.current())
                .order_by(Promotion.discount.desc(), Promotion.id))

    @classmethod
    def stock_is(cls, kind):
        """The condition "the stock is `kind`" ("out" or "low"), for a where(). It is written on
        inventory + 0, which no index serves: the database then walks the list's own sort
        index and checks each row's stock, finding a page of low-stock products at once (a
        quarter of them are), where the inventory index would gather them all to sort them
        (300 ms at a million products, against 1)."""
        stock = cls.inventory + 0
        return stock <= 0 if kind == "out" else stock.between(1, cls.LOW_STOCK - 1)

    @property
    def stock(self):
        """How the shop and the admin describe the stock: ("out" | "low" | "ok", words)."""
        if self.inventory <= 0:
            return "out", "Out of stock"
        if self.inventory < self.LOW_STOCK:
            return "low", f"Only {self.inventory} left"
        return "ok", "In stock"

    @classmethod
    def catalog(cls, q="", collection_id=None, sort="title", cards=False):
        """The store's product listing: search, filter and a whitelisted sort, with collections.
        With `cards`, only the columns a product card shows (a description to carry and a
        timestamp to parse, 24 times a page, cost more than the rest of the row)."""
        columns = (cls.id, cls.title, cls.unit_price, cls.price, cls.inventory, cls.collection,
                   Collection.id, Collection.title) if cards else (cls, Collection)
        # A LEFT join on the collection's key: SQLite can then leave it out of queries that
        # use no column of it, such as the id scan of a deep page (see Page).
        query = cls.select(*columns).join(
            Collection, JOIN.LEFT_OUTER, on=(cls.collection == Collection.id))
        if collection_id:
            query = query.where(cls.collection == collection_id)
        sort = sort if sort in CATALOG_SORTS else "title"
        if search_terms(q):
            return Ranking(f"{q!r} in {collection_id} by {sort}",
                           lambda: cls.sorted_matches(q, collection_id, sort),
                           lambda ids: query.where(cls.id.in_(ids)))
        return query.order_by(*CATALOG_SORTS[sort])

    @classmethod
    def sorted_matches(cls, q, collection_id, sort):
        """The ids of the best matches of `q` (best_matches()), in the order of `sort`. They
        are sorted on their own, without a LIMIT: asked for a page of them in the order of
        an index, a database may walk that index to find them, a third of a million rows."""
        ids = cls.best_matches(q, collection_id)
        if sort == "relevance" or not ids:
            return ids
        return [row[0] for row in cls.select(cls.id).where(cls.id.in_(ids))
                .order_by(*CATALOG_SORTS[sort]).tuples()]

    # A search considers its best matches only, this many at most, whatever the sort and the
    # page: sorting by price every product that says "no" would cost a scan of the whole
    # catalog. The page says so ("the best 1,000 matches: refine your search").
    RANKED_AT_MOST = 1000

    @classmethod
    def search(cls, query, q, collection_id=None):
        """`query` narrowed to the best matches of `q` (best_matches()): the products that
        match every word of `q`, each word the start of a word of the title or the
        description ("alm" finds almonds; "olive oil" in quotes stays a phrase)."""
        if not search_terms(q):
            return query
        return query.where(cls.id.in_(cls.best_matches(q, collection_id) or [0]))

    @classmethod
    def best_matches(cls, q, collection_id=None):
        """The ids of the products that match `q`, best first: those with every word in the
        title, then those that need the description, each group in the order the products
        were added; RANKED_AT_MOST at most.

        The database's own full-text index answers it: an FTS5 table kept in step by
        triggers on SQLite, a generated tsvector column with a GIN index on PostgreSQL. Each
        group is asked for in the order of the key with a LIMIT, so the index stops after
        the first matches: nothing is scored or sorted product by product, and it costs the
        same whether a word is in ten products or in a million (and the second group is not
        asked for when the first fills the list)."""
        terms, ids = search_terms(q), []
        for in_title in (True, False):
            if len(ids) < cls.RANKED_AT_MOST:
                query = cls._first_matching(terms, in_title, collection_id,
                                            cls.RANKED_AT_MOST - len(ids))
                ids += [row[0] for row in query.tuples()]
        return ids

    # PostgreSQL first looks for a search's matches among this many products, in the order
    # of the key (see _first_matching()).
    PROBED_AT_MOST = 20 * RANKED_AT_MOST

    @classmethod
    def _first_matching(cls, terms, in_title, collection_id, limit):
        """The first `limit` ids of _matching(). SQLite's FTS5 gives them in the key's order
        and stops. PostgreSQL's GIN index cannot: it finds every match and sorts them, 0.5 s
        for a word in each of 300,000 products. Nor can its planner be left to choose
        between that index and a walk of the key: once the driver has prepared a statement
        (run five times), it may get one plan for any words, and the estimates ignore "in
        the title" anyway. So one statement does both, each bounded: it walks the first
        PROBED_AT_MOST products by key and keeps the matches (a common word fills the list
        there, in a few ms); only if they fall short is the index asked for them all, the
        key's order kept out of it by `id + 0` (the word is then rare among products, or
        at least among titles). The ids are the same either way."""
        if is_sqlite():
            return cls._matching(terms, in_title, collection_id).limit(limit)
        window = cls.select(cls.id, SQL("search_vector")).order_by(cls.id).limit(
            cls.PROBED_AT_MOST)
        if collection_id:
            window = window.where(cls.collection == collection_id)
        window = window.alias("probed")
        head = (cls.select(window.c.id).from_(window).where(cls._match_condition(terms, in_title))
                .order_by(window.c.id).limit(limit).cte("head", materialized=True))
        found = peewee.Select([head], [fn.COUNT(SQL("*"))])
        rest = cls._matching(terms, in_title, collection_id).order_by(cls.id + 0).limit(limit)
        return (peewee.Select([head], [head.c.id]).where(found == limit)
                .union_all(cls.select(SQL("id")).from_(rest.alias("everywhere"))
                           .where(found < limit))
                .order_by(SQL("id")).with_cte(head).bind(db))

    @classmethod
    def _match_condition(cls, terms, in_title):
        """PostgreSQL: the condition "matches `terms`" (in_title: in the title; else only
        elsewhere), on the search_vector column of the table or subquery selected from."""
        vector = SQL("search_vector")
        in_title_too = peewee.Expression(vector, "@@", _tsquery(terms, "A"))
        return (peewee.Expression(vector, "@@", _tsquery(terms))
                & (in_title_too if in_title else ~in_title_too))

    @classmethod
    def _matching(cls, terms, in_title, collection_id):
        """The ids of the products matching `terms` (in_title: in their title; else only
        elsewhere), in the order of the key, in a collection if one is named."""
        if is_sqlite():
            match, rowid = _fts_match(terms), ProductSearch.rowid
            query = ProductSearch.select(rowid).where(ProductSearch.match(
                f"search_title: ({match})" if in_title
                else f"({match}) NOT (search_title: ({match}))")).order_by(rowid)
            if collection_id:
                query = query.join(cls, on=(cls.id == rowid)).where(
                    cls.collection == collection_id)
            return query
        # In the title: asked of the index of titles alone (migration 19). The index of both
        # cannot say where a word was found: a word in 30,000 descriptions and no title had
        # each of those products read to learn that it is not in its title (140 ms at 300,000).
        query = cls.select(cls.id).where(
            peewee.Expression(TITLE_VECTOR, "@@", _tsquery(terms)) if in_title
            else cls._match_condition(terms, in_title))
        if collection_id:
            query = query.where(cls.collection == collection_id)
        return query.order_by(cls.id)


# PostgreSQL: the words of a product's folded title, as its index (product_search_title)
# holds them. Written out, not with the configuration as a parameter: an index serves only a
# query that names its very expression.
TITLE_VECTOR = SQL("to_tsvector('simple', search_title)")


def _fts_match(terms):
    """SQLite FTS5's query for search terms: every one, each a prefix."""
    return " AND ".join('"%s"*' % " ".join(tokens) for tokens in terms)


def _tsquery(terms, weight=""):
    """PostgreSQL's tsquery for search terms: every one, each a prefix; with weight "A",
    found in the title. It is made by a subquery, once a statement: in a plan made for
    any words, a function of them would be made again for each row it checks (20 ms
    for the 20,000 products search may check, against 5)."""
    return peewee.Select(columns=[fn.to_tsquery("simple", " & ".join(" <-> ".join(
        [f"{token}:{weight}" if weight else token for token in tokens[:-1]]
        + [f"{tokens[-1]}:*{weight}"]) for tokens in terms))])


class Ranking:
    """A search's products in the order it ranks them, for a Page: `key` names the search
    (for a cache), ids() lists its ids best first, rows(ids) fetches those products."""

    def __init__(self, key, ids, rows):
        self.key, self.ids, self.rows = key, ids, rows


SEARCH_TERM = re.compile(r'"([^"]*)"|(\S+)')     # a "quoted phrase", or a word


def fold(text):
    """Text as search compares it, the words indexed and the words searched alike: one form
    of each character (NFKC: "ﬁ" is "fi", "Ｆｕｌｌ" is "Full", "½" is "1⁄2"), case folded
    ("Straße" is "strasse"), without accents ("Café" and a "Cafe" + combining accent are both
    "cafe", "İstanbul" is "istanbul"), and cut into runs of letters and digits joined by
    spaces, so that neither database's own rules for cutting words or accents come into it."""
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text or "").casefold())
    text = unicodedata.normalize("NFC", "".join(c for c in text if not unicodedata.combining(c)))
    return " ".join(re.findall(r"[^\W_]+", text))


def searched_text(values):
    """The folded columns search reads, for the title and description among a product's
    `values` (rows written in bulk: Product.save() folds its own)."""
    return {f"search_{name}": fold(values[name]) for name in ("title", "description")
            if name in values}


def search_terms(q):
    """The words and "quoted phrases" of a search, each a tuple of tokens as fold() makes
    them: 'Aged "Olive oil"' gives [("aged",), ("olive", "oil")]. At most ten, so no search
    can be made expensive."""
    terms = []
    for phrase, word in SEARCH_TERM.findall(q or ""):
        tokens = tuple(fold(phrase or word).split())
        if tokens:
            terms.append(tokens)
    return terms[:10]


def search_phrases(q):
    """The words and "quoted phrases" of a search as typed, for matching text as it is stored
    (an email address, "O'Brien"): 'Aged "Olive oil"' gives ["Aged", "Olive oil"]. At most
    ten."""
    typed = (phrase or word.strip('"') for phrase, word in SEARCH_TERM.findall(q or ""))
    return [text for text in typed if text.strip()][:10]


def has_trigrams(q):
    """Whether every term of the search `q` holds a trigram (three letters), so that an index
    of trigrams can find its matches (customer_search, PostgreSQL's pg_trgm): a shorter term
    is found only by reading the rows, one by one."""
    terms = search_phrases(q)
    return bool(terms) and min(map(len, terms)) >= 3


def text_like(field, text, starts=False):
    """The condition "`field` holds `text`" (or starts with it), in any case, the text taken
    as it is: its own % and _ are letters here, not LIKE's wildcards ("100%" is no search
    for everything)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = escaped + "%" if starts else f"%{escaped}%"
    return peewee.NodeList((field, SQL("LIKE" if is_sqlite() else "ILIKE"), pattern,
                            SQL("ESCAPE '\\'")))


class ProductSearch(FTS5Model):
    """SQLite's full-text index of products: an FTS5 table over product's title and
    description ("external content": it stores only the index), kept in step by triggers
    (migration 6). Its rowid is the product's id."""
    rowid = RowIDField()
    search_title = SearchField()
    search_description = SearchField()

    class Meta:
        database = db
        table_name = "product_search"
        # The text comes folded (fold()): the tokenizer only cuts it at the spaces.
        options = {"content": "product", "content_rowid": "id", "prefix": "2 3",
                   "tokenize": "unicode61 remove_diacritics 0"}


class ProductPromotion(BaseModel):
    """The association class of products and promotions (Django's `through` model)."""
    product = ForeignKeyField(Product, backref="product_promotions", on_delete="CASCADE")
    promotion = ForeignKeyField(Promotion, backref="product_promotions", on_delete="CASCADE")

    class Meta:
        indexes = ((("product", "promotion"), True),)
        verbose_name = "promotion of a product"
        verbose_name_plural = "promotions of products"

    def __str__(self):
        return f"{self.product} in {self.promotion}"

    def save(self, *args, **kwargs):
        saved = super().save(*args, **kwargs)
        reprice([self.product_id])
        return saved

    def delete_instance(self, *args, **kwargs):
        deleted = super().delete_instance(*args, **kwargs)
        reprice([self.product_id])
        return deleted

    @classmethod
    def deleting(cls, where):
        products = [row.product_id for row in cls.select(cls.product).where(where)]
        return lambda: reprice(products)


# --- Product photos ---------------------------------------------------------------------------
#
# A photo is checked and cut to its sizes once, when it is uploaded (read_photo), and kept in
# the database with its row, the original too (so that new sizes can be made from it later):
# every process and machine of a deployment sees it, with no shared disk. Its URLs carry the
# hash of its content, so they change when the photo does and may be cached for ever.
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_PIXELS = 25_000_000           # a 24-megapixel camera's 6000 × 4000; decoded, 75 MB
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")      # read from the content, never the name
# Each size is made at upload, at most this wide (never wider than the original), keeping the
# photo's proportions; no side longer than twice its width. "thumb" is the admin's list.
PHOTO_SIZES = {"thumb": 80, "card": 400, "page": 800}


class Photo:
    """A checked upload, ready to store: its `name` as sent, the `digest` of its content, the
    `width` and `height` of the original (turned upright) and {size: bytes} of its `files`."""

    def __init__(self, name, digest, width, height, files):
        self.name, self.digest, self.width, self.height, self.files = \
            name, digest, width, height, files


def photo_size(width, height, size):
    """(width, height) of a size of a photo of `width` × `height`: "card" of 1200 × 900 is
    400 × 300. The pages set them on their <img>, so nothing moves when it loads."""
    most = PHOTO_SIZES[size]
    scale = min(1, most / width, 2 * most / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def read_photo(data, name):
    """Check an upload and make its sizes: a Photo, or ValidationError({"photo": reason}),
    the reason naming the file. The type is read from the content, and the number of pixels
    from the header, before anything is decoded (a small file can unpack to gigabytes)."""
    from PIL import Image, ImageOps     # loaded by the first upload: 6 MB no page needs
    too_big = len(data) > PHOTO_MAX_BYTES
    problem = (f"{name} is empty." if not data else
               f"{name} is larger than {PHOTO_MAX_BYTES // 2**20} MB." if too_big else None)
    try:
        if problem is None:
            with Image.open(io.BytesIO(data), formats=PHOTO_FORMATS) as image:
                if image.width * image.height > PHOTO_MAX_PIXELS:
                    raise Image.DecompressionBombError
                image.verify()          # checksums, where the format has them (PNG)
            with Image.open(io.BytesIO(data), formats=PHOTO_FORMATS) as image:
                image.load()            # a truncated file fails here
                upright = _pixels_only(ImageOps.exif_transpose(image))
    except Image.DecompressionBombError:
        problem = (f"{name} has more than {PHOTO_MAX_PIXELS // 10**6} million pixels: "
                   f"make it smaller first.")
    except Image.UnidentifiedImageError:
        problem = f"{name} is not a JPEG, PNG, WebP or GIF image (judged by its content)."
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombWarning):
        problem = f"{name} is damaged or incomplete: it cannot be read to the end."
    if problem:
        raise ValidationError({"photo": problem})
    return Photo(name, hashlib.sha256(data).hexdigest()[:16], upright.width, upright.height,
                 _encode_sizes(upright))


def _pixels_only(image):
    """The image's pixels alone, in RGB (or RGBA if it has transparency): no EXIF, no GPS,
    no comments. (A GIF's first frame.)"""
    transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    plain = image.convert("RGBA" if transparent else "RGB")
    plain.info = {}
    return plain


def _encode_sizes(image):
    """{size: bytes}: the original (JPEG, or PNG with transparency) and each size in WebP."""
    from PIL import Image
    files = {}
    buffer = io.BytesIO()
    image.save(buffer, "PNG" if image.mode == "RGBA" else "JPEG", quality=90)
    files["original"] = buffer.getvalue()
    for size in PHOTO_SIZES:
        buffer = io.BytesIO()
        image.resize(photo_size(image.width, image.height, size), Image.LANCZOS,
                     reducing_gap=3.0).save(buffer, "WEBP", quality=80, method=2)
        files[size] = buffer.getvalue()
    return files


class ImageField(CharField):
    """An image kept with its row: the column holds the hash of its content (its version, in
    its URLs). Assign a Photo (a checked upload), and the row's save() stores its files."""

    def __init__(self, **kwargs):
        super().__init__(max_length=16, **kwargs)

    def db_value(self, value):
        return super().db_value(value.digest if isinstance(value, Photo) else value)


class ProductImage(BaseModel):
    """A photo of a product. The first, by position, is its main photo."""
    product = ForeignKeyField(Product, backref="images", on_delete="CASCADE", index=False)
    photo = ImageField()
    alt = CharField(max_length=255, default="", verbose_name="Alt text")
    position = IntegerField(default=0)
    width = IntegerField(default=0)         # of the original, upright
    height = IntegerField(default=0)

    class Meta:
        indexes = ((("product", "position"), False),)
        verbose_name = "photo"

    def __str__(self):
        return self.alt or f"Photo {self.id}"

    def clean(self):
        errors = {}
        if not self.photo:
            errors["photo"] = "Choose a photo."
        if not (self.alt or "").strip():
            errors["alt"] = "Say what the photo shows, for those who cannot see it."
        return errors

    def save(self, *args, **kwargs):
        photo, new = self.__data__.get("photo"), self.get_id() is None
        if isinstance(photo, Photo):
            self.width, self.height = photo.width, photo.height
        with db.atomic():
            saved = super().save(*args, **kwargs)
            if isinstance(photo, Photo):
                ProductImageFile.delete().where(ProductImageFile.image == self.id).execute()
                ProductImageFile.insert_many([{"image": self.id, "size": size, "data": data}
                                              for size, data in photo.files.items()]).execute()
                self.__data__["photo"] = photo.digest
            elif new:       # a copy of a stored photo (a product saved as new): its files too
                self._copy_files_of(photo)
        return saved

    def _copy_files_of(self, digest):
        source = ProductImage.select(ProductImage.id).where(
            (ProductImage.photo == digest) & (ProductImage.id != self.id)).limit(1)
        ProductImageFile.insert_from(
            ProductImageFile.select(peewee.Value(self.id), ProductImageFile.size,
                                    ProductImageFile.data)
            .where(ProductImageFile.image == source),
            [ProductImageFile.image, ProductImageFile.size, ProductImageFile.data]).execute()

    def size(self, size):
        """(width, height) of one of its sizes."""
        return photo_size(self.width, self.height, size)


class ProductImageFile(BaseModel):
    """One size of a photo (or its original), as the browser gets it."""
    image = ForeignKeyField(ProductImage, backref="files", on_delete="CASCADE", index=False)
    size = CharField(max_length=10)
    data = peewee.BlobField()

    class Meta:
        indexes = ((("image", "size"), True),)
        verbose_name = "photo file"
        in_plans = False    # a deletion page names the photo: its files are part of it

    def __str__(self):
        return f"{self.size} of photo {self.image_id}"


# The one question of a photo's URL, asked for every photo a browser has not cached: written
# once, answered by the primary key and the (image, size) index.
PHOTO_FILE = Prepared(lambda image_id, size, digest: ProductImageFile.select(
    ProductImageFile.data).join(ProductImage).where(
    (ProductImageFile.image == image_id) & (ProductImageFile.size == size)
    & (ProductImage.photo == digest)), ProductImageFile.image, ProductImageFile.size,
    ProductImage.photo)


def photo_file(image_id, size, digest):
    """The bytes of one size of a photo, if `digest` is its version; else None."""
    return PHOTO_FILE.scalar(image_id, size, digest) if size in PHOTO_SIZES else None


def attach_photos(products):
    """Give each product its `photos` (by position) and `photo` (the first, or None), in one
    query whatever their number: a page of cards costs one query more, not one per card. A
    query is read by rows_of(): a grid of cards shows the stock of its products only."""
    products = rows_of(products) if isinstance(products, peewee.SelectQuery) else list(products)
    found = collections.defaultdict(list)
    ids = {p.id for p in products}
    if ids:
        for image in (ProductImage.select(*PHOTO_COLUMNS).where(ProductImage.product.in_(ids))
                      .order_by(ProductImage.product, ProductImage.position, ProductImage.id)):
            found[image.product_id].append(image)
    for product in products:
        product.photos = found[product.id]
        product.photo = product.photos[0] if product.photos else None
    return products


PHOTO_COLUMNS = (ProductImage.id, ProductImage.product, ProductImage.photo, ProductImage.alt,
                 ProductImage.width, ProductImage.height)


def best_discounts(products):
    """{product id: the biggest discount among its current promotions} for these products
    (ids, or a query of ids); a product without one is left out."""
    return {product: Decimal(str(discount)) for product, discount in (
        ProductPromotion.select(ProductPromotion.product, fn.MAX(Promotion.discount))
        .join(Promotion).where(ProductPromotion.product.in_(products) & Promotion.current())
        .group_by(ProductPromotion.product).tuples())}


def reprice(products):
    """Store the price of these products (ids, or a query of ids) as their promotions make it
    today. Called wherever a unit price, a promotion or a link between them changes, and on
    the first request of a new day, when dated promotions start and end."""
    best = best_discounts(products)
    changed = 0
    for product, unit_price, price in Product.select(
            Product.id, Product.unit_price, Product.price).where(Product.id.in_(products)).tuples():
        new = price_after(unit_price, best.get(product, 0))
        if new != price:
            changed += Product.update(price=new).where(Product.id == product).execute()
    return changed


class PricingDay(BaseModel):
    """The day the stored prices were last worked out for (one row)."""
    day = DateField()

    class Meta:
        private = True          # (the prices it changes are not)


_priced_for = None      # the same day, remembered in this process: checking costs nothing


def reprice_if_new_day():
    """On the first call of a new day (UTC), reprice the products of dated promotions: some
    start today, some ended yesterday. One process does it; the others see the stored day."""
    global _priced_for
    today = utcnow().date()
    if _priced_for == today or PricingDay.select().where(PricingDay.day == today).exists():
        _priced_for = today
        return
    with write_transaction():
        row = PricingDay.select().first()
        if row is None or row.day != today:
            dated = (ProductPromotion.select(ProductPromotion.product).join(Promotion)
                     .where(Promotion.starts_on.is_null(False) | Promotion.ends_on.is_null(False)))
            reprice(dated)
            PricingDay.delete().execute()
            PricingDay.create(day=today)
    _priced_for = today


# What ?sort= may say, and what it means: a name from the URL is looked up here, never pasted.
CATALOG_SORTS = {
    "relevance": (Product.title, Product.id),   # best matches first when searching (catalog())
    "title": (Product.title, Product.id),
    "-title": (Product.title.desc(), Product.id.desc()),
    "price": (Product.price, Product.id),
    "-price": (Product.price.desc(), Product.id.desc()),
    "newest": (Product.id.desc(),),
}


###############################################################################
# 4. Customers and orders
###############################################################################

MEMBERSHIPS = (("B", "Bronze"), ("S", "Silver"), ("G", "Gold"))
CUSTOMER_SEARCH_COLUMNS = ("first_name", "last_name", "email")     # their index of trigrams
PAYMENT_STATUSES = (("P", "Pending"), ("C", "Complete"), ("F", "Failed"))


class Customer(BaseModel):
    first_name = CharField(max_length=255)
    last_name = CharField(max_length=255)
    email = CharField(max_length=254, unique=True)
    phone = CharField(max_length=255, default="")
    birth_date = DateField(null=True)
    membership = CharField(max_length=1, choices=MEMBERSHIPS, default="B")
    user = ForeignKeyField(User, null=True, unique=True, backref="customers", on_delete="SET NULL")
    # How many orders point here, kept by the database (see ORDER_SUMS): a list sorted by it
    # walks an index instead of counting every customer's orders.
    order_count = IntegerField(default=0)

    class Meta:
        indexes = ((("first_name", "last_name"), False),
                   (("last_name", "first_name", "id"), False), (("order_count", "id"), False),
                   (("membership", "last_name", "first_name", "id"), False),
                   (("membership", "id"), False))

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    def clean(self):
        errors = {}
        if not re.fullmatch(EMAIL_PATTERN, self.email or ""):
            errors["email"] = "Enter a valid email address."
        elif self.email_taken(self.email):
            errors["email"] = "Another customer has this email address."
        if self.membership not in dict(MEMBERSHIPS):
            errors["membership"] = "Membership is B, S or G."
        return errors

    # Past this many candidates a word is so common that walking a list in its order finds a
    # page soonest: gathering them would cost more than the walk they spare. Up to it they pay
    # for themselves even where a search stops counting (20,000 matches) and walks: each
    # customer walked is then tested against the candidates, not read ("son", held by 25,210
    # of 200,000 customers who sort late: 182 ms a page, then 39).
    CANDIDATES_AT_MOST = 50_000

    @classmethod
    def candidates(cls, q):
        """SQLite: the condition "among the customers whose trigrams hold every term of the
        search `q`" (customer_search, migration 21): a search tests only those, and a rare
        name or email is found in a few ms, not by reading every customer. None where it
        would not help: no such index (PostgreSQL's is one ILIKE uses by itself), a term of
        fewer than three letters (no trigram), or more than CANDIDATES_AT_MOST."""
        if not has_trigrams(q) or not is_sqlite() or not db.table_exists("customer_search"):
            return None
        match = " AND ".join('"' + term.replace('"', '""') + '"' for term in search_phrases(q))
        at_most = cls.CANDIDATES_AT_MOST
        if _trigram_matches(match, at_most + 1, time.monotonic() // 60) > at_most:
            return None
        return cls.id.in_(SQL("(SELECT rowid FROM customer_search WHERE customer_search "
                              "MATCH ?)", (match,)))

    def email_taken(self, email):
        """True if another customer has `email` (in any case). Both sides are lowered by the
        database: SQLite's LOWER() knows only ASCII, Python's lower() every letter."""
        return Customer.select().where((fn.LOWER(Customer.email) == fn.LOWER(email))
                                       & (Customer.id != (self.id or 0))).exists()


@functools.lru_cache(maxsize=256)
def _trigram_matches(match, limit, minute):
    """How many customers the index of trigrams finds for `match`, up to `limit`: asked by
    each query of a list that searches, and remembered for the minute. A number a minute old
    only picks the way to search (the index or a walk), never which rows it finds."""
    return db.execute_sql("SELECT count(*) FROM (SELECT rowid FROM customer_search WHERE "
                          "customer_search MATCH ? LIMIT ?)", (match, limit)).fetchone()[0]


class Address(BaseModel):
    street = CharField(max_length=255)
    city = CharField(max_length=255)
    zip = CharField(max_length=20, default="")
    customer = ForeignKeyField(Customer, backref="addresses", on_delete="CASCADE")

    def __str__(self):
        return ", ".join(part for part in (self.street, self.zip, self.city) if part)


def to_money(value):
    """SQLite sums decimals as floats: bring an aggregate back to two-place Decimal."""
    return Decimal(str(value or 0)).quantize(CENT)


def money_sum(expression):
    return fn.COALESCE(fn.SUM(expression), 0).python_value(to_money)


def per_parent(fk, **aggregates):
    """The children of each parent through the foreign key `fk`, summed up by `aggregates`
    (name=expression) in one grouped subquery, and the condition to LEFT JOIN it on.

    A list of parents then counts or sums for all its rows in its own query, instead of one
    query per row; a parent without children gets NULL (wrap the column in COALESCE).
    """
    children = (fk.model.select(fk, *(expression.alias(name)
                                      for name, expression in aggregates.items()))
                .group_by(fk).alias(fk.model._meta.table_name + "_per_" + fk.name))
    return children, getattr(children.c, fk.column_name) == fk.rel_model._meta.primary_key


def child_count(fk):
    """How many rows point at each parent through `fk`: (subquery, the count, join condition)."""
    children, on = per_parent(fk, n=fn.COUNT(SQL("*")))
    return children, fn.COALESCE(children.c.n, 0), on


class Order(BaseModel):
    # Indexed with the id that breaks ties (Meta.indexes), which serves the column alone too.
    placed_at = DateTimeField(default=utcnow)
    payment_status = CharField(max_length=1, choices=PAYMENT_STATUSES, default="P")
    customer = ForeignKeyField(Customer, backref="orders", on_delete="RESTRICT", index=False)
    # The sums of its items, kept by the database whenever an item is written (ORDER_SUMS):
    # a list of a million orders sorts and shows them without adding up 2.5 million items.
    total = MoneyField(max_digits=14, default=0)
    item_count = IntegerField(default=0)

    class Meta:
        # Each sort and filter of the lists, with the id that breaks ties (see ModelAdmin.sorted).
        indexes = ((("payment_status", "placed_at", "id"), False), (("payment_status", "id"), False),
                   (("placed_at", "id"), False),
                   (("total", "id"), False), (("customer", "placed_at", "id"), False),
                   (("payment_status", "total", "id"), False),
                   (("customer", "payment_status", "id"), False))

    def __str__(self):
        return f"Order #{self.id}"

    @property
    def payment_status_label(self):
        return dict(PAYMENT_STATUSES).get(self.payment_status, self.payment_status)

    @classmethod
    def with_totals(cls):
        """Orders with `total_amount` and `item_count`: the sums the database keeps on each
        order (the name of the sum, as the lists and the API have always read it)."""
        return cls.select(cls, cls.total.alias("total_amount"))


MAX_QUANTITY = 1_000_000     # more of one thing than any cart or order line may hold


def quantity_problem(quantity, minimum=1):
    """What is wrong with a line's quantity, or None. The ceiling keeps every sum of lines
    (a cart's count, an order's total) far from what a 64-bit integer holds."""
    if quantity is None or int(quantity) < minimum:
        return f"The quantity must be at least {minimum}."
    if int(quantity) > MAX_QUANTITY:
        return f"The quantity can be at most {MAX_QUANTITY:,}."
    return None


class OrderItem(BaseModel):
    order = ForeignKeyField(Order, backref="items", on_delete="CASCADE")
    product = ForeignKeyField(Product, backref="order_items", on_delete="RESTRICT", index=False)
    quantity = IntegerField()
    unit_price = MoneyField()               # the price charged for one
    list_price = MoneyField(null=True)      # its list price then, when a promotion lowered it

    class Meta:
        constraints = [Check("quantity >= 1")]
        indexes = ((("quantity", "id"), False), (("unit_price", "id"), False),
                   (("product", "id"), False))

    def __str__(self):
        # Lists of order items join their products (see with_parents), so this costs no query.
        return f"{self.quantity} × {self.product} on order #{self.order_id}"

    @property
    def discounted(self):
        return self.list_price is not None and self.unit_price < self.list_price

    def clean(self):
        errors = {}
        problem = quantity_problem(self.quantity)
        if problem:
            errors["quantity"] = problem
        if self.unit_price is None or Decimal(self.unit_price) < 0:
            errors["unit_price"] = "The price cannot be negative."
        if self.list_price is not None and Decimal(self.list_price) < 0:
            errors["list_price"] = "The price cannot be negative."
        return errors

    @property
    def line_total(self):
        return self.unit_price * self.quantity

    @classmethod
    def deletion_blockers(cls, where, limit=None):
        """An order keeps at least one item: the orders whose every item would go. (Grouped
        in the order of the index on the order, the items stop at the limit: every item of
        a million orders, 1.7 s a query, then 10 ms.)"""
        every = OrderItem.alias()
        emptied = (cls.select(cls.order).where(where).group_by(cls.order)
                   .having(fn.COUNT(cls.id) == every.select(fn.COUNT(every.id))
                           .where(every.order == cls.order)))
        if limit:
            emptied = emptied.order_by(cls.order).limit(limit)
        return [(Order, Order.id.in_(emptied), "last order item")]


# What a parent row keeps of its children, for lists of a million rows: an order the total
# and the item count of its items, a customer the number of its orders. The database keeps
# them, by triggers that migration 17 makes, in the transaction of each write of a child:
# save(), insert_many(), a bulk update or delete, a cascade, a statement in the shell. No
# writer calls anything, so no writer can forget to. Each trigger adds what the write changed
# (the new row's share, less the old row's) to the parent row: two transactions writing items
# of one order at once both count, the second's UPDATE waiting for the first's row lock and
# then adding to the sum it committed. (A sum recomputed from the items would miss the other
# transaction's item on PostgreSQL, whose statement sees only what had committed when it began.)
# {child table: (parent table, foreign key, {column: its change by one child row})}
KEPT_SUMS = {
    "order_item": ("order", "order_id", {"total": "ROUND(total {sign} {row}.quantity * "
                                                  "{row}.unit_price, 2)",
                                         "item_count": "item_count {sign} {row}.quantity"}),
    "order": ("customer", "customer_id", {"order_count": "order_count {sign} 1"}),
}


def _sums_update(child, row, sign):
    parent, fk, columns = KEPT_SUMS[child]
    changes = ", ".join(f'"{name}" = ' + change.format(sign=sign, row=row)
                        for name, change in columns.items())
    return f'UPDATE "{parent}" SET {changes} WHERE id = {row}.{fk};'


def sum_triggers(on):
    """Create (on=True) or drop the triggers that keep KEPT_SUMS. (A bulk load is quicker
    without them, its sums written by itself.)"""
    for child, (parent, fk, columns) in KEPT_SUMS.items():
        name, watched = f"{child}_sums", ", ".join([fk, *_child_columns(columns)])
        if not is_sqlite():
            db.execute_sql(f'DROP TRIGGER IF EXISTS {name} ON "{child}"')
            if on:
                db.execute_sql(
                    f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
                    f"IF TG_OP <> 'INSERT' THEN {_sums_update(child, 'old', '-')} END IF; "
                    f"IF TG_OP <> 'DELETE' THEN {_sums_update(child, 'new', '+')} END IF; "
                    f"RETURN NULL; END $$ LANGUAGE plpgsql")
                db.execute_sql(f'CREATE TRIGGER {name} AFTER INSERT OR DELETE OR UPDATE OF '
                               f'{watched} ON "{child}" FOR EACH ROW EXECUTE FUNCTION {name}()')
            continue
        for event, body in [("INSERT", _sums_update(child, "new", "+")),
                            ("DELETE", _sums_update(child, "old", "-")),
                            (f"UPDATE OF {watched}", _sums_update(child, "old", "-")
                             + " " + _sums_update(child, "new", "+"))]:
            trigger = f"{name}_{event.split()[0].lower()}"
            db.execute_sql(f'CREATE TRIGGER IF NOT EXISTS {trigger} AFTER {event} ON "{child}" '
                           f"BEGIN {body} END" if on else f"DROP TRIGGER IF EXISTS {trigger}")


def _child_columns(columns):
    """The child's columns that the changes read: quantity, unit_price."""
    return sorted({word for change in columns.values()
                   for word in re.findall(r"\{row\}\.(\w+)", change)})


def kept_sums():
    """[(column, what it should hold)]: each kept sum beside its sum worked out afresh, a
    subquery for the row it is on."""
    item = OrderItem.alias()
    return [(Order.total, item.select(fn.COALESCE(fn.SUM(item.quantity * item.unit_price), 0))
             .where(item.order == Order.id)),
            (Order.item_count, item.select(fn.COALESCE(fn.SUM(item.quantity), 0))
             .where(item.order == Order.id)),
            (Customer.order_count, Order.select(fn.COUNT(Order.id))
             .where(Order.customer == Customer.id))]


def check_sums(repair=False):
    """{"order.total": n, ...}: how many rows hold a kept sum that is not the sum of their
    children (a write made with the triggers off, say); with `repair`, those rows are set
    right, in one transaction that holds off writers of the tables meanwhile."""
    wrong = {}
    with write_transaction():
        if repair and not is_sqlite():
            db.execute_sql('LOCK TABLE order_item, "order" IN SHARE MODE')
        for column, expected in kept_sums():
            model = column.model
            # Apart by half a cent: SQLite keeps a decimal as a float.
            off = model.select(model.id).where(fn.ABS(column - expected) >= 0.005)
            wrong[f"{model._meta.table_name}.{column.name}"] = n = off.count()
            if repair and n:
                model.update({column: fn.ROUND(expected, 2)}).where(
                    model.id.in_(off)).execute()
    return wrong


###############################################################################
# 5. Carts
###############################################################################

class Cart(BaseModel):
    id = UUIDField(primary_key=True, default=uuid.uuid4)
    created_at = DateTimeField(default=utcnow, index=True)
    # A logged-in shopper's cart is their account's: it outlives the session that found it
    # (a lost session store, a logout), and the next login finds it again (claim_cart).
    user = ForeignKeyField(User, null=True, unique=True, backref="carts", on_delete="CASCADE")
    touched_at = DateTimeField(default=utcnow, index=True)      # its last change: an idle cart

    class Meta:
        private = True          # a cart is its shopper's alone, and shoppers skip the page cache

    def __str__(self):
        return f"Cart {str(self.id)[:8]}"


class CartItem(BaseModel):
    cart = ForeignKeyField(Cart, backref="items", on_delete="CASCADE")
    product = ForeignKeyField(Product, backref="cart_items", on_delete="CASCADE")
    quantity = IntegerField()

    class Meta:
        indexes = ((("cart", "product"), True),)
        constraints = [Check("quantity >= 1")]
        private = True

    def __str__(self):
        return f"{self.quantity} × {self.product} in {self.cart}"

    def clean(self):
        problem = quantity_problem(self.quantity)
        return {"quantity": problem} if problem else {}

    @property
    def line_total(self):
        return self.product.price * self.quantity


# A cart made through the API (POST /api/carts) is empty until its first item, and anyone
# can make one. So each client may make only CARTS_PER_CLIENT of them in a window (counted per
# address, an IPv6 /64 as one), and a client that makes carts in a loop is refused: only it,
# never the others, whose carts stay. Empty carts older than EMPTY_CART_LIFETIME go, now and
# then. A cart with items is never touched here.
CARTS_PER_CLIENT = 100
CARTS_WINDOW = datetime.timedelta(hours=1)
EMPTY_CART_LIFETIME = datetime.timedelta(days=1)
STALE_CARTS_EVERY = 3600        # seconds between two purges of older empty carts, per process
_stale_carts_purged_at = None


class CartsMade(BaseModel):
    """How many carts a client made in one window: a row per client and window, counted up
    by new_cart."""
    client = CharField(max_length=64)       # client_network(): an address, or an IPv6 /64
    window_start = DateTimeField()
    carts = IntegerField()

    class Meta:
        indexes = ((("client", "window_start"), True),)
        private = True          # no page shows it: counting a cart leaves the caches alone
        private = True


class TooManyCarts(Exception):
    """The client made its CARTS_PER_CLIENT carts of this window; more in `retry_after` s."""

    def __init__(self, retry_after):
        super().__init__(f"Too many carts: try again in {retry_after} seconds.")
        self.retry_after = retry_after


def new_cart(client):
    """A new empty cart, made for the client at the address `client`; TooManyCarts if it
    has made its CARTS_PER_CLIENT of this window already."""
    now = utcnow()
    since = now - datetime.datetime.min         # windows follow one another from year 1
    window_start = now - since % CARTS_WINDOW
    with write_transaction():
        # The database counts, in one statement: add one to this window's count unless it is
        # full. Reading the count and then writing it, two carts made at once would both
        # read the same number and both be let through (on PostgreSQL).
        counted = (CartsMade.insert(client=client_network(client), window_start=window_start,
                                    carts=1)
                   .on_conflict(conflict_target=[CartsMade.client, CartsMade.window_start],
                                update={CartsMade.carts: CartsMade.carts + 1},
                                where=CartsMade.carts < CARTS_PER_CLIENT)
                   .returning(CartsMade.carts).tuples().execute())
        if not list(counted):
            raise TooManyCarts(_seconds_until(window_start + CARTS_WINDOW, now))
        _purge_stale_carts(now, window_start)
        return Cart.create()


def _purge_stale_carts(now, window_start):
    """Now and then (once in STALE_CARTS_EVERY seconds per process), delete the empty carts
    older than EMPTY_CART_LIFETIME and the counts of past windows."""
    global _stale_carts_purged_at
    if _stale_carts_purged_at is not None and \
            time.monotonic() - _stale_carts_purged_at < STALE_CARTS_EVERY:
        return
    stale = Cart.select(Cart.id).where(
        (Cart.created_at < now - EMPTY_CART_LIFETIME)
        & ~fn.EXISTS(CartItem.select(SQL("1")).where(CartItem.cart == Cart.id)))
    Cart.delete().where(Cart.id.in_(stale)).execute()
    CartsMade.delete().where(CartsMade.window_start < window_start).execute()
    _stale_carts_purged_at = time.monotonic()


def purge_abandoned_carts(idle_since):
    """Delete the anonymous carts left untouched since `idle_since`, with their items (made
    through the shop or the API: a cart's id is all that reaches it, and an abandoned one is
    never asked for again), and the counts of past windows of new_cart. The number of carts
    and items."""
    with write_transaction():
        # An account's cart is kept however long it waits: it is theirs, not a visitor's.
        abandoned = (Cart.touched_at < idle_since) & Cart.user.is_null()
        carts = Cart.select(Cart.id).where(abandoned)
        items = CartItem.delete().where(CartItem.cart.in_(carts)).execute()
        gone = Cart.delete().where(abandoned).execute()
        CartsMade.delete().where(CartsMade.window_start < utcnow() - CARTS_WINDOW).execute()
    return gone, items


###############################################################################
# 6. Generic links: tags and likes point at a row of any model by (content_type, object_id)
###############################################################################

class Tag(BaseModel):
    label = CharField(max_length=255, unique=True)

    def __str__(self):
        return self.label


class GenericLink(BaseModel):
    """A row that points at a row of any model: its table name and its id (Django's
    GenericForeignKey). Tags and likes are generic links."""
    content_type = CharField(max_length=100)   # the model's table name, e.g. "product"
    object_id = IntegerField()

    class Meta:
        indexes = ((("content_type", "object_id"), False),)

    @classmethod
    def pointing_at(cls, obj):
        """The condition "this link points at `obj`", for a where()."""
        if not isinstance(obj.get_id(), int):   # object_id holds integers: nothing points at
            return SQL("1 = 0")                 # a row with another kind of key (a cart)
        return (cls.content_type == obj._meta.table_name) & (cls.object_id == obj.get_id())

    @classmethod
    def of(cls, obj):
        """The links that point at `obj`."""
        return cls.select().where(cls.pointing_at(obj))

    def point_at(self, obj):
        self.content_type, self.object_id = obj._meta.table_name, obj.get_id()

    def clean(self):
        """A link points at a row that is there: the database cannot check it, as it checks a
        foreign key. (A link not yet pointed anywhere, an inline row of a product being added,
        is judged when it is: the columns are NOT NULL.)"""
        if self.object_id is None:
            return {}
        model = linkable_models().get(self.content_type)
        if model is None:
            return {"content_type": f"There is no kind of row called {self.content_type!r}: "
                                    f"name one by its table, such as product."}
        if not model.select().where(model._meta.primary_key == self.object_id).exists():
            return {"object_id": f"There is no {nouns(model)[0]} {self.object_id}."}
        return {}

    @classmethod
    def targets(cls, model, where):
        """The ids of `model`'s rows that the links matching `where` point at (the generic
        relation read backwards: the products with a tag, the products a user likes)."""
        return cls.select(cls.object_id).where(
            (cls.content_type == model._meta.table_name) & where)


def linkable_models():
    """{table name: model} of the rows a generic link may point at: those with an integer
    key, other than links themselves."""
    return {model._meta.table_name: model for model in _all_models()
            if not issubclass(model, GenericLink) and not getattr(model._meta, "abstract", False)
            and isinstance(model._meta.primary_key, IntegerField)}


class TaggedItem(GenericLink):
    tag = ForeignKeyField(Tag, backref="items", on_delete="CASCADE")

    def __str__(self):
        return f"{self.tag} on {self.content_type} {self.object_id}"


class LikedItem(GenericLink):
    user = ForeignKeyField(User, backref="likes", on_delete="CASCADE")

    class Meta:
        indexes = ((("content_type", "object_id"), False),
                   (("user", "content_type", "object_id"), True))    # a like counts once

    def __str__(self):
        return f"{self.user} likes {self.content_type} {self.object_id}"


LIKED = Prepared(lambda user, content_type, object_id: LikedItem.select(LikedItem.id).where(
    (LikedItem.user == user) & (LikedItem.content_type == content_type)
    & (LikedItem.object_id == object_id)).limit(1),
    LikedItem.user, LikedItem.content_type, LikedItem.object_id)


# Every visit of a product page asks for its product: the SQL is written once (Prepared). The
# collection's title comes along under its own name, as a row read this way has no relations.
PRODUCT_PAGE = Prepared(lambda product_id: Product.select(
    Product, Collection.title.alias("collection_title")).join(
    Collection, on=(Product.collection == Collection.id)).where(Product.id == product_id),
    Product.id)


def product_for_page(ident):
    """The product with id `ident` (from a URL: any text), with its `collection_title`, or
    None."""
    key = parse_id(ident)
    if key is None:
        return None
    with about(Product, keys=[key]):    # a page about this product: not others' stock
        return PRODUCT_PAGE.first(key)


def likes(user, obj):
    """True if `user` likes `obj` (asked by the product page of everyone logged in)."""
    with about(LikedItem, obj):
        return LIKED.scalar(user.id, obj._meta.table_name, obj.get_id()) is not None


def like(user, obj, liked=True):
    """`user` likes `obj` (liking twice changes nothing), or with liked=False no longer does.
    It changes the likes about `obj` only: the cached pages that count them, not the rest."""
    with about(LikedItem, obj):
        if liked:
            LikedItem.insert(user=user, content_type=obj._meta.table_name,
                             object_id=obj.get_id()).on_conflict_ignore().execute()
        else:
            LikedItem.delete().where(LikedItem.pointing_at(obj) & (LikedItem.user == user)) \
                .execute()


def like_count(obj):
    """How many users like `obj`: a read of the likes about `obj` only (see like())."""
    with about(LikedItem, obj):
        return LikedItem.of(obj).count()


def tags_for(obj):
    """The tags attached to any model instance through TaggedItem (the course's get_tags_for)."""
    return Tag.select().join(TaggedItem).where(TaggedItem.pointing_at(obj)).order_by(Tag.label)


###############################################################################
# 7. Admin log
###############################################################################

ADDITION, CHANGE, DELETION = 1, 2, 3


class AdminLogEntry(BaseModel):
    user = ForeignKeyField(User, null=True, backref="log_entries", on_delete="SET NULL")
    action_time = DateTimeField(default=utcnow, index=True)
    model = CharField(max_length=100)
    object_id = CharField(max_length=100)
    object_repr = CharField(max_length=255)
    action = SmallIntegerField()
    change_message = TextField(default="")

    class Meta:
        indexes = ((("model", "object_id"), False),)
        verbose_name = "log entry"
        verbose_name_plural = "log entries"

    def __str__(self):
        return f"{self.action_name} {self.object_repr}"

    @property
    def is_deletion(self):
        return self.action == DELETION

    @property
    def action_name(self):
        return {ADDITION: "Added", CHANGE: "Changed", DELETION: "Deleted"}.get(self.action, "?")


class ProductImport(BaseModel):
    """A spreadsheet uploaded to the admin's product import, kept between its preview and its
    confirmation: in the database, so that whichever process or machine answers the
    confirmation finds it. Its id is random (the address of the preview); a day later it goes."""
    id = CharField(max_length=64, primary_key=True)
    user = ForeignKeyField(User, backref="product_imports", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow, index=True)
    filename = CharField(max_length=255, default="")
    notice = CharField(max_length=255, default="")      # how it was read, if not as UTF-8
    content = TextField()                               # the file, as text

    class Meta:
        private = True          # no cached page shows it


class SchemaVersion(BaseModel):
    version = IntegerField()


MODELS = [User, Group, UserGroup, GroupPermission, UserPermission, LoginFailure, ResetMail,
          ApiToken,
          Promotion, Collection, Product, ProductPromotion, PricingDay, Customer, Address, Order,
          OrderItem, Cart, CartItem, CartsMade, Tag, TaggedItem, LikedItem, AdminLogEntry,
          ProductImport, ProductImage, ProductImageFile, SchemaVersion]


###############################################################################
# 8. Shop rules
###############################################################################

def featured_collections(limit=6):
    """Collections with a featured product, joined in one query."""
    featured = Product.alias()      # (its title only: not the stock an order changes)
    return (Collection.select(Collection, featured.id, featured.title)
            .join(featured, JOIN.LEFT_OUTER, on=(Collection.featured_product == featured.id))
            .order_by(Collection.title).limit(limit))


def collections_with_counts():
    """Collections with `product_count`, by title."""
    products, count, on = child_count(Product.collection)
    return (Collection.select(Collection, count.alias("product_count"))
            .join(products, JOIN.LEFT_OUTER, on=on).order_by(Collection.title))


class Page:
    """One page of a query: `items`, `number`, `total` (None past `count_limit`), `pages`
    (None where the count stopped before the last row), links.

    `query` is a Peewee query, or a search's Ranking. `remember(key, compute)` keeps what is
    costly to work out between requests: the count, a ranking, the boundary marks of deep
    pages (the web layer passes its cache; `key` is a function that makes the key, called
    only if it is needed). Without it the marks are never made: made again for every request,
    they would cost more than the OFFSET they save. `searched`: the query holds a search
    (among_matches()).
    """
    # Rows skipped before the deferred join pays for itself, when the query reads one table.
    # A query that joins others finds its ids first on every page: sorting many rows, it
    # would carry every joined column along (a year of orders by total: 200 ms, then 40).
    DEFERRED_JOIN_AFTER = 500
    MARK_EVERY = 100               # rows between two marks of the boundary table
    # How much further than its limit a page past the limit counts (see below).
    DEEP_COUNT_TIMES = 5

    def __init__(self, query, number, per_page, count_limit=None, remember=None, counted=None,
                 searched=False):
        self.number, self.per_page, self.count_limit = max(1, number), per_page, count_limit
        self.limit, self.remember, self._rows = count_limit, remember, None
        self.offset = offset = (self.number - 1) * per_page
        if isinstance(query, Ranking):
            return self.of_ranking(query)
        # A page past the count's limit counts further (`limit`; what it says stays "more
        # than" count_limit), where a few more rows counted cost little beside the many it
        # would skip: known to be few, its rows are sorted on their own rather than found by
        # walking the sort's index over the whole table (the last page of a month of orders by
        # customer, 287 ms, then 47; of the gold customers by first name, 232 ms, then 36).
        self.deep = count_limit is not None and offset >= count_limit and not searched
        if self.deep:
            self.limit = count_limit * self.DEEP_COUNT_TIMES
        # A bounded count stays fast on a million rows, where COUNT(*) of a filtered join
        # would not: past the limit the total is None ("more than 10,000"). `counted`: the
        # same rows without the joins that only add columns, if the caller has them. A
        # search counts its matches as it picks its page from them.
        found, chosen = self.among_matches(query, offset) if searched else (None, None)
        if found is None:
            counted = query if counted is None else counted
            counter = counted if self.limit is None else \
                counted.select(SQL("1")).order_by().limit(self.limit + 1)
            found = self.kept(lambda: "count " + repr(counter.sql()), counter.count)
        self.count(found)
        # The rows are fetched when a template first asks for them, like a Peewee query: a
        # page whose HTML is cached never fetches them. One row more than the page shows
        # tells whether there is a next page. (rows_of(): a page about its rows alone.)
        self.fetch = self.fetcher(query, offset, chosen)

    def fetcher(self, query, offset, chosen):
        """How the page's rows are fetched: a function."""
        if chosen is not None:
            return lambda: rows_of(query, keys=chosen)
        if self.past_the_end(offset):
            return list
        if self.limit is not None and self.known is not None and (joins_sorted_by(query) or (
                self.deep and not self.remember and not index_in_order(query))):
            # Few rows match, sorted by another table's column, or deep in the list by a sort
            # no index keeps them in and with no boundary marks to start from: sorted on their
            # own, they are found soonest (PostgreSQL would walk the customers in name order,
            # testing each one's orders: a month of orders by customer, 240 ms, then 36).
            return lambda: self.picked_among(query, offset)
        if offset >= self.DEFERRED_JOIN_AFTER:
            return lambda: rows_of(self.deferred_join(query, offset, self.seek(query, offset)))
        if joins_from(query):
            return lambda: rows_of(self.deferred_join(query, offset))
        return lambda: rows_of(query.limit(self.per_page + 1).offset(offset))

    def kept(self, key, compute):
        return self.remember(key, compute) if self.remember else compute()

    def count(self, n):
        """`known`: how many rows there are, if the count got there; `total`: the same up to
        count_limit, what the page says."""
        self.known = None if self.limit is not None and n > self.limit else n
        self.total = None if self.count_limit is not None and n > self.count_limit else n
        self.pages = max(1, math.ceil(n / self.per_page)) if self.known is not None else None

    def past_the_end(self, offset):
        """(page=10**18 would even overflow the OFFSET.)"""
        return offset + self.per_page >= MAX_INT or \
            (self.known is not None and offset >= self.known)

    @property
    def items(self):
        if self._rows is None:
            self._rows = self.fetch()
        return self._rows[:self.per_page]

    @property
    def has_next(self):
        return len(self.items) < len(self._rows)

    @property
    def has_previous(self):
        return self.number > 1

    def of_ranking(self, ranking):
        """A page of a search's best matches: their ids, ranked once and remembered, are
        counted and cut into pages here; the database only fetches the page's rows."""
        ids = self.kept(lambda: "ranking " + ranking.key, ranking.ids)
        self.count(len(ids))
        chosen = [] if self.past_the_end(self.offset) else \
            ids[self.offset:self.offset + self.per_page + 1]

        self.fetch = lambda: rows_of(ranking.rows(chosen), keys=chosen)

    def seek(self, query, offset):
        """Where a deep page starts, found by its sort key, as cheap as page 1: OFFSET would
        walk every row before it. A table of boundary marks (the sort key of every
        MARK_EVERY-th row, one pass over the index, remembered) says where to start: (the
        condition "from the mark on", the rows to skip after it). None when the order is not
        plain columns in one direction, or there is no mark; or when a key may be NULL, which
        no comparison with a mark keeps (a nullable column, or one of a table joined LEFT)."""
        keys, directions = order_keys(query), order_directions(query)
        if not keys or len(directions) != 1 or \
                not all(isinstance(key, peewee.Field) and not key.null for key in keys) or \
                any(join.join_type != JOIN.INNER for join in joins_sorted_by(query)):
            return None
        if not self.remember:
            return None     # made again for every request, marks would cost more than OFFSET
        marks = self.remember(lambda: "marks " + repr(query.sql()),
                              lambda: self.boundary_marks(query, keys))
        n = offset // self.MARK_EVERY
        if n >= len(marks):
            return None
        # The first key alone as well: the keys may come from two tables (orders by customer),
        # no index holds both, and PostgreSQL walks from the start without a range of one
        # (page 2,000 of a year of orders by customer: 235 ms, then 23).
        after = operator.le if directions == {"DESC"} else operator.ge
        return (after(keys[0], marks[n][0]) & after(peewee.Tuple(*keys), peewee.Tuple(*marks[n])),
                offset % self.MARK_EVERY)

    def boundary_marks(self, query, keys):
        # Each key under a name of its own: keys from two tables may share a column name
        # (a product list sorted by its collection's title, then the product's id).
        names = [f"key{n}" for n in range(len(keys))]
        numbered = query.select(*(key.alias(name) for key, name in zip(keys, names)),
                                fn.ROW_NUMBER().over(order_by=query._order_by)
                                .alias("position")).order_by().alias("numbered")
        return list(peewee.Select([numbered], [getattr(numbered.c, name) for name in names])
                    # (position - 1) is a multiple of MARK_EVERY, by integer division
                    # (peewee reads % as LIKE, and SQLite may have no MOD()):
                    .where((numbered.c.position - 1) / self.MARK_EVERY * self.MARK_EVERY
                           == numbered.c.position - 1)
                    .order_by(numbered.c.position).tuples().execute(db))

    def among_matches(self, query, offset):
        """(How many, the ids of the page): a search's page picked from its matches, found
        first and counted in the same pass, up to `limit`. No index finds text anywhere
        in a column, so walking the sort's index tests row after row, and reads the whole
        table for a rare word: one customer's email took 420 ms at 200,000 customers on
        SQLite, and 45 this way (7 where an index finds them: Customer.candidates). No ids
        past the limit: so common a word is found soonest by walking the sort's index, as any
        list's page is. (None, None) where it cannot tell: an order by a column of the page's
        own selection, a page past the end."""
        keys = order_keys(query)
        if self.limit is None or any(isinstance(key, SQL) for key in keys):
            return None, None
        pk, names = query.model._meta.primary_key, [f"key{n}" for n in range(len(keys))]
        matches = self.ids(query).select(pk.alias("id"), *(
            key.alias(name) for key, name in zip(keys, names)))
        # Named in a WITH and read twice, they are found once and kept (by both databases).
        matches = matches.limit(self.limit + 1).cte("matches")
        counted = peewee.Select([matches], [fn.COUNT(SQL("*"))])
        picked = peewee.Select([matches], [matches.c.id, counted]).with_cte(matches).order_by(*(
            peewee.Ordering(getattr(matches.c, name), getattr(node, "direction", "ASC"))
            for node, name in zip(query._order_by, names)))
        picked = list(picked.limit(self.per_page + 1).offset(offset).tuples().execute(db))
        if offset and not picked:
            return None, None
        found = picked[0][1] if picked else 0
        return found, [key for key, _ in picked] if found <= self.limit else None

    def picked_among(self, query, offset):
        """The page's rows picked among the matches; as any list's if they are no longer few
        (rows came or went since they were counted)."""
        chosen = self.among_matches(query, offset)[1]
        return rows_of(query, keys=chosen) if chosen is not None else \
            rows_of(self.deferred_join(query, offset))

    def deferred_join(self, query, offset, mark=None):
        """The page's ids found first, on their own: skipping N rows then walks an index
        instead of building N full rows only to throw them away. (Not when the order names a
        column of the page's own selection, such as a count under an alias: selecting only
        the ids would leave it out, and a plain OFFSET it is.) `mark`: where to start, from
        seek()."""
        keys = order_keys(query)
        if any(isinstance(key, SQL) for key in keys):
            return query.limit(self.per_page + 1).offset(offset)
        ids = self.ids(query, walk=self.known is None).order_by(*query._order_by)
        if mark is not None:
            after, offset = mark
            ids = ids.where(after)
        rows = query.clone()
        rows._where = None      # the ids were found by it: the database need not test it again
        pk = query.model._meta.primary_key
        return rows.where(pk.in_(ids.limit(self.per_page + 1).offset(offset)))

    @staticmethod
    def ids(query, walk=False):
        """The ids of `query`'s rows, from the model's table and the tables its order names
        (the orders by customer join the customers), not from the joins that only add
        columns, which would be made for every row skipped or sorted; its filters name the
        model's own columns (ModelAdmin.queryset).

        `walk`: so many rows match (more than the count's limit) that the page is found
        soonest by walking the other table in order, each of its rows' matches by an index
        (a year of orders by customer: 413 ms a page, then 0.1). SQLite guesses a filter on a
        range narrow, and would sort the year first; it takes "customer CROSS JOIN order" as
        the order of its loops. (PostgreSQL plans it as any join.)"""
        pk, named = query.model._meta.primary_key, joins_sorted_by(query)
        if walk and len(named) == 1 and named[0].join_type == JOIN.INNER:
            ids = named[0].rhs.select(pk).join(query.model, JOIN.CROSS).where(named[0]._on)
        else:
            ids = query.model.select(pk)
            for join in named:
                ids = ids.switch(query.model).join(join.rhs, join.join_type, on=join._on)
        return ids.where(query._where) if query._where is not None else ids

    @property
    def out_of_range(self):
        """Past the last page (known without fetching the rows, unless the count stopped)."""
        if self.known is not None:
            return self.number > 1 and self.offset >= self.known
        return self.number > 1 and not self.items


def order_keys(query):
    """What `query` is sorted by, each without its direction."""
    return [getattr(node, "node", node) for node in query._order_by or ()]


def order_directions(query):
    """The directions `query` sorts in: {"ASC"}, {"DESC"} or both."""
    return {getattr(node, "direction", "ASC") for node in query._order_by or ()}


def joins_sorted_by(query):
    """The joins of `query` to the tables its order names (the orders by customer: the
    customers)."""
    keys = order_keys(query)
    return [join for join in joins_from(query)
            if any(getattr(key, "model", None) is join.rhs for key in keys)]


def index_in_order(query):
    """True if an index of `query`'s model holds the rows it keeps in the order it sorts
    them: first the columns its filter fixes to one value, then its sort keys (the gold
    customers by name: membership, last name, first name, id). Walking it reaches any page
    without testing a row it leaves out."""
    keys, model = order_keys(query), query.model
    if not keys or len(order_directions(query)) > 1 or \
            any(getattr(key, "model", None) is not model for key in keys):
        return False
    fixed, sort = fixed_columns(query._where), list(dict.fromkeys(k.column_name for k in keys))
    if fixed is None:
        return False
    for index in [[model._meta.primary_key]] + [getattr(i, "_expressions", ())  # (SQL: none)
                                                for i in model._meta.fields_to_index()]:
        columns = [getattr(field, "column_name", None) for field in index]
        n = 0       # the fixed columns the index begins with, then the sort's
        while n < len(columns) and columns[n] in fixed and columns[n:n + len(sort)] != sort:
            n += 1
        if columns[n:n + len(sort)] == sort and fixed <= set(columns[:n] + sort):
            return True
    return False


def fixed_columns(where):
    """The columns a condition fixes to one value each ("membership = 'G' AND ..."), or None
    where it says anything else."""
    if where is None:
        return set()
    if isinstance(where, peewee.Expression) and where.op == peewee.OP.AND:
        lhs, rhs = fixed_columns(where.lhs), fixed_columns(where.rhs)
        return None if lhs is None or rhs is None else lhs | rhs
    if isinstance(where, peewee.Expression) and where.op == peewee.OP.EQ and \
            isinstance(where.lhs, peewee.Field) and not isinstance(where.rhs, peewee.Node):
        return {where.lhs.column_name}
    return None


def joins_from(query):
    """The joins of `query` from its model's own table, in the order they were made."""
    node, joins = query._from_list[0] if len(query._from_list) == 1 else None, []
    while isinstance(node, peewee.Join):
        joins.append(node)
        node = node.lhs
    direct = {dest for dest, *_ in query._joins.get(query.model, ())}
    return [join for join in reversed(joins) if join.rhs in direct]


def parse_id(value):
    """An id from a shopper's input, or None when it cannot be one (not a number, too big)."""
    try:
        ident = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return ident if 0 < ident <= MAX_INT else None


def parse_key(model, value):
    """A primary key of `model` from a URL or form, or None when it cannot be one."""
    if isinstance(model._meta.primary_key, UUIDField):
        try:
            return uuid.UUID(str(value))
        except ValueError:
            return None
    if isinstance(model._meta.primary_key, CharField):      # a random token
        return value if isinstance(value, str) and 0 < len(value) <= 64 else None
    return parse_id(value)


def parse_quantity(value, allow_zero=False):
    """A quantity typed by a shopper: a whole number, at least 1 (or 0 to remove)."""
    try:
        quantity = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({"quantity": "The quantity must be a whole number."})
    problem = quantity_problem(quantity, minimum=0 if allow_zero else 1)
    if problem:
        raise ValidationError({"quantity": problem})
    return quantity


def claim_cart(user, cart_id=None):
    """The id of `user`'s cart once they log in, with the anonymous cart `cart_id` (the one
    the session held before) joined to it: it becomes theirs if they had none, else the lines
    of products not in theirs move over and the rest of it goes. None if they have no cart."""
    mine = Cart.select(Cart.id).where(Cart.user == user).scalar()
    if cart_id is None or str(cart_id) == str(mine):
        return mine
    with write_transaction():
        anonymous = Cart.select(Cart.id).where((Cart.id == cart_id) & Cart.user.is_null())
        if mine is None:
            claimed = Cart.update(user=user).where(Cart.id.in_(anonymous)).execute()
            return cart_id if claimed else None
        held = CartItem.select(CartItem.product).where(CartItem.cart == mine)
        CartItem.update(cart=mine).where(CartItem.cart.in_(anonymous)
                                         & CartItem.product.not_in(held)).execute()
        Cart.delete().where(Cart.id.in_(anonymous)).execute()
    return mine


def cart_of(user):
    """The id of `user`'s cart, made now if they have none."""
    Cart.insert(user=user).on_conflict_ignore().execute()
    return Cart.select(Cart.id).where(Cart.user == user).scalar()


def cart_lines(cart_id):
    """A cart's items with their products, in the order they were added."""
    return (CartItem.select(CartItem, Product).join(Product)
            .where(CartItem.cart == cart_id).order_by(CartItem.id))


def order_lines(order):
    """An order's items with their products, in the order they were added."""
    return (OrderItem.select(OrderItem, Product).join(Product)
            .where(OrderItem.order == order).order_by(OrderItem.id))


def lines_total(lines):
    """The total of cart lines or order items (each has a line_total)."""
    return sum((line.line_total for line in lines), Decimal("0.00"))


CART_ITEM_COUNT = Prepared(lambda cart: CartItem.select(
    fn.COALESCE(fn.SUM(CartItem.quantity), 0)).where(CartItem.cart == cart), CartItem.cart)


def cart_item_count(cart_id):
    """How many items a cart holds (asked by every page a visitor with a cart sees)."""
    return CART_ITEM_COUNT.scalar(cart_id)


def locked(query, mode="UPDATE"):
    """`query`, its rows locked until the transaction ends: FOR UPDATE; FOR NO KEY UPDATE
    (the same, but rows that point at them may still be written); or FOR SHARE (others may
    share the lock, not take one of the others). SQLite has no row locks, and needs none:
    a write transaction (write_transaction) holds the whole database."""
    return query if is_sqlite() else query.for_update(f"FOR {mode}")


def add_to_cart(cart_id, product_id, quantity):
    """Add `quantity` of a product (more of it if already there), never beyond the stock.

    The line grows in one statement (_grow_line), so that adds arriving together each count:
    read the line and then write its new quantity, and on PostgreSQL two adds would read the
    same quantity and one add be lost, or both insert the line and one fail.
    """
    quantity = parse_quantity(quantity)
    with write_transaction():
        product = Product.get_or_none(Product.id == parse_id(product_id))
        if product is None:
            raise ValidationError({"product_id": "There is no such product."})
        Cart.insert(id=cart_id).on_conflict(conflict_target=[Cart.id],
                                            update={Cart.touched_at: utcnow()}).execute()
        # Wait for a checkout of this cart under way (place_order holds the cart): the add
        # then lands in the cart it leaves, not in a line it is ordering and about to delete.
        list(locked(Cart.select(Cart.id).where(Cart.id == cart_id), "SHARE"))
        most = min(MAX_QUANTITY, product.inventory)
        if quantity > most or not _grow_line(cart_id, product, quantity, most):
            raise _refusal(cart_id, product, quantity)
    return product


def _grow_line(cart_id, product, quantity, most):
    """Add `quantity` to the cart's line of `product`, or start the line, as long as it
    stays at most `most`: the database decides, in one statement. True if it did."""
    grown = (CartItem.insert(cart=cart_id, product=product, quantity=quantity)
             .on_conflict(conflict_target=[CartItem.cart, CartItem.product],
                          update={CartItem.quantity: CartItem.quantity + quantity},
                          where=CartItem.quantity + quantity <= most)
             .returning(CartItem.quantity).tuples().execute())
    return bool(list(grown))


def _refusal(cart_id, product, quantity):
    """Why adding `quantity` to the line would take it past what it may hold: the most a line
    holds (ValidationError), or the stock (OutOfStock)."""
    held = CartItem.select(CartItem.quantity).where(
        (CartItem.cart == cart_id) & (CartItem.product == product)).scalar() or 0
    problem = quantity_problem(held + quantity)
    if problem:
        return ValidationError({"quantity": problem})
    return OutOfStock({"quantity": _stock_message(product, held + quantity)})


def set_cart_quantity(cart_id, product_id, quantity):
    """Set a line's quantity; 0 removes it. Returns the line with its new quantity."""
    quantity = parse_quantity(quantity, allow_zero=True)
    with write_transaction():
        item = CartItem.get_or_none(cart=cart_id, product=parse_id(product_id))
        if item is None:
            raise ValidationError({"product_id": "That product is not in the cart."})
        Cart.update(touched_at=utcnow()).where(Cart.id == item.cart_id).execute()
        if quantity == 0:
            item.delete_instance()
        elif quantity > item.product.inventory:
            raise OutOfStock({"quantity": _stock_message(item.product, quantity)})
        else:
            CartItem.update(quantity=quantity).where(CartItem.id == item.id).execute()
    item.quantity = quantity
    return item


def _stock_message(product, wanted):
    if product.inventory == 0:
        return f"{product.title} is out of stock."
    return f"Only {product.inventory} of {product.title} in stock; you asked for {wanted}."


class OutOfStock(ValidationError):
    """The stock cannot serve what was asked: a well-formed request that today's inventory
    refuses (the API answers 409, not 400). `errors` maps the field ("quantity"), or at
    checkout each product id, to a message."""


def place_order(cart_id, customer):
    """Turn a cart into an order in one transaction, or write nothing.

    Each line's stock is taken by a conditional UPDATE ("... WHERE inventory >= quantity"),
    so two checkouts racing for the last item cannot both get it: the database decides.
    """
    reprice_if_new_day()    # charge today's prices, even if no page was shown today yet
    with write_transaction():
        # Hold the cart while we work: a second checkout of it (a double submit) waits, then
        # finds it empty; an add to it waits, then lands in the emptied cart (add_to_cart).
        list(locked(Cart.select(Cart.id).where(Cart.id == cart_id)))
        lines = list(cart_lines(cart_id))
        if not lines:
            raise ValidationError({"cart": "Your cart is empty."})
        problems = {}
        # Every checkout takes its products in the same order (by id): two carts holding the
        # same two products in opposite orders would otherwise each take one and wait for the
        # other's, and PostgreSQL would end one of them (a deadlock).
        for line in sorted(lines, key=lambda line: line.product_id):
            with about(Product, keys=[line.product_id]):    # its stock: the pages that show it
                taken = (Product.update(inventory=Product.inventory - line.quantity,
                                        last_update=utcnow())
                         .where((Product.id == line.product_id)
                                & (Product.inventory >= line.quantity)).execute())
            if not taken:
                current = Product.get_by_id(line.product_id)
                problems[line.product_id] = _stock_message(current, line.quantity)
        if problems:
            raise OutOfStock(problems)     # leaving the block rolls every update back
        order = Order.create(customer=customer)
        OrderItem.insert_many([{"order": order, "product": line.product_id,
                                "quantity": line.quantity, "unit_price": line.product.price,
                                "list_price": line.product.unit_price if line.product.discounted
                                else None} for line in lines]).execute()
        CartItem.delete().where(CartItem.cart == cart_id).execute()
    return order


def customer_for(user):
    return Customer.get_or_none(Customer.user == user)


def save_customer_profile(user, first_name, last_name, email, street, city, zip):
    """Create or update the customer profile of an account, with its (single) address.

    A customer's email address is unique, but answering "another customer has this address"
    would let anyone test who shops here. So an address that is another customer's is not put
    on this profile, and nothing says so: the profile keeps the address it had; a new one takes
    the account's, or if that is taken too, an address that reaches no one.

    Two first checkouts of one account sent together (a double click) would both make its
    profile, and on PostgreSQL all but one be refused by the database (one customer per
    account, and per email address): a 500. So an account's profile is written by one request
    at a time: the account's row stays locked until the transaction ends, and the next
    request finds the profile the one before made.
    """
    with write_transaction():
        list(locked(User.select(User.id).where(User.id == user.id), "NO KEY UPDATE"))
        customer = customer_for(user) or Customer(user=user)
        customer.first_name, customer.last_name = first_name, last_name
        customer.email = next((e for e in (email, customer.email, user.email)
                               if e and not customer.email_taken(e)),
                              f"user-{user.id}@storefront.invalid")
        customer.save()
        address = customer.addresses.first() or Address(customer=customer)
        address.street, address.city, address.zip = street, city, zip
        address.save()
    return customer


def checkout(user, cart_id, first_name, last_name, email, street, city, zip):
    """Save the account's customer profile and place the order: both happen, or neither."""
    with write_transaction():
        customer = save_customer_profile(user, first_name, last_name, email, street, city, zip)
        return place_order(cart_id, customer)


def orders_of(customer):
    return Order.with_totals().where(Order.customer == customer).order_by(Order.placed_at.desc())


def daily_sales(days=30):
    """Orders and revenue per day for the last `days` days (UTC), every day present."""
    today = utcnow().date()
    since = today - datetime.timedelta(days=days - 1)
    day = fn.DATE(Order.placed_at)
    # From the totals the orders keep (KEPT_SUMS): the month's orders, found by the index on
    # placed_at, and none of their items.
    rows = (Order.select(day.alias("day"), fn.COUNT(Order.id).alias("orders"),
                         money_sum(Order.total).alias("revenue"))
            .where(Order.placed_at >= datetime.datetime.combine(since, datetime.time.min))
            .group_by(day).dicts())
    found = {str(r["day"])[:10]: r for r in rows}
    result = []
    for n in range(days):
        key = (since + datetime.timedelta(days=n)).isoformat()
        row = found.get(key, {})
        result.append({"day": key, "orders": row.get("orders", 0),
                       "revenue": row.get("revenue", Decimal("0.00"))})
    return result


def stream_rows(query, batch=2_000):
    """The rows of `query` as tuples of the database's own values, read a batch at a time, so
    that memory stays flat whatever their number. (PostgreSQL's driver would fetch every row
    before the first: there a server-side cursor reads them, in a transaction of its own.)"""
    sql, params = query.sql()
    if is_sqlite():
        yield from db.execute_sql(sql, params)
        return
    with db.atomic():
        cursor = db.connection().cursor(name=f"stream_{secrets.token_hex(4)}")
        try:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(batch):
                yield from rows
        finally:
            cursor.close()


class About(int):
    """A number of rows that the database estimated: "about 1,000,000"."""

    def __format__(self, spec):
        return "about " + super().__format__(spec)


class MoreThan(int):
    """A count that stopped at a limit: "more than 10,000"."""

    def __format__(self, spec):
        return "more than " + super().__format__(spec)

    def __sub__(self, other):
        return MoreThan(int(self) - other)

    # More than 1 is never 1: "more than 1 order items".
    def __eq__(self, other):
        return isinstance(other, MoreThan) and int(self) == int(other)

    def __ne__(self, other):
        return not self == other

    __hash__ = int.__hash__


def row_count(model, exact_below=100_000):
    """How many rows `model` has. COUNT(*) reads every row, so past `exact_below` it is the
    estimate the query planner keeps (PostgreSQL's reltuples, kept by autovacuum; SQLite's
    ANALYZE statistics), an About; a table without statistics is counted."""
    table = model._meta.table_name
    try:
        if is_sqlite():
            estimate = max((int(stat.split()[0]) for stat, in db.execute_sql(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = ?", (table,))), default=0)
        else:
            estimate = db.execute_sql("SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                                      (f'"{table}"',)).fetchone()[0]
    except peewee.OperationalError:     # no sqlite_stat1 before the first ANALYZE
        estimate = 0
    return About(estimate) if estimate >= exact_below else model.select().count()


def with_parents(model):
    """The rows of `model` with the rows their foreign keys point at, in the same query: an
    order item that names its product then costs no query of its own in a list. (Without
    their binary columns: a list of photo files shows their names, not megabytes.)"""
    query = model.select(*[f for f in model._meta.sorted_fields
                           if not isinstance(f, peewee.BlobField)])
    for fk in model._meta.refs:
        parent = fk.rel_model.alias(fk.name + "_row")
        query = (query.switch(model).select_extend(parent)
                 .join(parent, JOIN.LEFT_OUTER, on=(fk == getattr(parent, fk.rel_field.name)),
                       attr=fk.name))
    return query


# What happens to the rows that point at a deleted row, by the `on_delete` of their foreign
# key (Django's on_delete): CASCADE deletes them too, SET NULL clears their link (a nullable
# key without a rule does the same), anything else (RESTRICT, NO ACTION) protects the row:
# it cannot go while they point at it.
def _fate(fk):
    rule = (fk.on_delete or "").upper()
    if rule == "CASCADE":
        return "deleted"
    return "cleared" if rule == "SET NULL" or (fk.null and not rule) else "protected"


def _dependents(model, where, linked=None, first=None):
    """Every group of rows that deleting the rows of `model` matching `where` reaches, parents
    before children: [(fate, foreign key or None for a generic link, model, condition)].
    `linked`, a dict for a plan's view: without the tags and likes of a kind of row that has
    none, as found once a plan ({(link model, table): any}); `first`: what the first `first`
    of those rows reach, by key.

    The conditions are subqueries ("order_id IN (SELECT id FROM order WHERE ...)"), so the work
    is a few queries per kind of row however many rows are deleted (Django's Collector).
    """
    found, todo = [], [(model, where, 0)]
    while todo:
        parent, condition, depth = todo.pop(0)
        ids = parent.select(parent._meta.primary_key).where(condition)
        # (Limited here, not by naming the first rows in `where`: a condition "id IN (the
        # first rows' keys)" made the plan of the gold customers 26 ms instead of 17.)
        if first and not depth:
            ids = ids.order_by(parent._meta.primary_key).limit(first)
        for fk, child in parent._meta.backrefs.items():
            child_where = fk.in_(ids)
            found.append((_fate(fk), fk, child, child_where))
            if _fate(fk) == "deleted" and depth < 5:     # a cycle of cascades stops here
                todo.append((child, child_where, depth + 1))
        # Tags and likes point at rows with integer keys (not at a cart's UUID).
        if not issubclass(parent, GenericLink) and \
                isinstance(parent._meta.primary_key, IntegerField):
            table = parent._meta.table_name
            for link in (TaggedItem, LikedItem):
                if linked is not None:
                    if (link, table) not in linked:
                        linked[link, table] = link.select().where(
                            link.content_type == table).exists()
                    if not linked[link, table]:
                        continue
                found.append(("deleted", None, link, (link.content_type == table)
                              & link.object_id.in_(ids)))
    return found


def count_up_to(query, limit):
    """How many rows `query` finds, counted no further than `limit` (a MoreThan past it):
    COUNT(*) of a million rows reads them all. Every row, where `limit` is None."""
    if limit is None:
        return query.count()
    found = query.select(SQL("1")).order_by().limit(limit + 1).count()
    return found if found <= limit else MoreThan(limit)


def selected_by(keys):
    """The condition "a row's key is one of `keys`" (a query of its model's keys), None for
    every row (`.where(None)` adds nothing). Keys narrowed only by a condition on their own
    table are that condition, which the database tests row by row as it reads: "id IN (keys)"
    gathers every key first, at each query that names them (the first items of the 200,000
    pending orders: 106 ms, then 37), and so would a condition true of every row (a million
    orders' keys, 1.7 s), where "IN (SELECT id FROM order)" reads the table itself."""
    plain = keys._from_list == [keys.model] and \
        not isinstance(keys.model, peewee.ModelAlias) and \
        not any((keys._joins, keys._group_by, keys._having, keys._limit, keys._offset,
                 keys._distinct, keys._cte_list, keys._windows))
    return keys._where if plain else keys.model._meta.primary_key.in_(keys)


def key_chunks(keys, size):
    """The keys that `keys` (a query of one model's keys) finds, `size` at a time in key
    order, each chunk read once the one before has been used (keyset pagination): what was
    done to one chunk's rows never brings them back, nor skips another's."""
    pk, last = keys.model._meta.primary_key, None
    while True:
        chunk = [key for (key,) in (keys if last is None else keys.where(pk > last))
                 .order_by(pk).limit(size).tuples()]
        if chunk:
            yield chunk
        if len(chunk) < size:
            return
        last = chunk[-1]


def deletion_plan(model, where, sample=100, count_limit=None):
    """What deleting the rows of `model` that match `where` would do, told the way a delete
    page tells it: {"deleted": [...], "cleared": [...], "protected": [...]}, each a list of
    {"model", "field" (the foreign key, None for a generic link), "count" (up to
    `count_limit`), "rows" (the first `sample` that the first rows matching `where` take
    along, or of all where those are fewer, with their parents joined so they print without a
    query each)}.

    Rows in "protected" forbid the deletion; "cleared" rows stay, without their link to it.
    `where` None: every row of `model`.
    """
    plan = {"deleted": [], "cleared": [], "protected": []}
    linked = {}
    groups = _plan_groups(model, where, sample, count_limit, linked)
    # What the first rows take along is read first: the first `sample` rows' to name some,
    # the first count_limit + 1 rows' to count, and only where that is too few, every row's.
    # (A query of the items of the 200,000 pending orders gathers their keys first: 37 ms,
    # and 2 for the first 10,001 orders'. Every row of a table is read from the table.)
    firsts = [groups, groups]
    if count_limit and where is not None and \
            isinstance(count_up_to(model.select().where(where), count_limit), MoreThan):
        firsts = [_plan_groups(model, where, sample, count_limit, linked, first=n)
                  for n in (sample, count_limit + 1)]
    for every, shown, counted in zip(groups, *firsts):
        fate, fk, child, condition, role = every
        if not getattr(child._meta, "in_plans", True):
            continue
        rows, count = _rows_and_count(child, fk, condition, shown[3], counted[3], sample,
                                      count_limit)
        if rows:
            plan[fate].append({"model": child, "count": count, "rows": rows,
                               "noun": nouns(child)[count != 1], "role": role})
    return plan


def _rows_and_count(child, fk, every, shown, counted, sample, count_limit):
    """The first `sample` rows of `child` that the condition `every` finds, and how many it
    finds (up to `count_limit`): first among those of `shown` and `counted`, the first rows'
    conditions (or `every` itself), then, where they find too few, among every row's."""
    # The first rows of the first parents: in the order of the foreign key's index the
    # database stops at the sample, where it would sort every row found by key first
    # (every order's items: 1.2 s).
    order = (child._meta.primary_key,) if fk is None else (fk, child._meta.primary_key)
    rows = list(with_parents(child).where(shown).order_by(*order).limit(sample))
    if len(rows) < sample and shown is not every:
        rows = list(with_parents(child).where(every).order_by(*order).limit(sample))
    count = len(rows)
    if count == sample:
        count = count_up_to(child.select().where(counted), count_limit)
        if not isinstance(count, MoreThan) and counted is not every:
            count = count_up_to(child.select().where(every), count_limit)
    return rows, count


def _plan_groups(model, where, sample, count_limit, linked, first=None):
    """The groups of rows a deletion plan tells: [(fate, foreign key, model, condition,
    role)], what _dependents() finds and what the model's own rules protect (of the first
    `first` rows, by key, if given)."""
    # (A kind of row nobody tags or likes, such as an order, leaves its tags and likes out:
    # looking for them would gather the key of every row deleted, 200,000 orders' in 90 ms.)
    found = [(fate, fk, child, condition, field_label(fk).lower() if fk is not None else None)
             for fate, fk, child, condition in _dependents(model, where, linked, first)]
    if first:
        pk = model._meta.primary_key
        where = pk.in_(model.select(pk).where(where).order_by(pk).limit(first))
    return found + [("protected", None, blocker, condition, role)
                    for blocker, condition, role in model.deletion_blockers(
                        where, max(sample, count_limit + 1) if count_limit else None)]


def delete_rows(model, where):
    """Delete the rows of `model` matching `where` and what depends on them, as deletion_plan()
    tells: CASCADE rows go, SET NULL links are cleared. Call it after the plan has found no
    protected rows (and the database refuses anyway). Returns the number of rows deleted."""
    # The deepest rows first: each condition finds its rows through their parents, which must
    # still be there when it runs.
    afterwards = []
    for fate, fk, child, condition in reversed(_dependents(model, where)):
        if fate == "cleared":
            child.update({fk: None}).where(condition).execute()
        elif fate == "deleted":
            afterwards.append(child.deleting(condition))
            child.delete().where(condition).execute()
    afterwards.append(model.deleting(where))
    deleted = model.delete().where(where).execute()
    for then in filter(None, afterwards):
        then()
    return deleted


DATE_COUNT_LIMIT = 1_000     # a year of a million orders says "more than 1,000"


def date_counts(query, field, part, within=None):
    """How many rows of `query` fall in each "year", "month" or "day" of the date column
    `field` within the span [start, end) `within` (every year if None): [(number, count)] in
    order, the periods without rows left out; `query` is not narrowed by `field` already.
    Grouping a million rows by their year would read
    every one: instead each period from the first row's to the last's is counted on its own,
    by a range of the column that an index serves, and no further than DATE_COUNT_LIMIT (a
    MoreThan past it). Two queries: the first and last rows, then every count."""
    # (`query` has no other range of `field`: SQLite's plan would use one of the two.)
    inside = query.where((field >= within[0]) & (field < within[1])) if within else query
    ends = [inside.select(field).order_by(key).limit(1) for key in (field, field.desc())]
    first, last = (field.python_value(value) for value in
                   peewee.Select(columns=ends).tuples().execute(db)[0])
    if first is None:
        return []
    if part == "year":
        periods = [(year, datetime.datetime(year, 1, 1))
                   for year in range(first.year, last.year + 2)]
    else:
        periods = [(None, within[0])]
        while periods[-1][1] <= last:
            moment = periods[-1][1]
            moment = moment + datetime.timedelta(days=1) if part == "day" else \
                moment.replace(year=moment.year + moment.month // 12, month=moment.month % 12 + 1)
            periods.append((None, moment))
        periods = [(moment.day if part == "day" else moment.month, moment)
                   for _, moment in periods]
        while len(periods) > 2 and periods[1][1] <= first:
            periods.pop(0)
    counted = [query.select(SQL("1")).where((field >= start) & (field < end)).order_by()
               .limit(DATE_COUNT_LIMIT + 1).alias(f"p{n}")
               for n, ((_, start), (_, end)) in enumerate(zip(periods, periods[1:]))]
    counts = peewee.Select(columns=[peewee.Select([rows], [fn.COUNT(SQL("*"))])
                                    for rows in counted]).tuples().execute(db)[0]
    return [(value, n if n <= DATE_COUNT_LIMIT else MoreThan(DATE_COUNT_LIMIT))
            for (value, _), n in zip(periods, counts) if n]


# --- Importing products from a spreadsheet ---------------------------------------------------
#
# The admin's product import takes a CSV with the columns the product export writes, shows what
# each row would do (new, changed and how, unchanged, or an error), and once confirmed applies
# the whole file in one transaction. Rows find their product by slug. What a cell may hold is
# the admin's product form's say: app.py hands its check in as `check(texts, product)`, which
# answers ({field: value}, {field: message}).

IMPORT_MAX_BYTES = 10 * 1024 * 1024
IMPORT_MAX_ROWS = 100_000
IMPORT_KEPT = datetime.timedelta(days=1)
IMPORT_FIELDS = ("slug", "title", "collection", "description", "unit_price", "inventory")
IMPORT_REQUIRED = ("title", "collection", "unit_price", "inventory")
IMPORT_WORKED_OUT = ("id", "price", "stock", "last_update")  # exported; the shop works them out
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?\d+(\.\d*)?")


class ImportRefused(Exception):
    """A file that cannot be imported at all (empty, too big, not text, its columns)."""


class ImportStale(Exception):
    """The products changed since the preview (or the file has errors): `plan` is the file's
    preview as things are now."""

    def __init__(self, plan):
        super().__init__("The products changed since the preview.")
        self.plan = plan


def import_label(name):
    return field_label(Product._meta.fields[name]) if name in Product._meta.fields else name


def decode_import(data):
    """The text of an uploaded file, and a notice of how it was read if not as UTF-8."""
    if not data.strip():
        raise ImportRefused("The file is empty.")
    if len(data) > IMPORT_MAX_BYTES:
        raise ImportRefused(f"The file is larger than {IMPORT_MAX_BYTES // 2 ** 20} MB, the "
                            f"most one import takes: split it in parts.")
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):       # "Unicode text" of a spreadsheet
            text, notice = data.decode("utf-16"), "The file was read as UTF-16 text."
        else:
            text, notice = data.decode("utf-8-sig"), ""         # a BOM is left out
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="ignore") if _is_cp1252(data) else \
            data.decode("latin-1")
        notice = ("The file is not UTF-8 text: it was read as Windows-1252 (Latin-1). Check "
                  "the accented letters below, or save it as “CSV UTF-8” and upload it again.")
    if "\x00" in text:
        raise ImportRefused("The file is not CSV text (a spreadsheet's own format, such as "
                            ".xlsx?): save it as CSV and upload that.")
    return text, notice


def _is_cp1252(data):
    try:
        data.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


def read_import(text):
    """(header, [(row number, cells)]) of a CSV text, numbered as a spreadsheet shows them
    (the header is row 1); blank rows are left out. Commas, semicolons or tabs: whichever
    the header line has most of."""
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    records = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = next(reader, None)
        for number, cells in enumerate(reader, start=2):
            if any(cell.strip() for cell in cells):
                records.append((number, cells))
            if len(records) > IMPORT_MAX_ROWS:
                raise ImportRefused(f"The file has more than {IMPORT_MAX_ROWS:,} rows, the "
                                    f"most one import takes: split it in parts.")
    except csv.Error as error:
        raise ImportRefused(f"Row {reader.line_num}: the file is not valid CSV ({error}).")
    if not header or not any(cell.strip() for cell in header):
        raise ImportRefused("The file is empty.")
    if not records:
        raise ImportRefused("The file has a header but no rows under it.")
    return header, records


def import_columns(header):
    """{field: its cell's index} for the columns the import writes. Names are those of the
    export ("Unit price") or of the fields ("unit_price"); columns the shop works out itself
    (price, stock...) are passed over. Any other column, or a missing one, refuses the file."""
    names = [re.sub(r"[\s_]+", "_", cell.strip().lower()) for cell in header]
    unknown = [cell for cell, name in zip(header, names)
               if name not in IMPORT_FIELDS + IMPORT_WORKED_OUT]
    twice = sorted({cell for cell, name in zip(header, names) if names.count(name) > 1})
    missing = [import_label(name) for name in IMPORT_REQUIRED if name not in names]
    known = ", ".join(import_label(name) for name in IMPORT_FIELDS)
    if unknown:
        raise ImportRefused(f"Unknown column{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(map(repr, unknown))}: the import knows {known} (and "
                            f"passes over what the export adds: id, Price, Stock, Last update).")
    if twice:
        raise ImportRefused(f"The column{'s' if len(twice) > 1 else ''} "
                            f"{', '.join(map(repr, twice))} is there twice.")
    if missing:
        raise ImportRefused(f"The file has no {' or '.join(missing)} column: it needs "
                            f"{', '.join(map(import_label, IMPORT_REQUIRED))} (Slug and "
                            f"Description may be left out).")
    return {name: index for index, name in enumerate(names) if name in IMPORT_FIELDS}


def import_cell(text):
    """A cell's text. A formula is refused (ValueError); "'=x" is how the export, like a
    spreadsheet, writes a text that starts as a formula would: it is the text "=x"."""
    if text[:1] == "'" and text[1:2] in FORMULA_STARTS:
        return text[1:]
    if text[:1] in FORMULA_STARTS and not NUMBER.fullmatch(text):
        raise ValueError("A formula is not imported: write the value itself (or start the "
                         "text with an apostrophe).")
    return text


class ImportRow:
    """What one row of the file does: its status ("new", "changed", "unchanged", "error"),
    `changes` [(field, old, new)] and `errors` [(field or None, reason)]."""

    def __init__(self, number):
        self.number, self.slug, self.title, self.product = number, "", "", None
        self.values, self.changes, self.errors = {}, [], []

    @property
    def status(self):
        if self.errors:
            return "error"
        if self.product is None:
            return "new"
        return "changed" if self.changes else "unchanged"


class ImportPlan:
    """The preview of a whole file: its rows, how many of each status, its fingerprint."""

    def __init__(self, rows, notice, collections):
        self.rows, self.notice, self.collections = rows, notice, collections   # {id: row}
        self.counts = dict.fromkeys(("new", "changed", "unchanged", "error"), 0)
        for row in rows:
            self.counts[row.status] += 1

    @property
    def fingerprint(self):
        """A digest of what the preview says and of the products it read: a confirmation
        sent with it applies the file only if both are still the same."""
        seen = [(row.number, row.status, row.product and [
            str(row.product.__data__.get(name)) for name in ("id",) + IMPORT_FIELDS])
            for row in self.rows]
        return hashlib.sha256(repr(seen).encode()).hexdigest()


def store_import(user, filename, data):
    """Keep an uploaded file for its preview, after the checks of the whole file (its
    encoding, its columns); the uploads of over a day ago go. Raises ImportRefused."""
    text, notice = decode_import(data)
    import_columns(read_import(text)[0])
    ProductImport.delete().where(ProductImport.created_at < utcnow() - IMPORT_KEPT).execute()
    return ProductImport.create(id=secrets.token_urlsafe(24), user=user, notice=notice,
                                filename=filename[:255], content=text)


def plan_import(stored, check, lock=False):
    """The preview of a stored file: an ImportPlan of every row (see ImportRow). With
    `lock`, the products it reads stay locked until the transaction ends."""
    header, records = read_import(stored.content)
    columns = import_columns(header)
    rows = [_import_texts(ImportRow(number), cells, columns, len(header))
            for number, cells in records]
    products = _products_by_slug({row.slug for row in rows}, lock)
    by_id, by_title = {c.id: c for c in Collection.select()}, {}
    for collection in by_id.values():
        by_title.setdefault(collection.title.strip(), []).append(collection.id)
    seen = {}
    for row in rows:
        _judge_row(row, products.get(row.slug, []), by_title, seen, check)
    return ImportPlan(rows, stored.notice, by_id)


def _import_texts(row, cells, columns, width):
    """Read a row's cells into row.values (texts), its slug and title."""
    if len(cells) != width:
        row.errors.append((None, f"It has {len(cells)} cells where the header has {width}."))
    for name, index in columns.items():
        try:
            row.values[name] = import_cell(cells[index].strip()) if index < len(cells) else ""
        except ValueError as error:
            row.errors.append((name, str(error)))
    row.title = row.values.get("title", "")
    row.slug = row.values.get("slug") or slugify(row.title)
    return row


def _products_by_slug(slugs, lock):
    found = collections.defaultdict(list)
    for batch in peewee.chunked(sorted(slugs), 500):
        query = Product.select().where(Product.slug.in_(batch)).order_by(Product.id)
        for product in (locked(query) if lock else query):
            found[product.slug].append(product)
    return found


def _judge_row(row, matches, collections_by_title, seen, check):
    """Find the row's product and collection, check its values, and say what would change."""
    if len(matches) > 1:
        row.errors.append(("slug", f"{len(matches)} products have the slug {row.slug!r}: give "
                                   f"them slugs of their own first."))
    row.product = matches[0] if len(matches) == 1 else None
    if row.slug in seen:
        row.errors.append(("slug", f"Row {seen[row.slug]} has the same slug."))
    seen.setdefault(row.slug, row.number)
    texts = dict(row.values)
    title = texts.pop("collection", "")
    ids = collections_by_title.get(title, [])
    if len(ids) != 1:
        row.errors.append(("collection", f"There is no collection called {title!r}." if not ids
                           else f"{len(ids)} collections are called {title!r}."))
    values, problems = check(texts, row.product)
    row.errors += [(name, message) for name, message in problems.items()]
    if row.errors:
        return
    row.values = dict(values, collection=ids[0], slug=row.slug)
    if row.product is not None:
        row.changes = [(name, row.product.__data__.get(name), value)
                       for name, value in row.values.items()
                       if value != row.product.__data__.get(name)]


def import_products(stored, check, fingerprint, user):
    """Apply a stored file, all of it in one transaction, if it has no errors and the preview
    the user confirmed (`fingerprint`) is what it would still do; else raise ImportStale with
    the preview as it is now. The file is then forgotten. Returns the plan applied."""
    with write_transaction():
        plan = plan_import(stored, check, lock=True)
        if plan.counts["error"] or plan.fingerprint != fingerprint:
            raise ImportStale(plan)
        _apply_import(plan, user)
        stored.delete_instance()
    return plan


def _apply_import(plan, user):
    """Insert the new products and update the changed ones, each with its history entry. (The
    statements are written once and run for every row, as the demo data is loaded: Peewee
    writing the SQL of 10,000 rows would take longer than the database's work.)"""
    now, entries = utcnow(), []
    new = [row for row in plan.rows if row.status == "new"]
    _insert_in_batches(Product, ({"description": "", **row.values, "last_update": now,
                                  "price": price_after(row.values["unit_price"], 0),
                                  **searched_text({"description": "", **row.values})}
                                 for row in new), "new products", len(new))
    for batch in peewee.chunked(new, 500):
        ids = dict(Product.select(Product.slug, Product.id).where(
            Product.slug.in_([row.slug for row in batch])).tuples())
        entries += [(ids[row.slug], row.title, ADDITION, "Added (imported).") for row in batch]
    changed = [row for row in plan.rows if row.status == "changed"]
    discounts = {}
    for batch in peewee.chunked([row.product.id for row in changed], 500):
        discounts.update(best_discounts(batch))
    updates = collections.defaultdict(list)         # the same columns changed: one statement
    for row in changed:
        values = {name: new for name, old, new in row.changes}
        values["price"] = price_after(values.get("unit_price", row.product.unit_price),
                                      discounts.get(row.product.id, 0))
        values.update(searched_text(values))
        updates[tuple(values)].append(dict(values, last_update=now, id=row.product.id))
        labels = ", ".join(import_label(name).lower() for name, _, _ in row.changes)
        entries.append((row.product.id, row.values["title"], CHANGE,
                        f"Changed {labels} (imported)."))
    for names, rows in updates.items():
        _update_in_batches(Product, names + ("last_update",), rows)
    _insert_in_batches(AdminLogEntry, ({
        "user": user.id, "model": "product", "object_id": str(ident), "object_repr": title[:255],
        "action": action, "change_message": message, "action_time": now}
        for ident, title, action, message in entries), "history", len(entries))


def _update_in_batches(model, names, rows):
    """UPDATE the fields `names` of each row (a dict with them and its "id"), one statement
    for all of them (executemany)."""
    fields = [model._meta.fields[name] for name in names]
    sql = 'UPDATE "{}" SET {} WHERE "id" = {}'.format(
        model._meta.table_name, ", ".join(f'"{f.column_name}" = {db.param}' for f in fields),
        db.param)
    for batch in peewee.chunked(rows, 10_000):
        db.cursor().executemany(sql, [[f.db_value(row[f.name]) for f in fields] + [row["id"]]
                                      for row in batch])


def analyze(vacuum=False):
    """Give the query planner fresh statistics about the tables. With them SQLite sorts a
    million products by their collection's name by walking the collections in order and
    each one's products by index, instead of sorting every product. With `vacuum` (outside a
    transaction), PostgreSQL also marks the pages all its transactions see, so that a count or
    a deep page reads an index alone, not the table's rows (an index-only scan)."""
    db.execute_sql("VACUUM ANALYZE" if vacuum and not is_sqlite() else "ANALYZE")


###############################################################################
# 9. Migrations
###############################################################################

# Each migration is a function, numbered by its place in MIGRATIONS. They run once each, in
# order, and the number of the last one applied is kept in schema_version. Never edit a
# migration that has shipped: add a new one. `python app.py makemigrations` writes it for you:
# it compares the models with the database and prints the function to add.
#
# A migration's SQL runs on SQLite and on PostgreSQL. The types the two spell differently are
# written as a word in braces, {TIMESTAMP}, which _sql() spells for the database at hand.
# SQLite has few types of its own: it keeps booleans as 0 and 1, times and UUIDs as text.
# (DECIMAL needs no braces: PostgreSQL reads it as its NUMERIC.)
DIALECT_WORDS = {
    #             SQLite      PostgreSQL
    "SERIAL":    ("INTEGER",  "SERIAL"),        # an id the database counts up: 1, 2, 3...
    "BIGSERIAL": ("INTEGER",  "BIGSERIAL"),
    "BIGINT":    ("INTEGER",  "BIGINT"),
    "SMALLINT":  ("INTEGER",  "SMALLINT"),
    "BOOLEAN":   ("INTEGER",  "BOOLEAN"),
    "TRUE":      ("1",        "TRUE"),
    "FALSE":     ("0",        "FALSE"),
    "TIMESTAMP": ("DATETIME", "TIMESTAMP"),
    "DOUBLE":    ("REAL",     "DOUBLE PRECISION"),
    "UUID":      ("TEXT",     "UUID"),
    "BLOB":      ("BLOB",     "BYTEA"),
    "JSON":      ("TEXT",     "JSONB"),
}


def _spelt(sql):
    """`sql` with its {WORDS} spelt as this database spells them."""
    spelling = 0 if is_sqlite() else 1
    return re.sub(r"\{([A-Z]+)\}",
                  lambda word: DIALECT_WORDS.get(word[1], (word[0],) * 2)[spelling], sql)


def _sql(statement):
    """Run a statement of a migration, its {WORDS} spelt for this database."""
    db.execute_sql(_spelt(statement))


# Migration 1 is the schema of the day migrations were first counted from, written out rather
# than made from the models, so that it stays what it was: a field added to a model later
# changes only the migration added with it, and a database made today goes through the same
# steps as one made a year ago. create_table_sql() wrote it once, from the models of that day
# (which had every column that migrations 3 and 4 add to older databases).
INITIAL_SCHEMA = """
CREATE TABLE "user" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "username" VARCHAR(150) NOT NULL,
    "username_key" VARCHAR(600) NOT NULL,
    "email" VARCHAR(254) NOT NULL,
    "password" VARCHAR(255) NOT NULL,
    "first_name" VARCHAR(150) NOT NULL,
    "last_name" VARCHAR(150) NOT NULL,
    "is_active" {BOOLEAN} NOT NULL,
    "is_staff" {BOOLEAN} NOT NULL,
    "is_superuser" {BOOLEAN} NOT NULL,
    "date_joined" {TIMESTAMP} NOT NULL,
    "last_login" {TIMESTAMP}
);
CREATE UNIQUE INDEX "user_username" ON "user" ("username");
CREATE UNIQUE INDEX "user_username_key" ON "user" ("username_key");
CREATE INDEX "user_email" ON "user" ("email");

CREATE TABLE "customer" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "first_name" VARCHAR(255) NOT NULL,
    "last_name" VARCHAR(255) NOT NULL,
    "email" VARCHAR(254) NOT NULL,
    "phone" VARCHAR(255) NOT NULL,
    "birth_date" DATE,
    "membership" VARCHAR(1) NOT NULL,
    "user_id" INTEGER,
    FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE SET NULL
);
CREATE UNIQUE INDEX "customer_email" ON "customer" ("email");
CREATE INDEX "customer_membership" ON "customer" ("membership");
CREATE UNIQUE INDEX "customer_user_id" ON "customer" ("user_id");
CREATE INDEX "customer_first_name_last_name" ON "customer" ("first_name", "last_name");
CREATE INDEX "customer_last_name_first_name" ON "customer" ("last_name", "first_name");

CREATE TABLE "address" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "street" VARCHAR(255) NOT NULL,
    "city" VARCHAR(255) NOT NULL,
    "zip" VARCHAR(20) NOT NULL,
    "customer_id" INTEGER NOT NULL,
    FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE CASCADE
);
CREATE INDEX "address_customer_id" ON "address" ("customer_id");

CREATE TABLE "admin_log_entry" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "user_id" INTEGER,
    "action_time" {TIMESTAMP} NOT NULL,
    "model" VARCHAR(100) NOT NULL,
    "object_id" VARCHAR(100) NOT NULL,
    "object_repr" VARCHAR(255) NOT NULL,
    "action" {SMALLINT} NOT NULL,
    "change_message" TEXT NOT NULL,
    FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE SET NULL
);
CREATE INDEX "admin_log_entry_user_id" ON "admin_log_entry" ("user_id");
CREATE INDEX "admin_log_entry_action_time" ON "admin_log_entry" ("action_time");
CREATE INDEX "admin_log_entry_model_object_id" ON "admin_log_entry" ("model", "object_id");

CREATE TABLE "cart" (
    "id" {UUID} NOT NULL PRIMARY KEY,
    "created_at" {TIMESTAMP} NOT NULL
);
CREATE INDEX "cart_created_at" ON "cart" ("created_at");

CREATE TABLE "collection" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "title" VARCHAR(255) NOT NULL,
    "featured_product_id" INTEGER
);
CREATE INDEX "collection_title" ON "collection" ("title");
CREATE INDEX "collection_featured_product_id" ON "collection" ("featured_product_id");

CREATE TABLE "product" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "title" VARCHAR(255) NOT NULL,
    "slug" VARCHAR(255) NOT NULL,
    "description" TEXT NOT NULL,
    "unit_price" DECIMAL(10, 2) NOT NULL,
    "price" DECIMAL(10, 2) NOT NULL,
    "inventory" INTEGER NOT NULL,
    "last_update" {TIMESTAMP} NOT NULL,
    "collection_id" INTEGER NOT NULL,
    FOREIGN KEY ("collection_id") REFERENCES "collection" ("id") ON DELETE RESTRICT,
    CHECK (unit_price >= 1),
    CHECK (inventory >= 0)
);
CREATE INDEX "product_title" ON "product" ("title");
CREATE INDEX "product_slug" ON "product" ("slug");
CREATE INDEX "product_unit_price" ON "product" ("unit_price");
CREATE INDEX "product_price" ON "product" ("price");
CREATE INDEX "product_inventory" ON "product" ("inventory");
CREATE INDEX "product_last_update" ON "product" ("last_update");
CREATE INDEX "product_collection_id" ON "product" ("collection_id");
CREATE INDEX "product_collection_id_title" ON "product" ("collection_id", "title");
CREATE INDEX "product_collection_id_unit_price" ON "product" ("collection_id", "unit_price");
CREATE INDEX "product_collection_id_price" ON "product" ("collection_id", "price");

CREATE TABLE "cart_item" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "cart_id" {UUID} NOT NULL,
    "product_id" INTEGER NOT NULL,
    "quantity" INTEGER NOT NULL,
    FOREIGN KEY ("cart_id") REFERENCES "cart" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("product_id") REFERENCES "product" ("id") ON DELETE CASCADE,
    CHECK (quantity >= 1)
);
CREATE INDEX "cart_item_cart_id" ON "cart_item" ("cart_id");
CREATE INDEX "cart_item_product_id" ON "cart_item" ("product_id");
CREATE UNIQUE INDEX "cart_item_cart_id_product_id" ON "cart_item" ("cart_id", "product_id");

CREATE TABLE "group" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "name" VARCHAR(150) NOT NULL
);
CREATE UNIQUE INDEX "group_name" ON "group" ("name");

CREATE TABLE "group_permission" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "group_id" INTEGER NOT NULL,
    "codename" VARCHAR(100) NOT NULL,
    FOREIGN KEY ("group_id") REFERENCES "group" ("id") ON DELETE CASCADE
);
CREATE INDEX "group_permission_group_id" ON "group_permission" ("group_id");
CREATE UNIQUE INDEX "group_permission_group_id_codename"
    ON "group_permission" ("group_id", "codename");

CREATE TABLE "liked_item" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "content_type" VARCHAR(100) NOT NULL,
    "object_id" INTEGER NOT NULL,
    "user_id" INTEGER NOT NULL,
    FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE
);
CREATE INDEX "liked_item_user_id" ON "liked_item" ("user_id");
CREATE INDEX "liked_item_content_type_object_id" ON "liked_item" ("content_type", "object_id");
CREATE UNIQUE INDEX "liked_item_user_id_content_type_object_id"
    ON "liked_item" ("user_id", "content_type", "object_id");

CREATE TABLE "login_failure" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "key" VARCHAR(300) NOT NULL,
    "failed_at" {TIMESTAMP} NOT NULL
);
CREATE INDEX "login_failure_key_failed_at" ON "login_failure" ("key", "failed_at");

CREATE TABLE "order" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "placed_at" {TIMESTAMP} NOT NULL,
    "payment_status" VARCHAR(1) NOT NULL,
    "customer_id" INTEGER NOT NULL,
    FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE RESTRICT
);
CREATE INDEX "order_placed_at" ON "order" ("placed_at");
CREATE INDEX "order_payment_status" ON "order" ("payment_status");
CREATE INDEX "order_customer_id" ON "order" ("customer_id");

CREATE TABLE "order_item" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "order_id" INTEGER NOT NULL,
    "product_id" INTEGER NOT NULL,
    "quantity" INTEGER NOT NULL,
    "unit_price" DECIMAL(10, 2) NOT NULL,
    "list_price" DECIMAL(10, 2),
    FOREIGN KEY ("order_id") REFERENCES "order" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("product_id") REFERENCES "product" ("id") ON DELETE RESTRICT,
    CHECK (quantity >= 1)
);
CREATE INDEX "order_item_order_id" ON "order_item" ("order_id");
CREATE INDEX "order_item_product_id" ON "order_item" ("product_id");

CREATE TABLE "pricing_day" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "day" DATE NOT NULL
);

CREATE TABLE "promotion" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "description" VARCHAR(255) NOT NULL,
    "discount" DECIMAL(5, 2) NOT NULL,
    "starts_on" DATE,
    "ends_on" DATE
);

CREATE TABLE "product_promotion" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "product_id" INTEGER NOT NULL,
    "promotion_id" INTEGER NOT NULL,
    FOREIGN KEY ("product_id") REFERENCES "product" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("promotion_id") REFERENCES "promotion" ("id") ON DELETE CASCADE
);
CREATE INDEX "product_promotion_product_id" ON "product_promotion" ("product_id");
CREATE INDEX "product_promotion_promotion_id" ON "product_promotion" ("promotion_id");
CREATE UNIQUE INDEX "product_promotion_product_id_promotion_id"
    ON "product_promotion" ("product_id", "promotion_id");

CREATE TABLE "schema_version" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "version" INTEGER NOT NULL
);

CREATE TABLE "tag" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "label" VARCHAR(255) NOT NULL
);
CREATE UNIQUE INDEX "tag_label" ON "tag" ("label");

CREATE TABLE "tagged_item" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "content_type" VARCHAR(100) NOT NULL,
    "object_id" INTEGER NOT NULL,
    "tag_id" INTEGER NOT NULL,
    FOREIGN KEY ("tag_id") REFERENCES "tag" ("id") ON DELETE CASCADE
);
CREATE INDEX "tagged_item_tag_id" ON "tagged_item" ("tag_id");
CREATE INDEX "tagged_item_content_type_object_id" ON "tagged_item" ("content_type", "object_id");

CREATE TABLE "user_group" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "user_id" INTEGER NOT NULL,
    "group_id" INTEGER NOT NULL,
    FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("group_id") REFERENCES "group" ("id") ON DELETE CASCADE
);
CREATE INDEX "user_group_user_id" ON "user_group" ("user_id");
CREATE INDEX "user_group_group_id" ON "user_group" ("group_id");
CREATE UNIQUE INDEX "user_group_user_id_group_id" ON "user_group" ("user_id", "group_id");

CREATE TABLE "user_permission" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "user_id" INTEGER NOT NULL,
    "codename" VARCHAR(100) NOT NULL,
    FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE
);
CREATE INDEX "user_permission_user_id" ON "user_permission" ("user_id");
CREATE UNIQUE INDEX "user_permission_user_id_codename"
    ON "user_permission" ("user_id", "codename");
"""


def _m001_initial():
    for statement in INITIAL_SCHEMA.split(";\n"):
        if statement.strip():
            _sql(statement)


def _m002_fill_slugs_and_title_search_index():
    # Products imported before slugs existed get one; lower(title) serves case-insensitive search.
    for product in Product.select(Product.id, Product.title).where(
            (Product.slug == "") | Product.slug.is_null()):
        Product.update(slug=slugify(product.title)).where(Product.id == product.id).execute()
    db.execute_sql("CREATE INDEX IF NOT EXISTS product_title_lower ON product (lower(title))")


def _add_column(table, name, definition):
    """Add a column unless the table has it already (migration 1 makes every column that
    migrations 3 and 4 add). Plain ALTER TABLE ADD COLUMN, which both databases do in place:
    playhouse's migrator adds a NOT NULL column to SQLite by copying the table, which its
    foreign keys forbid once other rows point at it."""
    if name not in {column.name for column in db.get_columns(table)}:
        _sql(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {definition}')


def _key_usernames(key_of):
    """Give every user the username key `key_of` makes of their name; on a clash the older
    account keeps the key, and the newer one's gets its id (an admin can rename it)."""
    seen = set()
    for user_id, username in User.select(User.id, User.username).order_by(User.id).tuples():
        key = key_of(username)
        key = key if key not in seen else f"{key}#{user_id}"
        seen.add(key)
        User.update(username_key=key).where(User.id == user_id).execute()


def _m003_case_insensitive_usernames():
    # One username per person whatever the case or width: "ALICE" and "ａｌｉｃｅ" are alice.
    # A clash already in the database keeps its older account's name; the newer one's key
    # gets its id, and an admin can rename it.
    _add_column("user", "username_key", "VARCHAR(600) NOT NULL DEFAULT ''")
    _key_usernames(normalize_username)
    db.execute_sql('CREATE UNIQUE INDEX IF NOT EXISTS user_username_key ON "user" (username_key)')


def _m004_prices_paid_and_dated_promotions():
    # Promotions get dates; a product stores the price it sells for (its list price less its
    # best current promotion), so the catalog can sort by it with an index; an order item
    # keeps the list price it was discounted from.
    _add_column("promotion", "starts_on", "DATE")
    _add_column("promotion", "ends_on", "DATE")
    _add_column("product", "price", "DECIMAL(10, 2) NOT NULL DEFAULT 0")
    _add_column("order_item", "list_price", "DECIMAL(10, 2)")
    Product.update(price=Product.unit_price).execute()
    reprice(ProductPromotion.select(ProductPromotion.product))
    for columns in (("price",), ("collection_id", "price")):
        db.execute_sql(f"CREATE INDEX IF NOT EXISTS product_{'_'.join(columns)} "
                       f"ON product ({', '.join(columns)})")
    db.create_tables([PricingDay], safe=True)
    PricingDay.delete().execute()
    PricingDay.create(day=utcnow().date())


def _m005_one_like_per_user_and_object():
    # Keep the first of any repeated like, then let the database refuse repeats.
    first = (LikedItem.select(fn.MIN(LikedItem.id))
             .group_by(LikedItem.user, LikedItem.content_type, LikedItem.object_id))
    LikedItem.delete().where(LikedItem.id.not_in(first)).execute()
    db.execute_sql("CREATE UNIQUE INDEX IF NOT EXISTS liked_item_user_id_content_type_object_id "
                   "ON liked_item (user_id, content_type, object_id)")


def _m006_full_text_search():
    # Search by every word, prefixes and rank, from an index instead of a LIKE scan.
    _full_text_index("title", "description", "unicode61 remove_diacritics 2")


def _m007_deactivation_ends_sessions_for_good():
    # Sessions and reset links carry the user's count of deactivations (User.deactivations),
    # which the database keeps: on every UPDATE of a user it becomes what it was, plus one if
    # that UPDATE deactivates the account. A save() or a bulk update that writes an old count
    # back cannot revive the sessions a deactivation ended.
    _add_column("user", "deactivations", "INTEGER NOT NULL DEFAULT 0")
    counted = "old.deactivations + (old.is_active AND NOT new.is_active)"
    if is_sqlite():         # an SQLite trigger cannot change the row it runs for: it updates it
        db.execute_sql(f'CREATE TRIGGER IF NOT EXISTS user_deactivations AFTER UPDATE ON "user" '
                       f"WHEN new.deactivations IS NOT {counted} "
                       f'BEGIN UPDATE "user" SET deactivations = {counted} WHERE id = new.id; END')
    else:
        db.execute_sql(f"CREATE OR REPLACE FUNCTION user_deactivations() RETURNS trigger AS $$ "
                       f"BEGIN new.deactivations := {counted}::int; RETURN new; END "
                       f"$$ LANGUAGE plpgsql")
        db.execute_sql('CREATE TRIGGER user_deactivations BEFORE UPDATE ON "user" '
                       "FOR EACH ROW EXECUTE FUNCTION user_deactivations()")


def _m008_lookalike_usernames():
    # Usernames are told apart by their look-alike skeletons (username_key()). As in migration
    # 3, a clash keeps its older account's key, and the newer one's gets its id. The index goes
    # while the keys change, so that no key clashes with one not yet changed.
    db.execute_sql("DROP INDEX user_username_key")
    _key_usernames(username_key)
    db.execute_sql('CREATE UNIQUE INDEX user_username_key ON "user" (username_key)')


def _m009_reset_mails_per_address():
    _sql("""CREATE TABLE "reset_mail" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "address" VARCHAR(254) NOT NULL,
    "place" {SMALLINT} NOT NULL,
    "sent_at" {TIMESTAMP} NOT NULL
)""")
    db.execute_sql('CREATE UNIQUE INDEX "reset_mail_address_place" ON "reset_mail" '
                   '("address", "place")')


def _full_text_index(title, description, tokenize):
    """The full-text index of products over these two columns of product: SQLite's FTS5
    table and its triggers, or PostgreSQL's generated tsvector column and its GIN index."""
    if is_sqlite():
        db.execute_sql(f"CREATE VIRTUAL TABLE product_search USING fts5({title}, {description}, "
                       f"content='product', content_rowid='id', prefix='2 3', "
                       f"tokenize='{tokenize}')")
        search_index_triggers(True, (title, description))
        db.execute_sql("INSERT INTO product_search(product_search) VALUES ('rebuild')")
    else:
        db.execute_sql(
            f"ALTER TABLE product ADD COLUMN search_vector tsvector GENERATED "
            f"ALWAYS AS (setweight(to_tsvector('simple', {title}), 'A') || "
            f"setweight(to_tsvector('simple', {description}), 'B')) STORED")
        db.execute_sql("CREATE INDEX product_search_vector ON product USING gin (search_vector)")


def search_index_triggers(on, columns=("search_title", "search_description"),
                          index="product_search", table="product"):
    """SQLite: create (on=True) or drop the triggers that keep a full-text index (an FTS5
    table of `columns` of `table`) in step with its table: product_search, or with
    index="customer_search", table="customer", columns=CUSTOMER_SEARCH_COLUMNS, the trigrams
    of customers. Loading a million rows is quicker without them and one rebuild after."""
    names, old, new = (", ".join(columns), ", ".join(f"old.{c}" for c in columns),
                       ", ".join(f"new.{c}" for c in columns))
    for event, body in [
            ("INSERT", f"INSERT INTO {index}(rowid, {names}) VALUES (new.id, {new});"),
            ("DELETE", f"INSERT INTO {index}({index}, rowid, {names}) "
                       f"VALUES ('delete', old.id, {old});"),
            (f"UPDATE OF {names}",
             f"INSERT INTO {index}({index}, rowid, {names}) VALUES ('delete', old.id, {old}); "
             f"INSERT INTO {index}(rowid, {names}) VALUES (new.id, {new});")]:
        name = f"{index}_" + event.split()[0].lower()
        db.execute_sql(f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} "
                       f"BEGIN {body} END" if on else f"DROP TRIGGER IF EXISTS {name}")


def _m010_count_carts_made_per_client():
    # The carts each client made in the current window, so that one client making carts in a
    # loop is refused, instead of every other client's new carts being deleted (new_cart).
    _sql("""CREATE TABLE "carts_made" (
        "id" {SERIAL} NOT NULL PRIMARY KEY,
        "client" VARCHAR(64) NOT NULL,
        "window_start" {TIMESTAMP} NOT NULL,
        "carts" INTEGER NOT NULL
    )""")
    db.execute_sql('CREATE UNIQUE INDEX IF NOT EXISTS "carts_made_client_window_start" '
                   'ON "carts_made" ("client", "window_start")')


def _m011_carts_belong_to_accounts():
    # A logged-in shopper's cart is kept with their account, not only in their session.
    _add_column("cart", "user_id",
                'INTEGER REFERENCES "user" ("id") ON DELETE CASCADE')
    db.execute_sql('CREATE UNIQUE INDEX IF NOT EXISTS "cart_user_id" ON "cart" ("user_id")')


def _m012_carts_know_when_they_were_last_changed():
    # Abandoned carts are those idle for long (purge_abandoned_carts): the time of a cart's
    # last change, its creation for the carts there already.
    _add_column("cart", "touched_at", "{TIMESTAMP} NOT NULL DEFAULT '2000-01-01 00:00:00'")
    Cart.update(touched_at=Cart.created_at).execute()
    db.execute_sql('CREATE INDEX IF NOT EXISTS "cart_touched_at" ON "cart" ("touched_at")')


def _m013_product_imports():
    # The spreadsheets uploaded to the admin's product import, kept from preview to confirm.
    _sql("""CREATE TABLE "product_import" (
        "id" VARCHAR(64) NOT NULL PRIMARY KEY,
        "user_id" INTEGER NOT NULL,
        "created_at" {TIMESTAMP} NOT NULL,
        "filename" VARCHAR(255) NOT NULL,
        "notice" VARCHAR(255) NOT NULL,
        "content" TEXT NOT NULL,
        FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE
    )""")
    db.execute_sql('CREATE INDEX "product_import_user_id" ON "product_import" ("user_id")')
    db.execute_sql('CREATE INDEX "product_import_created_at" ON "product_import" ("created_at")')


def _m014_api_tokens():
    _sql("""CREATE TABLE "api_token" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "user_id" INTEGER NOT NULL,
    "name" VARCHAR(100) NOT NULL,
    "prefix" VARCHAR(12) NOT NULL,
    "hash" VARCHAR(64) NOT NULL,
    "created_at" {TIMESTAMP} NOT NULL,
    "last_used_at" {TIMESTAMP},
    "expires_at" {TIMESTAMP},
    "revoked" {BOOLEAN} NOT NULL,
    FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE
)""")
    db.execute_sql('CREATE INDEX "api_token_user_id" ON "api_token" ("user_id")')
    db.execute_sql('CREATE UNIQUE INDEX "api_token_prefix" ON "api_token" ("prefix")')
    db.execute_sql('CREATE INDEX "api_token_user_id_created_at" ON "api_token" '
                   '("user_id", "created_at")')


def _m015_product_photos():
    # Product photos, kept in the database: each photo's row, and its files (the original and
    # its sizes) in a table of their own, which lists of photos never read.
    _sql("""CREATE TABLE "product_image" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "product_id" INTEGER NOT NULL,
    "photo" VARCHAR(16) NOT NULL,
    "alt" VARCHAR(255) NOT NULL,
    "position" INTEGER NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    FOREIGN KEY ("product_id") REFERENCES "product" ("id") ON DELETE CASCADE
)""")
    db.execute_sql('CREATE INDEX "product_image_product_id_position" ON "product_image" '
                   '("product_id", "position")')
    _sql("""CREATE TABLE "product_image_file" (
    "id" {SERIAL} NOT NULL PRIMARY KEY,
    "image_id" INTEGER NOT NULL,
    "size" VARCHAR(10) NOT NULL,
    "data" {BLOB} NOT NULL,
    FOREIGN KEY ("image_id") REFERENCES "product_image" ("id") ON DELETE CASCADE
)""")
    db.execute_sql('CREATE UNIQUE INDEX "product_image_file_image_id_size" '
                   'ON "product_image_file" ("image_id", "size")')


def _m016_search_folded_text():
    # Search compares folded text (fold()) on both databases: the products get their folded
    # title and description, and the full-text index is made again over those.
    _add_column("product", "search_title", "TEXT NOT NULL DEFAULT ''")
    _add_column("product", "search_description", "TEXT NOT NULL DEFAULT ''")
    if is_sqlite():
        search_index_triggers(False, ("title", "description"))
        db.execute_sql("DROP TABLE product_search")
    else:
        db.execute_sql("ALTER TABLE product DROP COLUMN search_vector")    # (and its index)
    last = 0
    while True:         # a thousand at a time, in the order of the key
        rows = list(Product.select(Product.id, Product.title, Product.description)
                    .where(Product.id > last).order_by(Product.id).limit(1000).tuples())
        if not rows:
            break
        db.cursor().executemany(   # (the DROP above has told the caches: no hook needed)
            "UPDATE product SET search_title = {0}, search_description = {0} WHERE id = {0}"
            .format(db.param), [(fold(title), fold(text), ident) for ident, title, text in rows])
        last = rows[-1][0]
    _full_text_index("search_title", "search_description", "unicode61 remove_diacritics 0")
    analyze()       # (the planner knows nothing yet of the new columns)


def _m017_sums_kept_on_orders_and_customers():
    # An order keeps its total and item count, a customer its order count (KEPT_SUMS): lists
    # of a million orders sort and show them from an index, and each sort and filter of the
    # order, order item and customer lists gets the index that serves it.
    _add_column("order", "total", "DECIMAL(14, 2) NOT NULL DEFAULT 0")
    _add_column("order", "item_count", "INTEGER NOT NULL DEFAULT 0")
    _add_column("customer", "order_count", "INTEGER NOT NULL DEFAULT 0")
    for model in (Order, Customer, OrderItem):
        for create in _index_statements(model).values():
            db.execute_sql(create)
    for name in ("order_placed_at", "order_payment_status", "order_customer_id",
                 "customer_last_name_first_name"):
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')    # the first columns of those
    check_sums(repair=True)
    sum_triggers(True)
    analyze()       # the planner's statistics of the new indexes: without them it may pick one
                    # that serves a filter but not its sort, and sort a million rows


def _m018_a_filter_and_a_sort_from_one_index():
    # A list filtered by one column and sorted by another walks an index of both, with the id
    # that breaks ties: each page of the failed orders by total, or of the gold customers by
    # name, is then read from the index alone. Without it the walk takes the sort's index
    # and reads every row it passes to test the filter: 19 s for page 3,000 of a million
    # orders. The index of membership alone is the first column of the new one. (IF NOT
    # EXISTS: _m017 makes every index the models declare, these too on a new database.)
    db.execute_sql('CREATE INDEX IF NOT EXISTS "order_payment_status_total_id" '
                   'ON "order" ("payment_status", "total", "id")')
    db.execute_sql('CREATE INDEX IF NOT EXISTS "customer_membership_last_name_first_name_id" '
                   'ON "customer" ("membership", "last_name", "first_name", "id")')
    db.execute_sql('DROP INDEX IF EXISTS "customer_membership"')
    analyze()       # (without statistics of the new indexes, the planner may not pick them)


def _m019_search_index_of_titles_alone():
    # PostgreSQL: a GIN index of the titles' words alone, beside the one of titles and
    # descriptions (search_vector). A search asks first for the products with every word in
    # the title; that index can only say "somewhere", and a word found in many descriptions
    # but in no title had each of those products read to check (_matching()). SQLite's FTS5
    # table answers "in the title" from its own index already.
    if not is_sqlite():
        db.execute_sql("CREATE INDEX IF NOT EXISTS product_search_title ON product "
                       "USING gin (to_tsvector('simple', search_title))")
        analyze()


def _m020_every_sort_of_a_filtered_list_from_an_index():
    # More of the lists' filters and sorts served by one index each, with the id that breaks
    # ties: the orders of a status sorted by customer walk the customers in name order and
    # each one's orders of that status (the complete orders by customer, at a million: 717 ms
    # a page, then 6); the order items by product walk each product's items in id order (the
    # key's own index, which it replaces, left PostgreSQL to sort them); the customers by
    # membership. (IF NOT EXISTS: _m017 makes them on a new database.)
    # PostgreSQL: a search of customers (ILIKE '%smith%' in three columns) read all of them,
    # 100 to 150 ms a page at 200,000; an index of their trigrams finds the rows, 3 ms (with
    # pg_trgm, which a database's owner may add; without it the search reads them all).
    if not is_sqlite():
        try:
            with db.atomic():
                db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except peewee.DatabaseError:
            logging.getLogger("storefront").warning(
                "pg_trgm is not available: a search of customers reads every row")
        else:
            db.execute_sql("CREATE INDEX IF NOT EXISTS customer_search_trigrams ON customer "
                           "USING gin (first_name gin_trgm_ops, last_name gin_trgm_ops, "
                           "email gin_trgm_ops)")
    db.execute_sql('CREATE INDEX IF NOT EXISTS "order_customer_id_payment_status_id" '
                   'ON "order" ("customer_id", "payment_status", "id")')
    db.execute_sql('CREATE INDEX IF NOT EXISTS "order_item_product_id_id" '
                   'ON "order_item" ("product_id", "id")')
    db.execute_sql('DROP INDEX IF EXISTS "order_item_product_id"')
    db.execute_sql('CREATE INDEX IF NOT EXISTS "customer_membership_id" '
                   'ON "customer" ("membership", "id")')
    analyze()


def _m021_an_index_of_the_customers_trigrams():
    # SQLite: a search of customers (LIKE '%smith%' in three columns) reads all of them, 120
    # ms and more at 200,000 (PostgreSQL's index of their trigrams is migration 20's). An FTS5
    # index of their trigrams finds the few that can match. SQLite has the trigram tokenizer
    # from 3.34 on; without it the search reads them all, as before.
    if not is_sqlite():
        return
    try:
        with db.atomic():
            db.execute_sql(f"CREATE VIRTUAL TABLE customer_search USING fts5("
                           f"{', '.join(CUSTOMER_SEARCH_COLUMNS)}, content='customer', "
                           f"content_rowid='id', tokenize='trigram')")
    except peewee.OperationalError:
        logging.getLogger("storefront").warning(
            "SQLite has no trigram tokenizer (3.34 and later have): a search of customers "
            "reads every row")
        return
    customer_search_triggers(True)
    db.execute_sql("INSERT INTO customer_search(customer_search) VALUES ('rebuild')")


def customer_search_triggers(on):
    search_index_triggers(on, CUSTOMER_SEARCH_COLUMNS, "customer_search", "customer")


MIGRATIONS = [_m001_initial, _m002_fill_slugs_and_title_search_index,
              _m003_case_insensitive_usernames, _m004_prices_paid_and_dated_promotions,
              _m005_one_like_per_user_and_object, _m006_full_text_search,
              _m007_deactivation_ends_sessions_for_good, _m008_lookalike_usernames,
              _m009_reset_mails_per_address, _m010_count_carts_made_per_client,
              _m011_carts_belong_to_accounts, _m012_carts_know_when_they_were_last_changed,
              _m013_product_imports, _m014_api_tokens, _m015_product_photos,
              _m016_search_folded_text, _m017_sums_kept_on_orders_and_customers,
              _m018_a_filter_and_a_sort_from_one_index, _m019_search_index_of_titles_alone,
              _m020_every_sort_of_a_filtered_list_from_an_index,
              _m021_an_index_of_the_customers_trigrams]


def schema_version():
    if not db.table_exists("schema_version"):
        return 0
    row = SchemaVersion.select(fn.MAX(SchemaVersion.version)).scalar()
    return row or 0


def migrate(target=None):
    """Apply the migrations not yet applied (up to `target`); return the versions applied."""
    target = len(MIGRATIONS) if target is None else target
    applied = []
    with write_transaction():
        if not is_sqlite():
            # Several processes starting at once (gunicorn workers) migrate one at a time;
            # SQLite's IMMEDIATE transaction already does this.
            db.execute_sql("SELECT pg_advisory_xact_lock(7531)")
        current = schema_version()
        for number, step in enumerate(MIGRATIONS[current:target], start=current + 1):
            step()
            SchemaVersion.delete().execute()
            SchemaVersion.create(version=number)
            applied.append(number)
    return applied


def migration_name(number):
    """"7 add_product_weight" for _m007_add_product_weight, the 7th migration."""
    return f"{number} {MIGRATIONS[number - 1].__name__.split('_', 2)[2]}"


def describe_applied(numbers):
    """What migrate() did, in a sentence: "Applied 2 migrations: 7 add_product_weight, ..."."""
    if not numbers:
        return "No migrations to apply."
    return (f"Applied {len(numbers)} migration{'s' if len(numbers) > 1 else ''}: "
            f"{', '.join(map(migration_name, numbers))}.")


# --- Do the migrations make what the models declare? -------------------------------------
#
# The models say what the schema should be; the migrations make it. To compare the two, peewee
# creates the models' tables in an empty place and both schemas are read back by the same
# introspection (get_columns, get_indexes, get_foreign_keys), so that each side is written in
# the database's own words. tests/test_migrations.py compares a database that every migration
# made from nothing; `python app.py makemigrations` compares yours and prints the migration
# that would remove the differences.

# What the migrations make that no model declares, left out of the comparison: SQLite's own
# tables, the full-text index of products (migration 6: SQLite's FTS5 table and the tables it
# keeps, or PostgreSQL's column and index), the index of lower(title) (migration 2) and
# the index of the customers' trigrams (PostgreSQL's, migration 20; SQLite's, 21).
NOT_IN_THE_MODELS = ("sqlite_*", "product_search*", "product.search_vector",
                     "product_title_lower", "customer_search*")

Column = collections.namedtuple("Column", "type null default")
Table = collections.namedtuple("Table", "columns indexes foreign_keys")


def _in_the_models(name):
    return not any(fnmatch.fnmatchcase(name, pattern) for pattern in NOT_IN_THE_MODELS)


def read_schema(database, schema=None):
    """{table name: Table(columns, indexes, foreign keys)} as `database` holds them."""
    tables = {}
    for table in filter(_in_the_models, database.get_tables(schema=schema)):
        columns = {c.name: Column(c.full_type, c.null,
                                  None if c.primary_key else _plain(c.default))
                   for c in database.get_columns(table, schema)
                   if _in_the_models(f"{table}.{c.name}")}
        indexes = {i.name: (tuple(i.columns), i.unique)
                   for i in database.get_indexes(table, schema) if _in_the_models(i.name)}
        keys = {k.column: (k.dest_table, k.dest_column, k.on_delete)
                for k in database.get_foreign_keys(table, schema)}
        tables[table] = Table(columns, indexes, keys)
    return tables


def _plain(default):
    """A column's default as SQL writes it, without PostgreSQL's casts and parentheses:
    ''::character varying is '', '-1'::integer is -1, true is TRUE."""
    if default is None:
        return None
    default = re.sub(r"(::[a-z ]+(\([\d, ]*\))?)+$", "", default)
    if re.fullmatch(r"\(.*\)|'-?[\d.]+'", default):
        default = default[1:-1]
    return default if default.startswith("'") else default.upper()


def declared_schema():
    """The schema the models declare, as this database would hold it: peewee makes their
    tables in an empty place (an SQLite database in memory; on PostgreSQL, a schema of its own
    in a transaction rolled back at once) and reads them back. A column's default is the
    model's when it is a constant: peewee writes no DEFAULT in a table, it fills values in
    itself, so a database default only matters when it disagrees."""
    if is_sqlite():
        scratch = peewee.SqliteDatabase(":memory:")
        _create_tables(scratch)
        tables = read_schema(scratch)
    else:
        with db.atomic() as transaction:
            db.execute_sql("CREATE SCHEMA storefront_declared")
            db.execute_sql("SET LOCAL search_path TO storefront_declared")
            _create_tables(db)
            tables = read_schema(db, "storefront_declared")
            transaction.rollback()
    for (table, column), field in _fields_by_column().items():
        default = field.default
        constant = None if default is None or callable(default) else _spelt(_literal(default))
        tables[table].columns[column] = tables[table].columns[column]._replace(
            default=_plain(constant))
    return tables


def _create_tables(database):
    for model in peewee.sort_models(MODELS):
        peewee.SchemaManager(model, database).create_all(safe=False)


def _fields_by_column():
    return {(model._meta.table_name, field.column_name): field
            for model in MODELS for field in model._meta.sorted_fields}


def _model_of(table):
    return next((model for model in MODELS if model._meta.table_name == table), None)


class Change:
    """One way the database differs from the models: in words (`about`), and as the lines of
    the migration that removes it (`code`), which takes its name from `title`. `kind` puts the
    lines in an order that works: indexes go before the columns they cover, and come back
    after. A column added or dropped keeps its Column, to tell a rename by."""
    KINDS = ("drop index", "drop column", "rename column", "drop table", "create table",
             "add column", "change column", "add index")

    def __init__(self, kind, table, name, about, code, title, column=None):
        self.kind, self.table, self.name, self.about = kind, table, name, about
        self.code, self.title, self.column = code, title, column

    def __repr__(self):
        return f"<Change: {self.kind} {self.table} {self.name}>"

    def order(self):
        return Change.KINDS.index(self.kind), self.table, self.name


def schema_changes():
    """What a migration must do to the database to make it what the models declare: a list of
    Change in the order a migration does them, empty when the two agree."""
    have, want = read_schema(db), declared_schema()
    changes = [_table_added(table) for table in want.keys() - have.keys()]
    changes += [_table_dropped(table) for table in have.keys() - want.keys()]
    for table in want.keys() & have.keys():
        changes += _column_changes(table, have[table], want[table])
        changes += _index_changes(table, have[table], want[table])
    return sorted(changes, key=Change.order)


def _table_added(table):
    model = _model_of(table)
    create, indexes = create_table_sql(model)
    code = [f'_sql("""{create}""")'] + [f"db.execute_sql({_python(sql)})" for sql in indexes]
    return Change("create table", table, "", f"{model.__name__} has no table {table}",
                  "\n".join(code).splitlines(), f"create_{table}")


def _table_dropped(table):
    sql = f'DROP TABLE "{table}"'
    return Change("drop table", table, "", f"the table {table} has no model",
                  [f"db.execute_sql({_python(sql)})"], f"delete_{table}")


def _column_changes(table, have, want):
    model, changes = _model_of(table), []
    for column in sorted(want.columns.keys() - have.columns.keys()):
        field = _fields_by_column()[table, column]
        definition, comments = column_definition(field)
        changes.append(Change(
            "add column", table, column,
            f"{model.__name__}.{field.name}: no migration adds its column {table}.{column}",
            comments + [f"_add_column({_python(table)}, {_python(column)}, "
                        f"{_python(definition)})"],
            f"add_{table}_{column}", want.columns[column]))
    for column in sorted(have.columns.keys() - want.columns.keys()):
        sql = f'ALTER TABLE "{table}" DROP COLUMN "{column}"'
        changes.append(Change(
            "drop column", table, column,
            f"{table}.{column} is in the database, but {model.__name__} has no field for it",
            [f"db.execute_sql({_python(sql)})"],
            f"remove_{table}_{column}", have.columns[column]))
    for column in sorted(want.columns.keys() & have.columns.keys()):
        problem = _column_problem(have, want, column)
        if problem:
            field = _fields_by_column()[table, column]
            about = f"{model.__name__}.{field.name}: {problem}"
            changes.append(Change("change column", table, column, about, [
                f"# {about}.",
                "# Write this change by hand: PostgreSQL alters a column in place (ALTER TABLE",
                "# ... ALTER COLUMN); SQLite makes the table anew and copies the rows over."],
                f"alter_{table}_{column}"))
    return changes


def _column_problem(have, want, column):
    """How a column differs from the model's field, in words, or ''."""
    old, new = have.columns[column], want.columns[column]
    # A default matters only where both say one: the model's may be worked out when a row is
    # made, and the database's may only have filled the rows there when its column was added.
    default = old.default if None in (old.default, new.default) else new.default
    problems = [f"{what} is {then} in the database, {now} in the model" for what, then, now in [
        ("its type", old.type, new.type),
        ("NULL", "allowed" if old.null else "refused", "allowed" if new.null else "refused"),
        ("its default", old.default, default),
        ("what it refers to", have.foreign_keys.get(column), want.foreign_keys.get(column)),
    ] if then != now]
    return "; ".join(problems)


def _index_changes(table, have, want):
    model, changes = _model_of(table), []
    statements = _index_statements(model)
    for name in sorted(have.indexes):
        if have.indexes[name] != want.indexes.get(name):
            sql = f'DROP INDEX IF EXISTS "{name}"'
            changes.append(Change(
                "drop index", table, name,
                f"the index {name} on {table} {_columns(have.indexes[name])} is not one "
                f"{model.__name__} declares", [f"db.execute_sql({_python(sql)})"],
                f"drop_index_{name}"))
    for name in sorted(want.indexes):
        if want.indexes[name] != have.indexes.get(name):
            create = statements.get(name)
            changes.append(Change(
                "add index", table, name,
                f"{model.__name__} declares the index {name} {_columns(want.indexes[name])}, "
                f"which no migration makes",
                [f"db.execute_sql({_python(create)})" if create else
                 f"# create the index {name} by hand"], f"add_index_{name}"))
    return changes


def _columns(index):
    columns, unique = index
    return ("unique " if unique else "") + "(" + ", ".join(map(str, columns)) + ")"


def pair_renames(changes, ask):
    """The changes with each dropped column that ask(question) says was renamed to an added one
    (of the same table, type and NULL) made one rename instead."""
    added = [change for change in changes if change.kind == "add column"]
    for dropped in [change for change in changes if change.kind == "drop column"]:
        for new in added:
            if (new.table, new.column[:2]) == (dropped.table, dropped.column[:2]) and ask(
                    f"Did you rename {dropped.table}.{dropped.name} to "
                    f"{new.table}.{new.name}?"):
                added.remove(new)
                changes = [c for c in changes if c not in (dropped, new)] + [_rename(dropped, new)]
                break
    return sorted(changes, key=Change.order)


def _rename(old, new):
    sql = f'ALTER TABLE "{old.table}" RENAME COLUMN "{old.name}" TO "{new.name}"'
    return Change("rename column", old.table, new.name,
                  f"{old.table}.{old.name} was renamed to {new.table}.{new.name}",
                  [f"db.execute_sql({_python(sql)})"],
                  f"rename_{old.table}_{old.name}_to_{new.name}", new.column)


def migration_code(changes, number=None):
    """The migration that makes `changes`, as Python: (its name, its source)."""
    number = number or len(MIGRATIONS) + 1
    # Named after its first change of a table or column (an index comes with its column).
    chief = [change for change in changes if "index" not in change.kind] or changes
    name = f"_m{number:03d}_{chief[0].title}" + ("_and_more" if len(chief) > 1 else "")
    body = [line for change in changes for line in change.code]
    if all(line.startswith("#") for line in body):
        body.append("pass")
    return name, "\n".join([f"def {name}():"] + ["    " + line for line in body]) + "\n"


def describe_changes(changes):
    """The differences in words, and the migration that would remove them."""
    if not changes:
        return "The schema that the migrations make is what the models declare."
    lines = ["The schema that the migrations make is not what the models declare:"]
    lines += [f"  - {change.about}" for change in changes]
    try:
        name, source = migration_code(changes)
    except ValidationError as error:
        return "\n".join(lines + [str(error)])
    return "\n".join(lines + [
        f"Add a migration to models.py (part 9) and {name} to MIGRATIONS;",
        "`python app.py makemigrations` prints it:", "", source])


# --- How a migration writes what a model declares ------------------------------------------

# peewee's name of each column type (a field's field_type) as a migration writes it: the same
# word in both databases, or one of DIALECT_WORDS in braces.
_TYPE_WORDS = {"AUTO": "{SERIAL}", "BIGAUTO": "{BIGSERIAL}", "BIGINT": "{BIGINT}",
               "SMALLINT": "{SMALLINT}", "BOOL": "{BOOLEAN}", "DATETIME": "{TIMESTAMP}",
               "DOUBLE": "{DOUBLE}", "UUID": "{UUID}", "BLOB": "{BLOB}", "UUIDB": "{BLOB}",
               "JSON": "{JSON}", "DECIMAL": "DECIMAL"}


def _written_as_a_migration(model):
    """peewee's schema manager of `model`, writing SQL as a migration writes it."""
    sqlite = peewee.SqliteDatabase(None)        # only its way of writing SQL: it never opens
    types = {**sqlite.get_context_options()["field_types"], **_TYPE_WORDS}
    return peewee.SchemaManager(model, sqlite, field_types=types)


def create_table_sql(model, safe=True):
    """The CREATE TABLE statement of `model`, a column a line, and its CREATE INDEX statements,
    as a migration writes them. (It wrote migration 1, from the models of that day.)"""
    create = _written_as_a_migration(model)._create_table(safe=False).query()[0]
    head, _, body = create.partition(" (")
    columns, depth, start = [], 0, 0
    for at, char in enumerate(body):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0 or (char == "," and depth == 0):
            columns.append(body[start:at].strip())
            start = at + 1
    return (head + " (\n    " + ",\n    ".join(columns) + "\n)",
            list(_index_statements(model, safe).values()))


def _index_statements(model, safe=True):
    """{name: CREATE INDEX statement} of the indexes `model` declares."""
    schema = _written_as_a_migration(model)
    return {index._name: schema._create_index(index, safe).query()[0]
            for index in model._meta.fields_to_index() if hasattr(index, "_name")}


def column_definition(field):
    """What _add_column() adds for `field`: its type, NOT NULL with a value for the rows already
    there, and the row it refers to; and the comment lines to print above it."""
    schema = _written_as_a_migration(field.model)
    context = schema.database.get_sql_context(**schema.context_options)
    definition, comments = context.sql(field.ddl_datatype(context)).query()[0], []
    if not field.null:
        value = _value_for_rows_already_there(field)
        if callable(field.default):
            comments.append(f"# the rows already there get {value} "
                            f"({field.default.__name__}() when this was written)")
        definition += " NOT NULL DEFAULT " + _literal(value)
    if isinstance(field, ForeignKeyField):
        definition += (f' REFERENCES "{field.rel_model._meta.table_name}" '
                       f'("{field.rel_field.column_name}")')
        if field.on_delete:
            definition += f" ON DELETE {field.on_delete}"
    return definition, comments


_ZEROS = ((peewee.CharField, ""), (TextField, ""), (BooleanField, False),
          (IntegerField, 0), (peewee.FloatField, 0), (DecimalField, 0))


def _value_for_rows_already_there(field):
    if callable(field.default):
        return field.default()
    if field.default is not None:
        return field.default
    for kind, zero in _ZEROS:
        if isinstance(field, kind):
            return zero
    raise ValidationError({f"{field.model.__name__}.{field.name}": (
        "NOT NULL without a default: give it a default= (or null=True), so that the rows "
        "already in the table get a value")})


def _literal(value):
    """`value` as SQL writes it after DEFAULT ({TRUE} and {FALSE} for booleans)."""
    if isinstance(value, bool):
        return "{TRUE}" if value else "{FALSE}"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, datetime.datetime):
        value = value.isoformat(" ")
    return "'" + str(value).replace("'", "''") + "'"


def _python(text):
    """A Python string literal of `text`, in double quotes unless it has some."""
    return f'"{text}"' if '"' not in text and "\\" not in text else repr(text)


###############################################################################
# 10. Demo data
###############################################################################

# The demo catalog: each collection with the words its products are named from, "<one of its
# kinds> <one of its things> No. <n>" ("Seeded Sourdough Loaf No. 12"), each thing with the line
# that begins its description, and the line that ends every description of the collection.
DEMO_CATALOG = {
    "Pantry": (("Organic", "Heritage", "Italian", "Wholegrain", "Fair-Trade", "Everyday"), {
        "Olive Oil": "cold-pressed oil for dressings and slow cooking",
        "Basmati Rice": "long, fragrant grains that cook up light and fluffy",
        "Spaghetti": "bronze-cut pasta that holds on to its sauce",
        "Rolled Oats": "hearty oats for porridge, flapjacks and crumbles",
        "Red Lentils": "quick-cooking lentils for soups and dals",
        "Chickpeas": "plump chickpeas, ready for hummus or a stew"},
        "From growers we have bought from for years."),
    "Beverages": (("Organic", "Classic", "Small-Batch", "House", "Premium", "Everyday"), {
        "Coffee Beans": "whole beans, roasted this week, with notes of cocoa",
        "Green Tea": "delicate leaves that brew a fresh, grassy cup",
        "Lemonade": "squeezed lemons, a little cane sugar and sparkling water",
        "Apple Juice": "pressed from orchard apples, cloudy and crisp",
        "Hot Chocolate": "rich cocoa flakes that melt into warm milk",
        "Ginger Beer": "brewed with fresh root ginger for a proper bite"},
        "Best enjoyed with good company."),
    "Bakery": (("Rustic", "Seeded", "Wholegrain", "Stone-Baked", "Country", "Golden"), {
        "Sourdough Loaf": "a slow-risen loaf with a crackling crust",
        "Rye Bread": "dense, dark and full of flavour",
        "Baguette": "a crisp French stick with an airy crumb",
        "Croissants": "flaky, buttery layers, four to a bag",
        "Focaccia": "olive-oil bread dimpled with rosemary and sea salt",
        "Cinnamon Buns": "soft swirls of dough, spice and brown sugar"},
        "Baked in small batches every morning."),
    "Dairy": (("Farmhouse", "Organic", "Alpine", "Jersey", "Pasture-Fed", "Valley"), {
        "Cheddar": "a firm cheese, aged for a sharp, nutty bite",
        "Greek Yogurt": "thick, strained and gently tangy",
        "Butter": "churned from cream, lightly salted",
        "Whole Milk": "creamy milk, bottled the day it was milked",
        "Mozzarella": "soft and milky, for salads and pizza",
        "Brie": "a mellow cheese with a velvety rind"},
        "From herds that graze outdoors."),
    "Snacks": (("Crunchy", "Lightly Salted", "Roasted", "Spiced", "Honey-Glazed", "Smoky"), {
        "Almonds": "whole almonds, a handful at a time",
        "Cashews": "buttery cashews, roasted in small batches",
        "Popcorn": "air-popped and tossed to order",
        "Pretzels": "twisted and baked until crisp",
        "Trail Mix": "nuts, seeds and dried fruit for the road",
        "Potato Chips": "thick-cut and kettle-cooked"},
        "For the desk drawer, the picnic or the sofa."),
    "Condiments": (("Classic", "Spicy", "Smoky", "Garden", "Fiery", "Homestyle"), {
        "Mustard": "stone-ground seeds with a warm kick",
        "Ketchup": "ripe tomatoes cooked down slowly",
        "Salsa": "chunky tomatoes, chilli, lime and coriander",
        "Hot Sauce": "fermented chillies with a lingering heat",
        "Chutney": "fruit and spices simmered into a sticky relish",
        "Pesto": "basil, pine nuts and hard cheese, freshly blended"},
        "Made in small batches, without shortcuts."),
    "Seafood": (("Smoked", "Wild", "Line-Caught", "North Atlantic", "Pacific", "Coastal"), {
        "Salmon Fillet": "rich, pink fillets, skin on",
        "Tuna Steaks": "thick-cut steaks for the grill",
        "Prawns": "sweet, firm prawns, peeled and deveined",
        "Mackerel": "an oily fish full of flavour",
        "Cod Fillet": "flaky white fillets for the pan or the oven",
        "Sardines": "small fish, big taste, packed in olive oil"},
        "From fisheries that are managed for the long run."),
    "Home": (("Nordic", "Rustic", "Classic", "Minimal", "Handmade", "Coastal"), {
        "Scented Candle": "a soy-wax candle that burns for forty hours",
        "Throw Blanket": "a soft woven throw for cold evenings",
        "Table Lamp": "a warm light for a reading corner",
        "Mug": "a sturdy glazed mug that keeps tea hot",
        "Vase": "a glazed vase for a handful of flowers",
        "Cushion": "a plump cushion with a washable cover"},
        "Made to be used every day."),
    "Stationery": (("Classic", "Recycled", "Pocket", "Kraft", "Studio", "Everyday"), {
        "Notebook": "a lay-flat notebook of thick, dotted pages",
        "Fountain Pen": "a smooth steel nib and a converter for bottled ink",
        "Pencil Set": "six graphite grades, from hard to soft",
        "Planner": "a year of weeks, undated, to start any time",
        "Sketchbook": "heavy paper that takes ink and watercolour",
        "Envelopes": "a pack of twenty, with matching cards"},
        "For lists, letters and ideas."),
    "Apparel": (("Linen", "Merino", "Organic Cotton", "Classic", "Relaxed", "Everyday"), {
        "Shirt": "a breathable shirt with a relaxed collar",
        "Scarf": "a soft scarf, long enough to wrap twice",
        "Socks": "cushioned socks, two pairs to a pack",
        "Beanie": "a rib-knit hat for cold mornings",
        "T-Shirt": "a heavyweight tee that keeps its shape",
        "Sweater": "a crew-neck knit for every season"},
        "Made to last, in sizes S to XL."),
}
COLLECTIONS = list(DEMO_CATALOG)
# (description, discount %, first and last day counted from today; None: open-ended)
PROMOTIONS = [("Winter sale", "10", None, None), ("Members' week", "15", -3, 4),
              ("Clearance", "30", None, None), ("Bundle deal", "5", None, None),
              ("New arrival", "0", None, None), ("Summer sale", "20", -120, -90)]
TAGS = ["bestseller", "vegan", "gift", "local", "limited", "eco", "new", "gluten-free"]
FIRST_NAMES = ["Ada", "Alan", "Grace", "Linus", "Margaret", "Guido", "Barbara", "Ken", "Frances",
               "Dennis", "Radia", "Edsger", "Hedy", "Tim", "Sophie", "Yukihiro"]
LAST_NAMES = ["Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Rossum", "Liskov",
              "Thompson", "Allen", "Ritchie", "Perlman", "Dijkstra", "Lamarr", "Berners-Lee",
              "Wilson", "Matsumoto"]
CITIES = ["Lisbon", "Oslo", "Kyoto", "Austin", "Leeds", "Lyon", "Porto", "Graz"]

SHOP_MODELS = [LikedItem, TaggedItem, Tag, CartItem, Cart, OrderItem, Order, Address, Customer,
               ProductPromotion, ProductImageFile, ProductImage, Product, Collection, Promotion]


class SeedRefused(Exception):
    pass


def _progress(label, done, total, stream=sys.stderr):
    """Show progress on a terminal only: a log file gets no carriage-return noise."""
    if stream.isatty():
        stream.write(f"\r  {label}: {done:,}/{total:,}")
        if done >= total:
            stream.write("\n")
        stream.flush()


def _insert_in_batches(model, rows, label, total, batch=10_000):
    """Insert `rows`, dicts with the same keys, as _insert_rows() does."""
    rows = iter(rows)
    first = next(rows, None)
    if first is not None:
        names = list(first)
        _insert_rows(model, names, (tuple(row[name] for name in names)
                                    for row in itertools.chain([first], rows)),
                     label, total, batch)


def _insert_rows(model, names, rows, label, total=None, batch=10_000, convert=True):
    """Insert `rows`, tuples of the fields `names`, fast, a batch at a time. On SQLite the
    INSERT statement is written once and the driver runs it for each row (executemany),
    rather than Peewee writing SQL for every batch, which costs more than the database's own
    work at a million rows. PostgreSQL takes a batch in one COPY: three million INSERTs, even
    sent without waiting for each answer (psycopg's pipeline), took minutes. Without
    `convert`, the values are the driver's already (numbers, text, Decimals, datetimes)."""
    fields = [model._meta.fields[name] for name in names]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    sql = 'INSERT INTO "{}" ({}) VALUES ({})'.format(
        model._meta.table_name, columns, ", ".join([db.param] * len(fields)))
    to_db, done = [field.db_value for field in fields], 0
    for chunk in peewee.chunked(rows, batch):
        if convert:
            chunk = [[f(value) for f, value in zip(to_db, row)] for row in chunk]
        if is_sqlite():
            db.cursor().executemany(sql, chunk)
        else:
            with db.cursor().copy(f'COPY "{model._meta.table_name}" ({columns}) FROM STDIN') \
                    as copy:
                for row in chunk:
                    copy.write_row(row)
        done += len(chunk)
        if total:
            _progress(label, done, total)


def seed(products=1000, customers=None, reset=False, rng_seed=42, orders=None):
    """Load the deterministic demo shop. Refuses to touch a database that has products.
    Without `customers`, one customer for each five `orders` (or a twentieth of the
    products); without `orders`, two a customer."""
    if schema_version() < len(MIGRATIONS):
        migrate()
    if Product.select().exists() and not reset:
        raise SeedRefused("The database already holds products; use --reset to replace them.")
    rng = random.Random(rng_seed)
    customers = customers or (max(50, orders // 5) if orders else
                              max(50, min(products // 20, 2000)))
    orders = customers * 2 if orders is None else orders
    if is_sqlite():     # the indexes of a million rows are built in memory, not on disk
        db.execute_sql("PRAGMA cache_size = -262144")       # 256 MB, for this load only
    try:
        return _seed(products, customers, orders, rng)
    finally:
        if is_sqlite():
            db.execute_sql("PRAGMA cache_size = -2000")     # SQLite's default, 2 MB


def _seed(products, customers, orders, rng):
    now = utcnow().replace(microsecond=0)
    with write_transaction():
        trigrams = is_sqlite() and db.table_exists("customer_search")
        if is_sqlite():         # the search indexes are rebuilt once, after their rows
            search_index_triggers(False)
        if trigrams:
            customer_search_triggers(False)
        sum_triggers(False)     # the load writes the sums itself, with the rows
        for model in SHOP_MODELS:
            model.delete().execute()
        product_ids = _seed_catalog(products, rng, now)
        _seed_photos(product_ids)
        buyers = [rng.randrange(customers) for _ in range(orders)]
        loaded = (Customer, Address, Order, OrderItem)
        with indexes_built_after(*loaded), foreign_keys_checked_after(*loaded):
            customer_ids = _seed_customers(customers, rng, collections.Counter(buyers))
            if trigrams:
                db.execute_sql("INSERT INTO customer_search(customer_search) VALUES ('rebuild')")
                customer_search_triggers(True)
            _seed_orders([customer_ids[n] for n in buyers], product_ids, rng, now)
        sum_triggers(True)
    analyze(vacuum=True)
    return {"products": products, "customers": customers, "orders": orders}


@contextlib.contextmanager
def indexes_built_after(*models):
    """Drop the indexes of `models` for a load, and build them again after it: an index made
    from a million rows at once is a sort, quicker than a million inserts into it."""
    indexes = {name: create for model in models
               for name, create in _index_statements(model).items()}
    for name in indexes:
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    yield
    for create in indexes.values():
        db.execute_sql(create)


@contextlib.contextmanager
def foreign_keys_checked_after(*models):
    """On PostgreSQL, drop the foreign keys of `models` for a load and add them again after
    it. Each row's check is a lookup of its own, 53 of the 57 s that 2.5 million order items
    take to insert; adding a key checks every row at once, by a join. (In the load's
    transaction: if it fails, the keys come back with everything else.)"""
    keys = [] if is_sqlite() else db.execute_sql(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
        ([f'"{model._meta.table_name}"' for model in models],)).fetchall()
    for table, name, _ in keys:
        db.execute_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    yield
    for table, name, definition in keys:
        db.execute_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def _seed_promotions(today):
    """The demo promotions, dated from `today`: [(id, the discount it gives today)]."""
    promotions = []
    for description, discount, first, last in PROMOTIONS:
        promotion = Promotion.create(
            description=description, discount=Decimal(discount),
            starts_on=today + datetime.timedelta(days=first) if first is not None else None,
            ends_on=today + datetime.timedelta(days=last) if last is not None else None)
        promotions.append((promotion.id, promotion.discount if promotion.is_current else 0))
    return promotions


def _seed_catalog(products, rng, now):
    """Promotions, collections, products (indexed for search), their tags: the products' ids."""
    promotions = _seed_promotions(now.date())
    collection_ids = [Collection.insert(title=t).execute() for t in COLLECTIONS]
    step = max(1, products // max(1, products // 10))
    links = []              # (product number, promotion id): every step-th product has one

    words = _demo_words(collection_ids)

    def product_rows():
        for n in range(1, products + 1):
            collection_id, kinds, things = rng.choice(words)
            thing, description = rng.choice(things)
            title = f"{rng.choice(kinds)} {thing} No. {n}"
            unit_price = Decimal(rng.randint(100, 20000)) / 100 + 1
            discount = 0
            if (n - 1) % step == 0:     # the price is worked out here: no second pass
                promotion, discount = rng.choice(promotions)
                links.append((n, promotion))
            yield {
                "title": title, "slug": slugify(title), "description": description,
                **searched_text({"title": title, "description": description}),
                "unit_price": unit_price, "price": price_after(unit_price, discount),
                "inventory": rng.choice([0, 3, 8, 12, 25, 40, 75, 100]),
                "last_update": now - datetime.timedelta(minutes=rng.randint(0, 60 * 24 * 90)),
                "collection": collection_id,
            }
    _insert_in_batches(Product, product_rows(), "products", products)
    if is_sqlite():
        db.execute_sql("INSERT INTO product_search(product_search) VALUES ('rebuild')")
        search_index_triggers(True)
    first_id = Product.select(fn.MIN(Product.id)).scalar()
    product_ids = range(first_id, first_id + products)

    _insert_in_batches(ProductPromotion, (
        {"product": first_id + n - 1, "promotion": promotion} for n, promotion in links),
        "promotions", len(links))
    _seed_featured_and_tags(collection_ids, product_ids, rng)
    return product_ids


def _demo_words(collection_ids):
    """[(collection id, its kinds, [(thing, description)])], from DEMO_CATALOG."""
    return [(collection_id, kinds, [(thing, f"{line[0].upper()}{line[1:]}. {ending}")
                                    for thing, line in things.items()])
            for collection_id, (kinds, things, ending) in zip(collection_ids,
                                                              DEMO_CATALOG.values())]


def _seed_featured_and_tags(collection_ids, product_ids, rng):
    """Each collection features its first product; some products get a tag."""
    for collection_id in collection_ids:
        featured = (Product.select(Product.id).where(Product.collection == collection_id)
                    .order_by(Product.id).limit(1).scalar())
        Collection.update(featured_product=featured).where(
            Collection.id == collection_id).execute()
    tag_ids = [Tag.insert(label=label).execute() for label in TAGS]
    tagged = product_ids[::max(1, len(product_ids) // 500)]
    _insert_in_batches(TaggedItem, (
        {"tag": rng.choice(tag_ids), "content_type": "product", "object_id": pid}
        for pid in tagged), "tags", len(tagged))


# The demo's photos are drawn, not downloaded: the collection's colour and shape, and the
# title's first letter. Drawings are shared by the products that would look the same, and
# only the first SEED_PHOTOS products get one: a million would take minutes and gigabytes.
SEED_PHOTOS = 1000
DEMO_COLOURS = [("#ccfbf1", "#5eead4", "#115e59"), ("#fef3c7", "#fbbf24", "#78350f"),
                ("#ffe4e6", "#fb7185", "#881337"), ("#e0e7ff", "#818cf8", "#312e81"),
                ("#dcfce7", "#4ade80", "#14532d"), ("#ffedd5", "#fb923c", "#7c2d12"),
                ("#e0f2fe", "#38bdf8", "#0c4a6e"), ("#f3e8ff", "#c084fc", "#581c87"),
                ("#fae8ff", "#e879f9", "#701a75"), ("#ecfccb", "#a3e635", "#365314")]


def draw_demo_photo(letter, shade, side=400):
    """A demo product photo: on the colours of a collection's lettered tile (`shade`, its id
    modulo 10), a shape standing on its shadow, with `letter` on it."""
    from PIL import Image, ImageDraw, ImageFont     # (as in read_photo)
    light, mid, dark = DEMO_COLOURS[shade]
    image = Image.new("RGB", (side, side), light)
    draw, s = ImageDraw.Draw(image), side / 100
    draw.ellipse((16 * s, 82 * s, 84 * s, 92 * s), fill=mid)
    box = (20 * s, 14 * s, 80 * s, 76 * s)
    [lambda: draw.ellipse(box, fill=mid),
     lambda: draw.rounded_rectangle(box, radius=9 * s, fill=mid),
     lambda: draw.polygon([(50 * s, 10 * s), (84 * s, 76 * s), (16 * s, 76 * s)], fill=mid),
     ][shade % 3]()
    draw.text((50 * s, 50 * s), letter, fill=dark, anchor="mm",
              font=ImageFont.load_default(size=round(30 * s)))
    return image


@functools.lru_cache(maxsize=None)     # drawn once per process (the tests seed many times)
def _demo_photo(letter, shade):
    image = draw_demo_photo(letter, shade)
    files = _encode_sizes(image)
    return Photo(letter, hashlib.sha256(files["original"]).hexdigest()[:16], image.width,
                 image.height, files)


def _seed_photos(product_ids):
    """A drawn photo for each of the first SEED_PHOTOS products."""
    drawn, drawing_of = {}, {}      # (letter, shade) -> Photo; product id -> (letter, shade)
    first = product_ids[:SEED_PHOTOS]
    rows = Product.select(Product.id, Product.title, Product.collection).where(
        Product.id.between(first[0], first[-1])) if first else []
    for product in rows:
        # The thing's letter ("Alpine Brie No. 14": B), on its collection's colours and shape.
        thing = product.title.rsplit(" No. ", 1)[0].split()[-1]
        key = drawing_of[product.id] = (thing[:1].upper(), product.collection_id % 10)
        drawn[key] = _demo_photo(*key)
    _insert_in_batches(ProductImage, ({
        "product": pid, "photo": drawn[key].digest, "position": 0,
        "alt": f"A drawing of the letter {key[0]}", "width": drawn[key].width,
        "height": drawn[key].height} for pid, key in drawing_of.items()),
        "photos", len(drawing_of), batch=500)
    images = ProductImage.select(ProductImage.id, ProductImage.product).tuples()
    _insert_in_batches(ProductImageFile, (
        {"image": image_id, "size": size, "data": data} for image_id, pid in images
        for size, data in drawn[drawing_of[pid]].files.items()),
        "photo files", len(drawing_of) * (len(PHOTO_SIZES) + 1), batch=500)


def _seed_customers(customers, rng, orders_of):
    """Customers with an address each, the n-th with orders_of[n] orders: their ids."""
    def customer_rows():
        for n in range(1, customers + 1):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            yield {"first_name": first, "last_name": last,
                   "email": f"{first}.{last}.{n}@example.com".lower(),
                   "phone": f"555-{rng.randint(1000, 9999)}",
                   "birth_date": datetime.date(rng.randint(1950, 2005), rng.randint(1, 12),
                                               rng.randint(1, 28)),
                   "membership": rng.choice("BBBSSG"), "order_count": orders_of[n - 1]}
    _insert_in_batches(Customer, customer_rows(), "customers", customers)
    first_customer = Customer.select(fn.MIN(Customer.id)).scalar()
    customer_ids = range(first_customer, first_customer + customers)
    _insert_in_batches(Address, (
        {"street": f"{rng.randint(1, 200)} {rng.choice(LAST_NAMES)} Street",
         "city": rng.choice(CITIES), "zip": f"{rng.randint(10000, 99999)}", "customer": cid}
        for cid in customer_ids), "addresses", customers)
    return customer_ids


def _seed_orders(buyers, product_ids, rng, now, chunk=20_000):
    """An order for each customer id of `buyers`, placed in turn over the last 45 days or,
    past 22,500 orders, 500 a day; each of one to four of the first products in a row. The
    orders are made a chunk at a time, their items after them: memory stays flat."""
    span = datetime.timedelta(days=max(45, len(buyers) // 500))
    prices = [(pid, price, unit_price if price < unit_price else None)
              for pid, price, unit_price in Product.select(
                  Product.id, Product.price, Product.unit_price).where(
                  Product.id.in_(list(product_ids[:2000]))).order_by(Product.id).tuples()]
    first_order = (Order.select(fn.MAX(Order.id)).scalar() or 0) + 1
    for start in range(0, len(buyers), chunk):
        orders, items = [], []
        for n, customer_id in enumerate(buyers[start:start + chunk], start=start):
            first, lines = rng.randrange(len(prices)), rng.randint(1, min(4, len(prices)))
            quantities = rng.choices(range(1, 6), k=lines)
            chosen = [prices[(first + k) % len(prices)] for k in range(lines)]
            items += [(first_order + n, pid, q, price, list_price)
                      for (pid, price, list_price), q in zip(chosen, quantities)]
            orders.append((first_order + n, now - span + span * (n / len(buyers)),
                           rng.choice("PCCCF"), customer_id,
                           sum(line[1] * q for line, q in zip(chosen, quantities)),
                           sum(quantities)))
        _insert_rows(Order, ("id", "placed_at", "payment_status", "customer", "total",
                             "item_count"), orders, "orders", convert=False)
        _insert_rows(OrderItem, ("order", "product", "quantity", "unit_price", "list_price"),
                     items, "order items", convert=False)
        _progress("orders", start + len(orders), len(buyers))
    if not is_sqlite():     # the ids were given: the sequence goes on after them
        db.execute_sql("SELECT setval(pg_get_serial_sequence('\"order\"', 'id'), "
                       "(SELECT MAX(id) FROM \"order\"))")


###############################################################################
# 11. Common passwords
###############################################################################

# The 1,000 most common passwords that the other rules of password_problems() would let
# through (8 characters or more, not all digits), most common first: the head of the list
# Django's CommonPasswordValidator uses (after Royce Williams' list of breached passwords).
COMMON_PASSWORDS = frozenset("""
password password1 iloveyou 1q2w3e4r5t qwertyuiop 1qaz2wsx myspace1 homelesspa 1q2w3e4r
qwerty123 target123 1g2w3e4r zag12wsx gwerty123 asdfghjkl princess computer football 1234qwer
sunshine iloveyou1 fuckyou1 princess1 abcd1234 passer2009 superman football1 jordan23 12qwaszx
baseball 123456789a q1w2e3r4t5y6 fqrg7cs493 michael1 blink182 qwer1234 linkedin babygirl1
q1w2e3r4 michelle liverpool j38ifubn iloveyou2 jennifer babygirl jessica1 fuckyou2 anthony1
qazwsxedc trustno1 baseball1 basketball passw0rd samantha chocolate asdf1234 qwerty12 charlie1
pakistan superman1 asshole1 butterfly fuk19600 sunshine1 internet alexander 1qaz2wsx3edc
29rsavoy 3rjs1la7qe whatever qweasdzxc 1qazxsw2 hello123 password12 password2 starwars
q1w2e3r4t5 brandon1 vqsablpzla jonathan 12345qwert cjmasterinf a123456789 christian yuantuo2012
sojdlg123aljg mercedes victoria matthew1 million2 benjamin diosesfiel dpbk1234 pe#5gz29ptzmse
elizabeth barcelona zaq12wsx computer1 michelle1 william1 welcome1 jasmine1 slipknot liverpool1
metallica chicken1 spiderman tinkerbell qwerty12345 pokemon1 butterfly1 nicholas 123qweasd
danielle asdfasdf juventus chelsea1 chocolate1 a838hfid 1234567a freedom1 america1 qwertyui
jennifer1 111222tianya 1234abcd cocacola madison1 1password november samantha1 elizabeth1
mustang1 password123 diamond1 myspace123 qqww1122 whatever1 valentina hellokitty super123
1q2w3e4r5t6y a1b2c3d4 startfinding n0=acc3ss spongebob1 alexandra december patricia friends1
123hfjdk147 beautiful carolina 123456789q heather1 sebastian midnight caroline elephant
yankees1 scorpion bubbles1 fuckoff1 patrick1 lovelove cowboys1 veronica yagjecc826 iw14fi9j
september melissa1 alexander1 spongebob raiders1 qazwsx123 stephanie zxcvbnm1 iloveyou!
precious a1234567 poohbear manchester cristina jackson1 aa123456 newyork1 asdfghjkl1 richard1
monster1 destiny1 blessed1 slipknot1 emmanuel spiderman1 maverick charlotte creative softball
beautiful1 brittany kristina garfield 3odi15ngxb 421uiopy258 scooter1 1a2b3c4d steelers
isabella 123456abc myspace2 12345678a kimberly qwert123 snickers forever1 icecream cameron1
california metallica1 samsung1 1v7upjw3nt brittany1 bismillah babyboy1 qwerty123456 christian1
letmein1 danielle1 leonardo christine gangsta1 password! arsenal1 swordfish uqa9ebw445
iloveyou12 fernando qwerty1234 hardcore twilight marlboro sz9kqcctwy dolphin1 rockstar
abc123456 123qwe123 starwars1 greenday loveyou1 tiffany1 angelina d2xyw89sxj courtney playboy1
crystal1 darkness alejandro corvette marseille friendster lollipop password3 jonathan1 brooklyn
motorola nicholas1 angel123 jackass1 portugal rainbow1 poohbear1 snowball justinbieb
123qweasdzxc iloveme1 3d8cubaj2e shannon1 logitech pa55word remember catherine victoria1
popcorn1 ihateyou isabelle lakers24 lizottes steelers1 password. p3rat54797 aaaaaaaa blessing
rockstar1 peaches1 florida1 superstar love4ever goodluck asdfghjk thunder1 changeme santiago
strawberry happy123 abcdefg1 bigdaddy satan666 qwert12345 iverson3 vanessa1 svetlana chester1
bullshit yourmom1 christopher loverboy fyfcnfcbz fuckyou! azertyuiop rush2112 angelica
midnight1 12345qwerty love1234 williams babygurl1 sunflower sweetpea greenday1 charles1
undertaker precious1 evildick a12345678 brooklyn1 paradise sweetheart abc12345 money123
stephanie1 shopping lebron23 kawasaki inuyasha fktrcfylh vladimir christina linkinpark facebook
soccer12 polniypizdec0211 dolphins scarface maryjane qq123456 giovanni zxcvbnm123 career121
australia soccer10 password11 ig4abox4 realmadrid rebecca1 asdasdasd westside brianna1 qw123321
southside1 getmoney1 francesco ronaldo7 123456aa savannah sterling warcraft jesus123 monkey123
chicago1 courtney1 bigdaddy1 mahalkita valentin awesome1 teddybear cjkysirj apple123 alessandro
gabriel1 gateway1 bestfriend champion nintendo volleyball qwerasdf hollister1 password7
element1 chouchou passwort francesca natalie1 fishing1 princess12 abcdefgh w5txn36alfw bitch123
mariposa gabriela cheyenne zachary1 happiness veronika antonio1 blahblah babygirl12 monkey12
engineer pass1234 virginia estrella simpsons anderson chris123 princesa grandma1 twilight1
bitches1 scarface1 godisgood giuseppe aleksandr abcdefg123 softball1 pumpkin1 kingkong
vkontakte loveyou2 benjamin1 ladybug1 hallo123 adgjmptw cookies1 florence margarita children
skittles fuckyou123 cristian soccer11 123456qwerty serenity hollywood mamapapa password01
zzzzzzzz 2012comeer panasonic password5 business inuyasha1 colorado rangers1 minecraft
microsoft sabrina1 amoremio p@ssw0rd harrypotter nirvana1 asdasd123 gangster n8zgt5p0shw=
internet1 airforce1 sample123 groupd2013 flowers1 icecream1 vrbgqns997 christmas dbrnjhbz
superstar1 drowssap kathleen bulldog1 cupcake1 christina1 lasvegas westside1 qti7zxh18u
frankie1 babydoll poiuytrewq megaparol12345 johncena1 redneck1 marshall terminator rammstein
truelove security jackson5 football12 india123 september1 snickers1 myspace! admin123
123456789m 1qaz1qaz shithead 123456789z scotland a1s2d3f4 welcome123 motdepasse kimberly1
alexandre killer123 spencer1 phoenix1 zaq1xsw2 runescape1 francisco chocolat jesus777 asdfjkl:
casanova carpediem mitchell franklin stonecold iloveyou. alejandra christophe rhbcnbyf
jesuschrist handsome muhammad aaaaaaaaaa maxwell1 g9l2d1fzpy margaret anastasia babygirl2
savannah1 sweetie1 platinum 1234567q idontknow passport d1lakiss katherine hotmail1 wolverine
diwtgm8492 patches1 jamesbond snowball1 cutiepie gangster1 valentine cambiami hercules anhyeuem
beatrice green123 trouble1 comeon11 myspace12 goldfish james123 maradona winston1 asdfghjkl:
lawrence amsterdam diamonds mercedes1 bulldogs soccer13 dragonball 1234asdf yahoo.com
hollywood1 forever21 success1 test1234 trinity1 einstein princess2 omsairam harrison onelove1
ihateyou1 buttercup cocacola1 johncena nathalie 1qa2ws3ed infinity soccer123 wordpass timothy1
runescape argentina stargate penelope hahahaha scoobydoo stephen1 redskins georgia1 zxcv1234
colombia swimming orlando1 jacket025 dinosaur nonmember lacrosse ciaociao qwerty321 digital1
maryjane1 nothing1 ilovegod thuglife trfnthbyf asdqwe123 summer08 paintball1 pokemon123
football2 sexybitch1 sureno13 kittycat password4 telechargement cleopatra tequiero shithead1
gordon24 qweasd123 bullshit1 qazwsx12 sebastian1 ilovejesus david123 monique1 godzilla butthead
elephant1 cutiepie1 baseball12 katerina password13 sexygirl1 youbye123 porsche1 martinez
buddy123 pineapple panthers peterpan pa55w0rd allison1 teddybear1 birthday houston1 startrek
fuckyou69 vincent1 federico napoleon mountain smoke420 qazxswedc friendship golfcourse babygurl
mohammed charmed1 chopper1 drummer1 iloveme2 music123 michigan packers1 wildcats x4ivyga51f
skittles1 isabella1 christine1 raymond1 bradley1 naruto123 qwe12345 9-11-1961 asd123456
catalina iloveyou3 123456789s spitfire something panther1 barcelona1 bluebird 6hbf28w791
sexygirl vampires pussycat charlotte1 strength moonlight carolina1 cdtnkfyf myspace. 1loveyou
hardcore1 firebird fordf150 johnson1 tnk0mk16vx medicine password10 h1xp2z2duk drpepper
baseball2 password0 spartan117 ilovehim1 yfdbufnjh10305070 blackberry mypassword dragon123
guinness tiger123 darkangel salvador natasha1 ferrari1 lilwayne1 melanie1 jaimatadi thebest1
qwerty11 abigail1 indonesia pebbles1 predator dearbook aobo2010 genesis1 cassandra lovelife
penguin1 devil666 personal skateboard alabama1 aquarius sporting ka_djkhjsy6 montana1 cooldude
remember1 fuku00198 fernanda bearshare newport1 jeremiah 1234567890q fuckme69 alejandro1
123qwerty budlight1 lorraine asdfasdf1 capricorn blondie1 evony192 cherokee mexican1 vampire1
blablabla darkness1 aaliyah1 kenneth1 babyblue 12qw23we assassin wrestling1 daniel123 veronica1
westlife cricket1 summer09 dragons1 dickhead azerty123 sk84life formula1 testtest watermelon
defender explorer dragon12 babylove federica dumbass1 passer2011 myspace3 monalisa agent007
dominique sapphire password9 killer12 alexandra1 papillon teacher1 cheyenne1 monkeys1 dolphins1
miranda1 jeffrey1 tokiohotel kissmyass sebastien england1 wangyut2 ekaterina lucky123 wrestling
pitbull1 death666 lollipop1 shadow12 getmoney salvatore 123456asd jamaica1 panthers1 idontknow1
blahblah1 american special1 123456789j loverboy1 1myspace 123456qwe kkkkkkkk abcde12345
dodgers1 1princess karolina justice1 iloveyou7 kitty123 dragonfly bluefish nightmare
qazwsxedcrfv bollocks sweetpea1 thailand dalejr88 broncos1 bulldogs1 qweqweqwe buttercup1
master123 dominic1 password00 babydoll1 lindsey1 hotstuff ronaldinho loser123 password8
stellina summer07 february candy123 newlife1 redwings justdoit aspirine fireball lilmama1
valentino geronimo lovebug1 password22 rolltide password69 godislove yousuck1 pakistan1
qawsedrf viktoria mommy123 charlene shadow123 scorpio1 valencia creative1 sk8ordie josephine
atlanta1 ohmnamah23 123456789k molly123 vacation jellybean yankees2 ladygaga bella123 sexymama1
0.00000000 a1b2c3d4e5 pavilion barbara1 liberty1 y6p67ftrqj dickhead1 redskins1 october1
warcraft1 kristen1 sammy123 drpepper1 schalke04 stratfor lover123 shamrock prettygirl insanity
naruto12 christmas1 scarlett soccer14 eternity tottenham pantera1 fountain starcraft newcastle
ragnarok 5hsu75kpot lollypop rosemary qwerqwer illinois chandler magnolia patricia1 zxasqw12
gabrielle enterprise akopa123 123456789d andromeda warrior1 paramore lionking budlight
sunflower1 cinderella blueeyes istanbul michael2 hamilton november1 porsche911 passion1
1234567890a stardust cookie123 education alessandra patriots marines1 antonella ocpoook325
gregory1 my2girls casablanca michigan1 vikings1 punkrock qazwsxedc1 bettyboop yahoo123
billabong qwe123qwe marketing swordfish1
""".split())


###############################################################################
# 12. Look-alike letters
###############################################################################

# The letters that pass for Latin letters or digits, each under the letters it passes for:
# Unicode's table of confusables for TR39 (confusables.txt, version 17.0), cut down to
# what a username can hold and what a name is told apart by here. Of its 6,565 lines, these
# are the 461 that map a character a username may contain (a letter or digit that NFKC leaves
# as it is) to Latin letters and digits. skeleton() reads them. (No small package on PyPI
# computes skeletons: those there list look-alikes pairwise, or need ICU's C library.)
LOOKALIKES = {
    "2": "ꝚƧϨꙄᒿꛯ", "3": "३૩ꞫȜƷꝪⲜⳄⳌЗӠ𖼻𑣊", "4": "Ꮞ𑢯", "5": "Ƽ𑢻", "6": "ⳓⳒϬⳜбᏮ𑣕", "7": "𐓒𑣆",
    "8": "৪੪𞣋ȣȢ𐌚", "9": "੧୨৭൭ꝮⳋⳊ𑣌𑢬𑣖", "A": "ΑАᎪᗅꓮ𖽀𐊠", "a": "ɑαа", "AA": "Ꜳ", "aa": "ꜳ",
    "AE": "ÆӔ", "ae": "æӕ", "AO": "Ꜵ", "ao": "ꜵ", "AU": "Ꜷ", "au": "ꜷ", "AV": "ꜸꜺ", "av": "ꜹꜻ",
    "AY": "Ꜽ", "ay": "ꜽ", "B": "ꞴΒⲂВᏴᗷꓐ𐊂𐊡𐌁", "b": "ƄЬᏏᑲᖯ", "bl": "Ы", "C": "𑣩𑣲ⲤСᏟꓚ𐊢𐌂𐐕𐔜",
    "c": "ᴄⲥсငၚꮯ𐐽", "D": "Ꭰᗞᗪꓓ", "d": "ԁᏧᑯꓒ", "dz": "ʣ", "E": "ΕЕⴹᎬꓰ𑢦𑢮𐊆", "e": "ꬲеҽ",
    "F": "ꞘϜᖴꓝ𑣂𑢢𐊇𐊥𐔥", "f": "ꬵꞙƒẝք", "G": "ԌᏀᏳꓖ", "g": "ɡᶃƍց", "H": "ΗⲎНᎻᕼꓧ𐋏", "h": "һհᏂ",
    "i": "ıɪɩιⲓіꙇւꭵᎥ𑣃", "J": "ꞲͿЈᎫᒍꓙ", "j": "ϳј", "K": "ΚⲔКᏦᛕꓗ𐔘", "L": "ⳐᏞᒪꓡ𖼖𑢣𑢲𐐛𐔦",
    "l": "1١۱𐌠𞣇IƖǀΙⲒІӏӀוןاߊⵏᛁꓲ𖼨𐊊𐌉", "ll": "ǁװ", "lO": "Ю", "ls": "ʪ", "lz": "ʫ",
    "M": "ΜϺⲘМᎷᗰᛖꓟ𐊰𐌑", "N": "ΝⲚꓠ𐔓", "n": "ոռ", "O": "0߀೦〇𑣠ΟⲞОՕⵔዐଠ𐓂ꓳ𑢵𐊒𐊫𐐄𐔖",
    "o": "०০੦૦୦௦౦൦๐໐၀០𑓐٥۵ᴏᴑꬽοσⲟϭоჿօסهھہەഠဝ𐓪𑣈𑣗𐐬", "OE": "Œ", "oe": "œ", "OO": "ꝎꚘ", "oo": "ꝏꚙ",
    "P": "ΡⲢⳎРᏢᑭꓑ𐊕", "p": "þƿρϸⲣⳏр", "Q": "ⵕ", "q": "ԛգզ", "R": "ƦᎡᏒ𐒴ᖇꓣ𖼵", "r": "ꭇꭈᴦⲅгꮁ",
    "rn": "𑣣m𑜀", "S": "ЅՏᏕᏚꓢ𖼺𐊖𐐠", "s": "ꜱƽѕടꮪ𑣁𐑈", "T": "ΤⲦТᎢꓔ𖼊𑢼𐊗𐊱𐌕", "T3": "Ꜩ", "tf": "ꝷ",
    "ts": "ʦ", "U": "Սሀ𐓎ᑌꓴ𖽂𑢸", "u": "ꞟᴜꭎꭒʋυս𐓶𑣘", "ue": "ᵫ", "uo": "ꭣ", "V": "٧۷ѴⴸᏙᐯꛟꓦ𖼈𑢠𐔝",
    "v": "ᴠνѵט𑜆ꮩ𑣀", "W": "𑣦𑣯ԜᎳᏔꓪ", "w": "ɯᴡⲽѡшԝա𑜊𑜎𑜏ꮃ", "X": "𐌢𑣬ꞳΧⲬХⵝᚷꓫ𐊐𐊴𐌗𐔧", "x": "хᕁᕽ",
    "Y": "ΥⲨУҮᎩᎽꓬ𖽃𑢤𐊲", "y": "ɣᶌʏỿꭚγⲩуүყ𑣜", "Z": "𑣥𐋵ΖᏃꓜ𑢩", "z": "ᴢꮓ𑣄",
}

# Small capitals pass for capitals, but case-folding leaves them as they are and TR39 lists
# only some (ᴄ, ɪ, ᴏ...): each of the others counts as its letter.
SMALL_CAPITALS = dict(zip("ᴀʙᴅᴇꜰɢʜᴊᴋʟᴍɴᴘꞯʀᴛ", "abdefghjklmnpqrt"))

_SKELETON = {ord(char): letters for letters, chars in LOOKALIKES.items() for char in chars}
_SKELETON.update({ord(char): _SKELETON.get(ord(letter), letter)       # ᴍ is m, and m is rn
                  for char, letter in SMALL_CAPITALS.items()})
