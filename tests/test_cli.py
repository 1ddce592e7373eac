"""The command line: python app.py migrate | seed | routes | createsuperuser | runserver."""
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

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
    assert result.returncode == 0 and "Schema version" in result.stdout
    assert "up to date" in run("migrate", data_dir=tmp_path).stdout
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
        assert re.search(r"(?<![\d,])0 products", body)      # not "1,000 products"
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
