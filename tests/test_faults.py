"""When a part of the deployment fails (part 15 of app.py): Redis gone or frozen, the database
stopped or unreachable, a full disk. Pages that can do without it are served, what needs it is a
clear 503, nothing is a 500 or hangs, and the log says it once per interval; /healthz and /readyz
tell an operator.

Redis and PostgreSQL servers of the tests' own are started where redis-server and initdb are
installed (the tests that need them are skipped otherwise); a Redis that is gone is a port where
nothing listens, a frozen one a port that takes connections and never answers. A network cut off
from the tests' own PostgreSQL is made with iptables, by root only, on that server's port only.
"""
import contextlib
import errno
import http.client
import itertools
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest
from peewee import OperationalError

import app as storefront
import models
from conftest import PASSWORD, new_client
from models import CartItem, Product

PAGES = ["/", "/products", "/products?q=a", "/collections", "/products/1", "/collections/1"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def no_faults_yet():
    """Each test starts with no fault logged and no Redis left alone."""
    storefront._faults.clear()
    storefront._sessions.retry_at = 0
    yield
    storefront._faults.clear()
    storefront._sessions.retry_at = 0


@pytest.fixture
def dead_redis():
    return f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture
def frozen_redis():
    """A port that takes connections (the kernel does) and never answers: a Redis under
    SIGSTOP, as far as a client can tell."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(128)
        yield f"redis://127.0.0.1:{s.getsockname()[1]}/0"


class OwnRedis:
    """A redis-server of the test's own that it can stop, start and freeze."""

    def __init__(self):
        self.port, self.process = free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--bind", "127.0.0.1"], stdout=subprocess.DEVNULL)
        client = models.load_driver("redis").Redis(port=self.port)
        for _ in range(100):
            with contextlib.suppress(Exception):
                client.ping()
                return
            time.sleep(0.05)

    def stop(self):
        self.process.terminate()
        self.process.wait(10)

    def freeze(self, frozen=True):
        self.process.send_signal(signal.SIGSTOP if frozen else signal.SIGCONT)


@pytest.fixture
def own_redis():
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server")
    redis = OwnRedis()
    redis.start()
    yield redis
    redis.freeze(False)
    redis.stop()


@pytest.fixture
def deploy(settings, shop):
    """deploy(cache_url=..., session_url=...): a client of the app built again with those
    settings changed (on the test's database, which holds the small shop)."""
    def make(**changed):
        for name, value in changed.items():
            setattr(settings, name, value)
        return new_client(storefront.build(settings))
    yield make
    storefront.background_done()
    models.db.close()


@pytest.fixture
def fault_lines(caplog):
    """The fault lines logged so far: lines(cause) -> their texts."""
    caplog.set_level(logging.INFO, logger="storefront")
    return lambda cause="": [r.getMessage() for r in caplog.records
                             if r.getMessage().startswith(f"Unavailable: the {cause}")]


def statuses_of(client, paths):
    return {path: client.get(path, expect_errors=True).status_int for path in paths}


def add_to_cart(client, product_id, quantity="1", status="*"):
    page = client.get(f"/products/{product_id}")
    form = next(f for f in page.forms.values() if f.action == "/cart/items")
    form["quantity"] = quantity
    return form.submit(status=status)


def in_stock(count=3):
    """Ids of products that have stock to spare."""
    return [p.id for p in Product.select(Product.id).where(Product.inventory >= 10)
            .order_by(Product.id).limit(count)]


def log_in(client, username="alice", status=303):
    form = client.get("/accounts/login").forms["login-form"]
    form["username"], form["password"] = username, PASSWORD
    return form.submit(status=status)


def cart_of(client):
    """{product id: quantity} of the cart page."""
    page = client.get("/cart")
    return {int(p): int(q) for p, q in re.findall(
        r'id="qty-(\d+)" type="number" name="quantity" value="(\d+)"', page.text)}


# --- The cache's Redis -------------------------------------------------------------------

def test_without_the_caches_redis_pages_are_made_and_redis_is_tried_once_per_interval(
        deploy, dead_redis, fault_lines, monkeypatch):
    client = deploy(cache_url=dead_redis)
    tries = []
    read = storefront._read_redis_generations
    monkeypatch.setattr(storefront, "_read_redis_generations",
                        lambda tags: tries.append(1) or read(tags))
    rounds = 3
    for _ in range(rounds):
        assert set(statuses_of(client, PAGES).values()) == {200}
    assert len(tries) == 1, "a dead Redis is tried once per interval, not once per request"
    assert len(fault_lines("cache")) == 1
    storefront._generations["breaker"].retry_at = time.monotonic() - 1    # the interval is over
    client.get("/")
    assert len(tries) == 2


def test_a_frozen_caches_redis_costs_one_short_timeout_per_interval(deploy, frozen_redis):
    client = deploy(cache_url=frozen_redis)
    answered, started = [], time.monotonic()

    def browse():
        answered.extend(client.get(path).status_int for path in PAGES * 3)
    thread = threading.Thread(target=browse, daemon=True)
    thread.start()
    thread.join(timeout=10)
    took = time.monotonic() - started
    assert answered == [200] * len(PAGES) * 3, "a frozen Redis hangs the pages"
    assert took < 2 * storefront.REDIS_TIMEOUT + 2, f"{len(answered)} pages took {took:.1f} s"


def test_when_the_caches_redis_answers_again_nothing_cached_before_is_served(
        deploy, own_redis):
    client = deploy(cache_url=f"{own_redis.url}/0")
    product = Product.get_by_id(1)
    assert product.title in client.get("/products/1").text        # cached now
    generations = storefront._generations["redis"].hgetall(storefront.GENERATIONS_KEY)
    own_redis.freeze()
    try:
        Product.update(title="Renamed while Redis slept").where(Product.id == 1).execute()
        assert "Renamed while Redis slept" in client.get("/products/1").text
    finally:
        own_redis.freeze(False)
    storefront._generations["breaker"].retry_at = time.monotonic() - 1
    assert "Renamed while Redis slept" in client.get("/products/1").text
    assert storefront._generations["redis"].hgetall(storefront.GENERATIONS_KEY) != generations, \
        "the other processes are told of the write once Redis is back"


def test_pages_cached_before_the_caches_redis_went_down_are_not_served_after(
        deploy, own_redis):
    """Another process wrote while Redis was down, and has not told it yet: this one cannot
    know, so it keeps nothing it cached before."""
    client = deploy(cache_url=f"{own_redis.url}/0")
    assert Product.get_by_id(1).title in client.get("/products/1").text        # cached now
    own_redis.freeze()
    try:
        client.get("/products/2")           # this process finds Redis down
    finally:
        own_redis.freeze(False)
    with models.db.atomic():                # written by "another process", which owes the news
        models.db.execute_sql("UPDATE product SET title = 'Changed elsewhere' WHERE id = 1")
    storefront._generations["owed"] = set()
    storefront._generations["breaker"].retry_at = time.monotonic() - 1
    assert "Changed elsewhere" in client.get("/products/1").text


# --- The session store ---------------------------------------------------------------------

def test_without_the_session_store_anonymous_visitors_browse_and_sessions_get_a_503(
        deploy, dead_redis, fault_lines):
    client = deploy(session_url=dead_redis)
    assert set(statuses_of(client, PAGES).values()) == {200}
    added = add_to_cart(client, in_stock()[0])
    assert added.status_int == 503 and "session store" in added.text
    client.set_cookie(storefront.SESSION_COOKIE, "a-session-the-store-cannot-find")
    assert set(statuses_of(client, PAGES).values()) == {200}     # seen as everyone sees them
    assert statuses_of(client, ["/cart", "/orders", "/accounts/", "/admin/"]) == dict.fromkeys(
        ["/cart", "/orders", "/accounts/", "/admin/"], 503)
    api = client.get("/api/orders", status=503)
    assert api.json["status"] == 503 and api.headers["Retry-After"]
    assert len(fault_lines("session store")) == 1


def test_a_logged_in_shopper_keeps_the_cart_when_redis_loses_the_sessions(
        deploy, own_redis, make_user):
    client = deploy(session_url=f"{own_redis.url}/1")
    make_user("alice")
    first, second, third = in_stock()
    log_in(client)
    add_to_cart(client, first, "2")
    add_to_cart(client, second)
    cart = cart_of(client)
    assert cart == {first: 2, second: 1}
    own_redis.stop()
    assert client.get("/products").status_int == 200
    assert client.get("/cart", status=503)
    assert add_to_cart(client, third).status_int == 503
    own_redis.start()                       # empty: every session is gone
    storefront._sessions.retry_at = time.monotonic() - 1
    assert cart_of(client) == {}
    log_in(client)
    assert cart_of(client) == cart


def test_a_frozen_session_store_logs_nobody_out(deploy, own_redis, make_user):
    client = deploy(session_url=f"{own_redis.url}/1")
    make_user("alice")
    log_in(client)
    own_redis.freeze()
    try:
        started, pages = time.monotonic(), 8
        for _ in range(pages):
            page = client.get("/products")      # served as to everyone
            assert page.status_int == 200 and "Log out" not in page.text
        took = time.monotonic() - started
        assert took < 4 * storefront.REDIS_TIMEOUT, f"{pages} pages took {took:.2f} s: " \
            "a frozen store is asked once per interval, not once per page"
        client.get("/cart", status=503)
    finally:
        own_redis.freeze(False)
    storefront._sessions.retry_at = time.monotonic() - 1
    assert "Log out" in client.get("/products").text


def test_an_anonymous_cart_joins_the_accounts_cart_at_login(client, shop, make_user):
    make_user("alice")
    first, _, third = in_stock()
    log_in(client)
    add_to_cart(client, first, "2")
    client.post("/accounts/logout", {"csrf_token": _token(client)})
    assert cart_of(client) == {}
    add_to_cart(client, first, "5")
    add_to_cart(client, third)
    log_in(client)
    assert cart_of(client) == {first: 2, third: 1}, "the account's lines stay, new ones join"
    assert models.Cart.select().count() == 1


def _token(client):
    return re.search(r'name="csrf_token" value="([^"]+)"',
                                   client.get("/accounts/login").text).group(1)


def test_session_files_on_a_full_disk_make_a_503_not_a_broken_answer(
        deploy, monkeypatch, fault_lines):
    client = deploy(session_url="")         # sessions in files of the data dir
    from beaker.container import FileNamespaceManager
    closing = FileNamespaceManager.do_close

    def full(self):
        if self.flags in ("c", "w"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return closing(self)
    monkeypatch.setattr(FileNamespaceManager, "do_close", full)
    assert set(statuses_of(client, PAGES).values()) == {200}
    added = add_to_cart(client, in_stock()[0])
    assert added.status_int == 503 and "cannot save right now" in added.text
    assert len(fault_lines("disk")) == 1


# --- The database -----------------------------------------------------------------------

@pytest.fixture
def full_disk(monkeypatch):
    """Every write to the database fails as SQLite's does on a full disk."""
    real = type(models.db.obj).execute_sql

    def execute_sql(self, sql, params=None, *args, **kwargs):
        if sql.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
            raise OperationalError("database or disk is full")
        return real(self, sql, params, *args, **kwargs)
    monkeypatch.setattr(type(models.db.obj), "execute_sql", execute_sql)


def test_on_a_full_disk_the_shop_reads_and_logs_in_and_writes_are_a_clear_503(
        client, shop, make_user, fault_lines, request):
    make_user("alice")
    request.getfixturevalue("full_disk")
    assert set(statuses_of(client, PAGES).values()) == {200}
    log_in(client)                                      # its time is not kept, that is all
    assert "Log out" in client.get("/").text
    added = add_to_cart(client, in_stock()[0])
    assert added.status_int == 503 and "cannot save right now" in added.text
    api = new_client(client.app).post_json("/api/carts", {}, status=503)      # no cookies
    assert api.json["status"] == 503 and "cannot save" in api.json["message"]
    assert len(fault_lines("disk")) == 1


def test_a_fault_is_one_log_line_per_interval(client, shop, fault_lines, request):
    request.getfixturevalue("full_disk")
    failures = 4
    for _ in range(failures):
        assert add_to_cart(client, in_stock()[0]).status_int == 503
    assert len(fault_lines()) == 1
    logged_at, untold = storefront._faults["disk"]
    storefront._faults["disk"] = (logged_at - storefront.FAULT_LOG_EVERY, untold)
    add_to_cart(client, in_stock()[0])
    lines = fault_lines()
    assert len(lines) == 2 and f"{failures - 1} more time(s)" in lines[1], lines


class OwnPostgres:
    """A PostgreSQL server of the tests' own (initdb into a temporary folder)."""

    def __init__(self, folder):
        self.folder, self.port = folder, free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, *command):
        if os.geteuid() == 0:           # PostgreSQL refuses to run as root
            command = ("runuser", "-u", "postgres", "--") + command
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def start(self):
        self.run("pg_ctl", "-D", f"{self.folder}/data", "-w", "-l", f"{self.folder}/log", "-o",
                 f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1", "start")

    def stop(self):
        self.run("pg_ctl", "-D", f"{self.folder}/data", "-m", "immediate", "-w", "stop")


@pytest.fixture(scope="module")
def own_postgres():
    if not shutil.which("initdb") or not shutil.which("pg_ctl"):
        pytest.skip("needs initdb and pg_ctl")
    folder = tempfile.mkdtemp(prefix="storefront-pg-")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    server = OwnPostgres(folder)
    server.run("initdb", "-D", f"{folder}/data", "-U", "postgres", "--auth=trust")
    server.start()
    yield server
    with contextlib.suppress(subprocess.CalledProcessError):
        server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def test_a_stopped_database_is_a_503_and_once_back_costs_no_request(
        deploy, own_postgres, fault_lines):
    client = deploy(database_url=own_postgres.url, session_url="", cache_url="memory")
    models.db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    storefront.build(storefront.settings)
    models.seed(products=20, customers=2)
    models.db.close()
    assert client.get("/products?q=b").status_int == 200
    own_postgres.stop()
    try:
        for path in ("/products?q=c", "/products?q=d", "/api/products"):
            down = client.get(path, status=503)
            assert "database" in down.text
        assert client.get("/healthz").json == {"status": "ok"}
        ready = client.get("/readyz", status=503).json
        assert ready["status"] == "unavailable" and ready["database"] != "ok"
        assert len(fault_lines("database")) == 1
    finally:
        own_postgres.start()
    assert set(statuses_of(client, ["/products?q=e"] + PAGES).values()) == {200}
    assert client.get("/readyz").json == {"status": "ok", "database": "ok"}     # (no Redis)


def test_a_process_that_starts_while_the_database_is_down_answers_503_until_it_is_back(
        settings, monkeypatch, fault_lines):
    from webtest import TestApp
    working = settings.database_url
    monkeypatch.setattr(storefront, "settings", settings)
    settings.database_url = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    application = TestApp(storefront._Application())
    for _ in range(3):
        assert "database" in application.get("/products", status=503).text
    assert len(fault_lines("database")) == 1
    settings.database_url = working
    application.get("/products", status=200)
    models.db.close()


def answered_within(seconds, function, *args, **kwargs):
    """function(*args, **kwargs), which fails the test if it has not returned after `seconds`
    (rather than hang it: the thread is left to end when it can)."""
    outcome = {}

    def run():
        try:
            outcome["result"] = function(*args, **kwargs)
        except BaseException as error:
            outcome["error"] = error
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"no answer within {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


@pytest.fixture
def silent_postgres():
    """The URL of a port that takes connections and never answers: a PostgreSQL stopped with
    SIGSTOP, as far as a client that connects can tell."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(128)
        yield f"postgresql://postgres@127.0.0.1:{s.getsockname()[1]}/none"


def test_a_database_that_never_answers_costs_one_connect_timeout_per_interval(
        settings, monkeypatch, silent_postgres, fault_lines):
    from webtest import TestApp
    monkeypatch.setattr(storefront, "settings", settings)
    settings.database_url = silent_postgres
    application = TestApp(storefront._Application())
    waits = []
    for _ in range(3):
        started = time.monotonic()
        down = answered_within(30, application.get, "/products", status=503)
        waits.append(time.monotonic() - started)
        assert "database" in down.text
    # The first one waits for the connection; the others, within the interval, are told at once.
    assert waits[0] < models.POSTGRESQL_OPTIONS["connect_timeout"] + 2, waits
    assert max(waits[1:]) < 1, waits
    assert len(fault_lines("database")) == 1
    models.db.close()


def test_a_database_url_keeps_the_connection_options_it_sets():
    defaults = models.POSTGRESQL_OPTIONS
    before = models.db.obj
    try:
        database = models.open_database("postgresql://postgres@127.0.0.1:1/shop"
                                        "?connect_timeout=10&max_connections=4")
    finally:
        models.db.initialize(before)
    assert isinstance(database, models.PostgresqlPool)
    assert database.connect_params["connect_timeout"] == 10 and database._max_connections == 4
    assert database.connect_params["tcp_user_timeout"] == defaults["tcp_user_timeout"]
    assert database.connect_params["keepalives_idle"] == defaults["keepalives_idle"]


def test_postgresql_compiles_no_query_to_machine_code(own_postgres, monkeypatch):
    """JIT compiling cost 155 ms on a 45 ms query that stops after a few rows (models.
    POSTGRESQL_OPTIONS): a connection has it off, and keeps the environment's PGOPTIONS,
    which libpq reads only where no options are given."""
    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=12345")
    before = models.db.obj
    try:
        database = models.open_database(own_postgres.url)
        assert database.execute_sql("SHOW jit").fetchone()[0] == "off"
        assert database.execute_sql("SHOW statement_timeout").fetchone()[0] == "12345ms"
    finally:
        models.db.close()
        models.db.initialize(before)


@pytest.fixture
def cut_off(own_postgres):
    """cut_off(): a context in which every packet to and from the tests' own PostgreSQL is
    dropped, as by a network cut or a paused machine (no answer, and no reset). Needs root and
    iptables; the rules name that server's port only, and go at the end of the context."""
    if os.geteuid() != 0 or not shutil.which("iptables") or subprocess.run(
            ["iptables", "-S", "INPUT"], capture_output=True).returncode:
        pytest.skip("needs root and iptables")
    port = str(own_postgres.port)
    assert port != "5432"           # never the machine's own PostgreSQL
    rules = [["INPUT", "-p", "tcp", "--dport", port, "-j", "DROP"],
             ["OUTPUT", "-p", "tcp", "--sport", port, "-j", "DROP"]]

    @contextlib.contextmanager
    def cut():
        stopped = signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # (to `finally`)
        try:
            for rule in rules:
                subprocess.run(["iptables", "-I", *rule], check=True)
            yield
        finally:
            for rule in rules:
                subprocess.run(["iptables", "-D", *rule], capture_output=True)
            signal.signal(signal.SIGTERM, stopped)
    return cut


def test_an_unreachable_database_is_a_503_within_seconds_and_served_again_once_reachable(
        deploy, own_postgres, cut_off, fault_lines):
    client = deploy(database_url=own_postgres.url, session_url="", cache_url="memory")
    models.db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    storefront.build(storefront.settings)
    models.seed(products=20, customers=2)
    models.db.close()
    assert client.get("/products?q=b").status_int == 200     # its connection waits in the pool
    options = models.POSTGRESQL_OPTIONS
    # the pooled connection's check (unanswered), then a new connection (which times out)
    longest = options["tcp_user_timeout"] / 1000 + options["connect_timeout"] + 2
    with cut_off():
        for path in ("/products?q=c", "/api/products", "/products?q=d"):
            down = answered_within(longest, client.get, path, status=503)
            assert "database" in down.text
        ready = answered_within(storefront.READY_TIMEOUT + 1, client.get, "/readyz", status=503)
        assert ready.json["database"] != "ok"
        assert len(fault_lines("database")) == 1
    deadline = time.monotonic() + models.POSTGRESQL_RETRY_EVERY + options["connect_timeout"] + 2
    while client.get("/products?q=e", expect_errors=True).status_int == 503:
        assert time.monotonic() < deadline, "still a 503 with the network back"
        time.sleep(0.2)
    assert set(statuses_of(client, PAGES).values()) == {200}
    assert client.get("/readyz").json == {"status": "ok", "database": "ok"}


@pytest.fixture
def own_database(own_postgres):
    """models.db bound as the shop binds it (open_database) to the tests' own PostgreSQL."""
    before = models.db.obj
    yield models.open_database(own_postgres.url)
    models.db.close_all()
    models.db.initialize(before)


def longest_silence():
    """Seconds after which a connection that hears nothing from the server's machine (not even
    to a keepalive) is given up."""
    options = models.POSTGRESQL_OPTIONS
    return options["keepalives_idle"] + options["keepalives_interval"] + 1


def test_a_query_may_run_longer_than_the_timeouts_that_find_an_unreachable_database(
        own_database):
    options = models.POSTGRESQL_OPTIONS
    seconds = max(options["tcp_user_timeout"] / 1000, longest_silence()) + 1
    assert models.db.execute_sql("SELECT pg_sleep(%s), 42", (seconds,)).fetchone()[1] == 42


def test_a_query_that_runs_when_the_network_is_cut_fails_within_seconds(own_database, cut_off):
    failed = []

    def long_query():
        with contextlib.suppress(OperationalError):
            models.db.execute_sql("SELECT pg_sleep(60)")
            return
        failed.append(time.monotonic())
    query = threading.Thread(target=long_query, daemon=True)
    query.start()
    time.sleep(1)                       # the query runs: sent, and acknowledged
    with cut_off():
        cut_at = time.monotonic()
        query.join(longest_silence() + 2)
        assert failed, "the query still waits on a server cut off"
    assert failed[0] - cut_at > 1       # (it was not refused: the server was silent)


# --- A streamed answer: the CSV export ------------------------------------------------------

@pytest.fixture
def failing_export(monkeypatch):
    """failing_export(rows): the admin's CSV export reads `rows` rows (the shop's, again and
    again) and then the database fails."""
    def fail_after(rows):
        real = storefront.export_lines

        def export_lines(*args):
            yield from itertools.islice(itertools.cycle(list(real(*args))), rows)
            raise OperationalError("server closed the connection unexpectedly")
        monkeypatch.setattr(storefront, "export_lines", export_lines)
    return fail_after


def test_an_export_whose_database_fails_before_it_starts_is_a_503(
        client, shop, login_as, failing_export, fault_lines):
    login_as("boss", is_staff=True, is_superuser=True)
    failing_export(rows=0)
    down = client.get("/admin/product/export.csv", status=503)
    assert "database" in down.text and down.headers["Retry-After"]
    assert len(fault_lines("database")) == 1


@pytest.fixture
def served(wsgi):
    """The app served as `python app.py` serves it (waitress, the shop's options), in a thread:
    its port."""
    models.db.close()     # this thread is done with the database; the server's threads take over
    server = storefront.listen(wsgi, "127.0.0.1", 0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server.effective_port
    server.trigger.pull_trigger(server.close)       # (closed from its own thread)
    thread.join(timeout=5)


def test_an_export_whose_database_fails_on_the_way_is_broken_off_and_logged_once(
        client, shop, login_as, failing_export, served, fault_lines, caplog):
    login_as("boss", is_staff=True, is_superuser=True)
    failing_export(rows=2_000)      # some 16 KB chunks are sent first
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    connection.request("GET", "/admin/product/export.csv", headers={
        "Cookie": "; ".join(f"{c.name}={c.value}" for c in client.cookiejar)})
    answer = connection.getresponse()
    assert answer.status == 200 and answer.getheader("Transfer-Encoding") == "chunked"
    with pytest.raises(http.client.IncompleteRead) as broken:
        answer.read()
    assert broken.value.partial.startswith(b"id,")     # what came is the file's beginning
    connection.close()
    assert len(fault_lines("database")) == 1
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []     # no traceback


# --- Health -------------------------------------------------------------------------------

def test_healthz_and_readyz_answer_cheaply_for_this_sites_hosts_only(client, settings):
    for path in ("/healthz", "/readyz"):
        answer = client.get(path)
        assert answer.json["status"] == "ok" and answer.headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in answer.headers
        client.get(path, headers={"Host": "evil.example"}, status=400)
    assert set(client.get("/readyz").json) == {"status", "database"} | (
        {"sessions"} if settings.session_url.startswith("redis") else set()) | (
        {"cache"} if settings.cache_url.startswith("redis") else set())


def test_readyz_names_each_redis_that_is_down(deploy, dead_redis, frozen_redis):
    client = deploy(session_url=dead_redis, cache_url=frozen_redis)
    started = time.monotonic()
    ready = client.get("/readyz", status=503).json
    assert ready["database"] == "ok" and ready["sessions"] != "ok" and ready["cache"] != "ok"
    assert time.monotonic() - started < storefront.READY_TIMEOUT + 1


def test_check_deploy_says_which_redis_it_cannot_reach(settings, dead_redis):
    settings.session_url = settings.cache_url = dead_redis
    problems = storefront.deployment_problems(settings)
    assert [p for p in problems if "session store" in p and dead_redis in p]
    assert [p for p in problems if "cache" in p and dead_redis in p]
