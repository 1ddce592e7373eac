"""The command line: python app.py migrate | seed | routes | createsuperuser | runserver."""
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

import app as storefront
import models
from conftest import subprocess_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args, data_dir, timeout=60, **settings):
    """`python app.py ARGS` on the data dir, with STOREFRONT_<name> for each keyword."""
    return subprocess.run([sys.executable, "app.py", *args], cwd=ROOT,
                          env=subprocess_env(data_dir, **settings),
                          capture_output=True, text=True, timeout=timeout)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_importing_app_starts_nothing_and_writes_nothing(tmp_path):
    code = "import app; print(app.application is not None)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env=subprocess_env(tmp_path / "d"))
    assert result.stdout.strip() == "True", result.stderr
    assert not (tmp_path / "d").exists()


def test_the_suite_takes_out_a_deployments_settings_before_importing_app(tmp_path):
    """With a deployment's STOREFRONT_* exported in the shell, the tests (conftest.py imported
    as pytest imports it) and the servers they start see none of it: only STOREFRONT_TEST_*."""
    deployment = {"STOREFRONT_DATABASE_URL": f"sqlite:///{tmp_path}/deployment.sqlite3",
                  "STOREFRONT_DATA_DIR": str(tmp_path / "deployment"), "STOREFRONT_DEBUG": "1",
                  "STOREFRONT_CACHE_URL": "none", "STOREFRONT_TEST_REDIS_URL": "redis://test"}
    code = ("import json, os, conftest\n"
            "print(json.dumps([sorted(k for k in os.environ if k.startswith('STOREFRONT_')),\n"
            "                  conftest.storefront.settings.database_url,\n"
            "                  sorted(conftest.subprocess_env('data'))]))")
    result = subprocess.run([sys.executable, "-c", code], cwd=os.path.join(ROOT, "tests"),
                            env=dict(subprocess_env(tmp_path), **deployment),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    environ, database_url, server_environ = json.loads(result.stdout)
    assert environ == ["STOREFRONT_TEST_REDIS_URL"]
    assert "deployment" not in database_url
    assert [k for k in server_environ if k.startswith("STOREFRONT_")] == [
        "STOREFRONT_DATA_DIR", "STOREFRONT_PASSWORD_ITERATIONS"]
    assert not os.listdir(tmp_path)


def test_migrate_then_seed_then_refuse(tmp_path):
    result = run("migrate", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Applied {len(models.MIGRATIONS)} migrations: 1 initial, 2 ")
    assert run("migrate", data_dir=tmp_path).stdout == "No migrations to apply.\n"
    assert "No changes detected" in run("makemigrations", data_dir=tmp_path).stdout
    result = run("seed", "--products", "300", data_dir=tmp_path)
    assert result.returncode == 0 and "Seeded 300 products" in result.stdout, result.stderr
    result = run("seed", data_dir=tmp_path)
    assert result.returncode != 0 and "--reset" in result.stderr
    assert "Traceback" not in result.stderr
    assert run("seed", "--products", "50", "--reset", data_dir=tmp_path).returncode == 0


def test_routes_lists_method_path_and_handler(tmp_path):
    result = run("routes", data_dir=tmp_path)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert any(l.split() == ["GET", "/products/<product_id>", "product_detail"] for l in lines)
    assert any(l.split()[:2] == ["POST", "/accounts/logout"] for l in lines)


def test_createsuperuser_needs_a_good_password(tmp_path):
    result = run("createsuperuser", "--username", "root", "--email", "r@example.com",
                 "--no-input", data_dir=tmp_path, SUPERUSER_PASSWORD="123")
    assert result.returncode != 0 and "8 characters" in result.stderr


def test_runserver_first_start_seeds_and_serves(tmp_path):
    port = free_port()
    server = subprocess.Popen([sys.executable, "app.py", "runserver", str(port), "--products", "50"],
                              cwd=ROOT, env=subprocess_env(tmp_path), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        body = None
        for _ in range(100):
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/products").read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert body and "50 products" in body
        # A second server on the same port gets a clear message, not a traceback.
        second = run("runserver", str(port), "--no-demo", data_dir=tmp_path)
        assert second.returncode != 0
        assert f"Cannot listen on 127.0.0.1:{port}" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert f"http://127.0.0.1:{port}/" in output and "Demo admin created" in output


def test_unwritable_database_gets_a_clear_message(tmp_path):
    result = run("runserver", str(free_port()), data_dir=tmp_path,
                 DATABASE_URL="sqlite:////proc/no/such/dir/db.sqlite3")
    assert result.returncode != 0
    assert "Cannot open the database" in result.stderr and "Traceback" not in result.stderr


def test_no_demo_keeps_the_database_empty(tmp_path):
    port = free_port()
    server = subprocess.Popen([sys.executable, "app.py", "runserver", str(port), "--no-demo"],
                              cwd=ROOT, env=subprocess_env(tmp_path), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/products").read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert "No products match" in body and "product-card" not in body
    finally:
        server.terminate()
        server.wait(timeout=10)
    database = sqlite3.connect(tmp_path / "storefront.sqlite3")
    assert database.execute("SELECT COUNT(*) FROM user").fetchone() == (0,)    # no demo admin


def test_backup_copies_the_live_database(tmp_path):
    models.open_database(f"sqlite:///{tmp_path}/storefront.sqlite3")   # the shop, running
    models.migrate()
    models.seed(products=40, customers=5)
    result = run("backup", str(tmp_path / "copy.sqlite3"), data_dir=tmp_path)
    models.db.close()
    assert result.returncode == 0, result.stderr
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    assert copy.execute("SELECT COUNT(*) FROM product").fetchone() == (40,)


def test_createsuperuser_prompts_for_the_password_twice(tmp_path):
    environ = subprocess_env(tmp_path)
    answers = "grace\ngrace@example.com\nnavy cobol 1959\nnavy cobol 1959\n"
    result = subprocess.run([sys.executable, "app.py", "createsuperuser"], cwd=ROOT, env=environ,
                            input=answers, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Superuser 'grace' created." in result.stdout
    typo = "ada\nada@example.com\nfirst try 123\nsecond try 456\n"
    result = subprocess.run([sys.executable, "app.py", "createsuperuser"], cwd=ROOT, env=environ,
                            input=typo, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "The passwords differ." in result.stderr


def start_server(tmp_path, *flags, project=ROOT, ctrl_c_ignored=False):
    """`python app.py runserver PORT FLAGS` on a demo shop of 20 products; (process, base URL).
    ctrl_c_ignored: as a script started it in the background (`python app.py &`)."""
    port = free_port()
    ignore = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ctrl_c_ignored else None
    server = subprocess.Popen([sys.executable, "app.py", "runserver", str(port), "--products",
                               "20", *flags], cwd=project, env=subprocess_env(tmp_path),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True, preexec_fn=ignore)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/base.css").read()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    stop(server, signal.SIGKILL)
    raise AssertionError(server.communicate()[1])


def stop(server, signum=signal.SIGTERM):
    """Stop the server (the process it started, and any it starts: --reload's child too)."""
    server.send_signal(signum)
    try:
        return server.communicate(timeout=15)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)       # whatever outlived it


def test_runserver_logs_each_request_with_its_id_user_status_and_time(tmp_path):
    server, base = start_server(tmp_path)
    answer = urllib.request.urlopen(base + "/products?sort=price")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(base + "/no-such-page" + "x" * 5000)
    out, err = stop(server)
    rid = answer.headers["X-Request-ID"]
    assert re.search(r'^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] INFO %s "GET /products\?sort=price" '
                     r'200 \d+ ms user=-$' % rid, err, re.M), err
    assert f"INFO - Applied {len(models.MIGRATIONS)} migrations: 1 initial, 2 " in err  # at start
    cut = re.search(r'"GET (/no-such-pagex*)\.\.\." 404', err)
    assert cut and len(cut.group(1)) == storefront.LOG_PATH_MAX, err
    assert "Traceback" not in err
    quiet, base = start_server(tmp_path / "quiet", "--quiet")
    urllib.request.urlopen(base + "/products").read()
    out, err = stop(quiet)
    assert '"GET /products"' not in err and "running at" in out


def test_a_taken_port_says_only_that(tmp_path):
    server, base = start_server(tmp_path)
    try:
        second = run("runserver", base.rsplit(":", 1)[1], data_dir=tmp_path / "second")
    finally:
        stop(server)
    assert second.returncode != 0 and "Cannot listen on" in second.stderr
    assert second.stdout == ""      # no "running at", no demo shop loaded, no admin made


def test_changepassword_sets_a_new_password(tmp_path):
    result = run("createsuperuser", "--username", "root", "--email", "r@example.com",
                 "--no-input", data_dir=tmp_path,
                 SUPERUSER_PASSWORD="first password 1")
    assert result.returncode == 0, result.stderr
    changed = subprocess.run([sys.executable, "app.py", "changepassword", "ROOT"], cwd=ROOT,
                             env=subprocess_env(tmp_path),
                             input="second password 2\nsecond password 2\n", capture_output=True,
                             text=True, timeout=60)
    assert changed.returncode == 0 and "Password changed for 'root'" in changed.stdout
    check = ("import app, models; app.open_database(app.settings); "
             "print(models.authenticate('root', 'second password 2') is not None)")
    result = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True,
                            text=True, env=subprocess_env(tmp_path))
    assert result.stdout.strip() == "True", result.stderr
    missing = run("changepassword", "nobody", data_dir=tmp_path)
    assert missing.returncode != 0 and "There is no user 'nobody'" in missing.stderr


def test_the_readme_lists_the_flags_of_runserver_help(tmp_path):
    result = run("runserver", "--help", data_dir=tmp_path)
    flags = set(re.findall(r"(--[a-z-]+)", result.stdout)) - {"--help"}
    readme = open(os.path.join(ROOT, "README.md")).read()
    row = next(line for line in readme.splitlines() if line.startswith("| `python app.py runserver"))
    assert flags and flags == set(re.findall(r"(--[a-z-]+)", row))


def test_a_shop_on_sqlite_loads_no_postgresql_or_redis_driver(tmp_path):
    """Peewee and Beaker import every driver they find; app.py keeps them from it, so that a
    process serving SQLite with memory caching carries neither (18 MB less memory)."""
    code = ("import sys, app; app.build(app.settings); "
            "print(sorted(name for name in ('psycopg', 'psycopg2', 'redis') if sys.modules.get(name)))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env=subprocess_env(tmp_path))
    assert result.stdout.strip() == "[]", result.stderr


def project_copy(tmp_path):
    """A copy of the project, to change while a server of it runs."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("app.py", "models.py", "views", "static"):
        source = os.path.join(ROOT, name)
        (shutil.copytree if os.path.isdir(source) else shutil.copy)(source, copy / name)
    return copy


def fetch(url, timeout=30):
    """The body of `url` once it answers 200, waiting up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return urllib.request.urlopen(url).read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


def test_reload_restarts_the_server_when_the_code_changes(tmp_path):
    project = project_copy(tmp_path)
    server, base = start_server(tmp_path / "data", "--reload", project=project,
                                ctrl_c_ignored=True)
    try:
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(base + "/reloaded")
        app_py = project / "app.py"
        app_py.write_text(app_py.read_text().replace(
            'if __name__ == "__main__":',
            '@root.get("/reloaded")\ndef reloaded():\n    return "new code"\n\n\n'
            'if __name__ == "__main__":'))
        assert fetch(base + "/reloaded") == "new code"
    finally:
        out, err = stop(server)         # the reloader only: it takes its child along
    assert out.count("Storefront is running at") == 2 and "restarting" in out, out + err
    assert out.count("First start: loading the demo shop") == 1     # once, by the first child
    assert out.count("Demo admin created") == 1


def test_debug_shows_an_edited_template_without_a_restart(tmp_path):
    project = project_copy(tmp_path)
    server, base = start_server(tmp_path / "data", "--debug", project=project)
    try:
        before = fetch(base + "/products")      # (kept in the page cache for anonymous visitors)
        template = project / "views" / "store" / "catalog.tpl"
        template.write_text(template.read_text().replace("<h1>{{title}}</h1>",
                                                         "<h1>{{title}}, edited</h1>"))
        after = fetch(base + "/products")
    finally:
        out, err = stop(server)
    assert "All products, edited</h1>" not in before and "All products, edited</h1>" in after
    assert out.count("Storefront is running at") == 1
