"""Fixtures: every test gets a fresh temporary database and a WebTest client on the full stack.

    def test_something(client, shop, login_as):
        login_as("alice")                 # a user who is logged in through the login form
        page = client.get("/products")   # then drive the app through HTTP

By default each test has its own SQLite file. The same suite runs on PostgreSQL and Redis when
these are set (.ci/run does both passes):

    STOREFRONT_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres  (a server: the
        suite creates its own database there, empties it before each test, drops it at the end)
    STOREFRONT_TEST_REDIS_URL=redis://127.0.0.1:6379   (sessions in db 15, the cache in db 14,
        both emptied before each test)

Every other STOREFRONT_* variable of the shell (a deployment's STOREFRONT_DATABASE_URL, say) is
removed before app.py is imported, and servers or commands a test starts get their environment
from subprocess_env(): the tests only ever touch databases of their own.
"""
import logging
import os
import re
import shutil
import sys
import threading

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from webtest import TestApp

# app.py reads its settings from the environment when it is imported, and a server a test starts
# inherits this process's environment: take the deployment's settings out before either happens.
for name in list(os.environ):
    if name.startswith("STOREFRONT_") and not name.startswith("STOREFRONT_TEST_"):
        del os.environ[name]

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import app as storefront  # noqa: E402
import models  # noqa: E402

# The app's records go to pytest's handlers (caplog), not to a stderr handler of its own.
storefront.log.addHandler(logging.NullHandler())

PASSWORD = "correct horse battery"
SERVER_URL = os.environ.get("STOREFRONT_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("STOREFRONT_TEST_REDIS_URL", "").rstrip("/")


@pytest.fixture(scope="session")
def postgres_url():
    """A database of the suite's own on the PostgreSQL server named by the environment."""
    if not SERVER_URL:
        yield None
        return
    import psycopg
    name = f"storefront_test_{os.getpid()}"
    with psycopg.connect(SERVER_URL, autocommit=True) as server:
        server.execute(f"DROP DATABASE IF EXISTS {name}")
        server.execute(f"CREATE DATABASE {name}")
    yield SERVER_URL.rsplit("/", 1)[0] + "/" + name
    if models.db.obj is not None:
        models.db.close()
    with psycopg.connect(SERVER_URL, autocommit=True) as server:
        server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def empty_postgres(url):
    import psycopg
    if models.db.obj is not None:
        models.db.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def subprocess_env(data_dir, **settings):
    """The environment for a server or command a test starts: no STOREFRONT_* variable of this
    shell, a data dir of the test's own, the cheap password hasher, and `settings` (given
    without the prefix: subprocess_env(path, DATABASE_URL=...))."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOREFRONT_")}
    env["STOREFRONT_DATA_DIR"] = str(data_dir)
    env["STOREFRONT_PASSWORD_ITERATIONS"] = "1000"
    env.update({"STOREFRONT_" + name: str(value) for name, value in settings.items()})
    return env


def sqlite_template(path, prepare):
    """An SQLite file made once by prepare(); tests start from copies of it, because creating
    every table of a new file (and seeding the demo shop) costs more than most tests."""
    database = models.open_database(f"sqlite:///{path}")
    prepare()
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")     # everything in the file itself
    database.close_all()
    return path


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    return sqlite_template(tmp_path_factory.mktemp("migrated") / "db.sqlite3", models.migrate)


@pytest.fixture(scope="session")
def shop_sqlite(tmp_path_factory, migrated_sqlite):
    path = tmp_path_factory.mktemp("shop") / "db.sqlite3"
    shutil.copyfile(migrated_sqlite, path)
    return sqlite_template(path, seed_shop)


def seed_shop():
    models.seed(products=60, customers=10)


@pytest.fixture
def settings(request, tmp_path, postgres_url):
    """Settings for a test: a temporary data dir with a new database in it (or an emptied
    PostgreSQL database), a cheap password hasher (same code path). On SQLite, a test that
    asks for `shop` starts from a copy of the seeded shop."""
    environ = {
        "STOREFRONT_DATA_DIR": str(tmp_path),
        "STOREFRONT_SECRET_KEY": "test-secret-key",
        "STOREFRONT_PASSWORD_ITERATIONS": "1000",
    }
    if postgres_url:
        empty_postgres(postgres_url)
        environ["STOREFRONT_DATABASE_URL"] = postgres_url
    else:
        database = tmp_path / "storefront.sqlite3"
        template = "shop_sqlite" if "shop" in request.fixturenames else "migrated_sqlite"
        shutil.copyfile(request.getfixturevalue(template), database)
        environ["STOREFRONT_DATABASE_URL"] = f"sqlite:///{database}"
    if REDIS_URL:
        import redis
        for db_number in (14, 15):
            redis.Redis.from_url(f"{REDIS_URL}/{db_number}").flushdb()
        environ["STOREFRONT_SESSION_URL"] = f"{REDIS_URL}/15"
        environ["STOREFRONT_CACHE_URL"] = f"{REDIS_URL}/14"
    return storefront.Settings(environ)


@pytest.fixture
def wsgi(settings):
    application = storefront.build(settings)
    models.data_changed()     # the memory cache outlives an app: forget the last test's pages
    yield application
    storefront.background_done()      # a mail still being sent would write to the next test's
    models.db.close()


def cache_generations():
    """The generation of every tag of the cache (app.py's part 11), here or in Redis."""
    client = storefront._generations["redis"]
    if client is None:
        return dict(storefront._generations["here"])
    return {tag.decode(): int(n) for tag, n in client.hgetall(storefront.GENERATIONS_KEY).items()}


def new_client(wsgi, address="127.0.0.1"):
    """A browser of its own (its own cookies) on the same application."""
    return DocumentedApp(wsgi, extra_environ={"REMOTE_ADDR": address,
                                              "SERVER_PROTOCOL": "HTTP/1.1"})


def twin(client, address="127.0.0.1"):
    """Another client on the same application with the cookies `client` has now: the same
    browser's second tab, or the same request sent twice."""
    other = new_client(client.app, address)
    for cookie in client.cookiejar:
        other.cookiejar.set_cookie(cookie)
    return other


def released_together(calls):
    """Run each of `calls` in a thread of its own, all released at once by a barrier, as
    requests arriving together; what each returned (or the exception it raised), in order."""
    start, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(n, call):
        start.wait()
        try:
            results[n] = call()
        except Exception as error:      # an AppError, an answer against the document
            results[n] = error
    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def statuses(responses):
    """The status of each response, or the exception a request raised instead; sorted."""
    return sorted((r.status_int if hasattr(r, "status_int") else repr(r) for r in responses),
                  key=str)


def outcomes(responses):
    """What each response said, briefly (where it sent, a page's title and the errors its
    form shows, a JSON body, the last line of the traceback a 500 wrote), for a failing
    assert to show."""
    def said(r):
        if not hasattr(r, "status_int"):
            return repr(r)
        title = re.search(r"<title>([^<]*)", r.text)
        text = r.headers.get("Location") or (title and title.group(1)) or r.text
        errors = re.findall(r'class="errors"[^>]*>\s*<li>([^<]*)', r.text)
        return f"{r.status_int} {text} {errors} {(r.errors or '').strip().splitlines()[-1:]}"
    return "\n".join(said(r) for r in responses)


class DocumentedApp(TestApp):
    """A WebTest client that holds every answer under /api/ to the API's OpenAPI document, so
    whichever test receives it fails on a field added, renamed or retyped without the
    document, or on a status the document does not list."""

    def do_request(self, req, status=None, expect_errors=None):
        response = super().do_request(req, status, expect_errors)
        path = req.environ["PATH_INFO"]         # as sent: a path that is not UTF-8 is fine
        problem = undocumented(req.method, path, response)
        if problem:
            said = "".join(f" (the server logged: {line})" for line in   # a 500's traceback
                           (response.errors or "").strip().splitlines()[-1:])
            raise AssertionError(f"{req.method} {path} answered {response.status} "
                                 f"against the OpenAPI document: {problem}{said}")
        return response


OPENAPI = storefront.openapi_document()
DOCUMENT = "urn:storefront:openapi"     # the document's name for the schema validator
SCHEMAS = Registry().with_resource(DOCUMENT, DRAFT202012.create_resource(OPENAPI))
THE_DESCRIPTION_ITSELF = ("/api/openapi.json", "/api/docs")


def undocumented(method, path, response):
    """What the OpenAPI document says is wrong with an answer of the API, or None."""
    if not path.startswith("/api/") or path in THE_DESCRIPTION_ITSELF or method == "HEAD":
        return None
    paths = OPENAPI["paths"]
    template = next((t for t in paths if re.fullmatch(re.sub(r"{\w+}", "[^/]+", t), path)), None)
    operation = paths.get(template, {}).get(method.lower())
    if operation is None:       # not an operation: only an error (404, 405) may answer
        if response.status_int < 400:
            return "the document has no such operation"
        pointer = ["components", "schemas", "Error"]
    else:
        answer = operation["responses"].get(str(response.status_int))
        if answer is None:
            return f"{method} {template} lists only {', '.join(operation['responses'])}"
        pointer = ["paths", template, method.lower(), "responses", str(response.status_int)]
        if "$ref" in answer:
            pointer = answer["$ref"][2:].split("/")
            answer = storefront.resolve(OPENAPI, answer)
        missing = [name for name, header in answer.get("headers", {}).items()
                   if header.get("required") and name not in response.headers]
        if missing:
            return f"no {', '.join(missing)} header"
        if "content" not in answer:
            return f"a body ({response.body[:80]!r}) where none is documented" \
                if response.body else None
        pointer += ["content", "application/json", "schema"]
    if response.content_type != "application/json":
        return f"{response.content_type}, not JSON"
    schema = {"$ref": DOCUMENT + "#/" + "/".join(
        key.replace("~", "~0").replace("/", "~1") for key in pointer)}
    error = best_match(Draft202012Validator(
        schema, registry=SCHEMAS, format_checker=Draft202012Validator.FORMAT_CHECKER,
    ).iter_errors(response.json))
    return f"{error.message} (at {error.json_path})" if error else None


@pytest.fixture
def client(wsgi):
    return new_client(wsgi)


@pytest.fixture
def live_server(wsgi):
    """The app on a real waitress server, in a thread, on the test's database: its base URL."""
    import waitress.server
    models.db.close()     # this thread is done with the database; the server's threads take over
    server = waitress.server.create_server(wsgi, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    # Close the server from its own thread: closing its sockets from this one could pull them
    # out from under the select() it is waiting in.
    server.trigger.pull_trigger(server.close)
    thread.join(timeout=5)


@pytest.fixture
def shop(wsgi):
    """A small deterministic demo shop: 60 products in 10 collections, customers, orders."""
    if not models.Product.select().exists():    # on SQLite, settings copied a seeded database
        seed_shop()


def csrf_of(client):
    """The CSRF token the client's forms carry now (read from a page with a form)."""
    page = client.get("/accounts/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


@pytest.fixture
def csrf(client):
    return lambda: csrf_of(client)


@pytest.fixture
def make_user(wsgi):
    def make(username="alice", password=PASSWORD, **fields):
        fields.setdefault("email", f"{username}@example.com")
        return models.User.create_user(username, password=password, **fields)
    return make


@pytest.fixture
def login_as(client, make_user):
    """Create a user (unless it exists) and log in through the login form."""
    def login(username="alice", password=PASSWORD, **fields):
        user = models.User.get_or_none(models.User.username == username) or \
            make_user(username, password, **fields)
        form = client.get("/accounts/login").forms["login-form"]
        form["username"], form["password"] = username, password
        response = form.submit()
        assert response.status_int == 303, response.text
        return user
    return login
