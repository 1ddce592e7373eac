"""The README's deployment, followed literally in a fresh copy of the repository: its commands
from step 2 on run as one bash script against a PostgreSQL database and a Redis of the test's
own, up to a page served by the README's waitress-serve line.

What a test cannot do as the README says is changed here, each change named and required to
find its text (so the README cannot drift from it unseen): root's steps (`sudo ...`: packages,
the account, systemd, nginx) are left out, except the two that make the PostgreSQL role and
database, which run on the test's server under names of their own; the clone is a copy of this
working tree; the virtual environment is this one (installing the requirements again would
take minutes)."""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import REDIS_URL, SERVER_URL

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
ADMIN_URL = SERVER_URL or "postgresql://postgres@127.0.0.1:5432/postgres"


def deployment_blocks():
    """The code of the README's Deploying section (up to "Running it"), as lines."""
    section = README.split("\n## Deploying\n", 1)[1].split("\n### Running it", 1)[0]
    lines, inside = [], False
    for line in section.splitlines():
        if line.startswith("    "):
            lines.append(line[4:])
            inside = True
        elif not line.strip() and inside:
            lines.append("")
        else:
            inside = False
    return lines


def script_of(lines, changes):
    """The README's commands as a bash script: root's commands (and what they feed to a file)
    left out, `changes` {README text: the test's} made, each required to be found."""
    kept, skipping = [], None
    for line in lines:
        if skipping:
            skipping = None if line == skipping else skipping
            continue
        if line.startswith("sudo ") and "psql" not in line:
            heredoc = re.search(r"<<'(\w+)'", line)
            skipping = heredoc.group(1) if heredoc else None
            continue
        if "bin/gunicorn " in line or "bin/waitress-serve " in line:
            continue            # serving: started by the test, below
        kept.append(line)
    script = "\n".join(kept)
    for readme_text, ours in changes.items():
        assert readme_text in script, f"the README no longer says {readme_text!r}"
        script = script.replace(readme_text, ours)
    return "set -euo pipefail\n" + script + "\n"


def redis_url(tmp_path):
    """The test's Redis: the suite's, or one started for this test (None if none can be)."""
    if REDIS_URL:
        return REDIS_URL, None
    if not shutil.which("redis-server"):
        return None, None
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "",
                               "--appendonly", "no", "--dir", str(tmp_path)],
                              stdout=subprocess.DEVNULL)
    time.sleep(0.3)
    return f"redis://127.0.0.1:{port}", server


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_copy(target):
    """The repository's files (what git tracks, as they are in this working tree)."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        if os.path.isfile(os.path.join(ROOT, name)):
            os.makedirs(os.path.dirname(os.path.join(target, name)), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, name), os.path.join(target, name))


@pytest.fixture
def postgres_server():
    psycopg = pytest.importorskip("psycopg")
    try:
        psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3).close()
    except psycopg.OperationalError:
        pytest.skip(f"no PostgreSQL server at {ADMIN_URL}")
    name = f"storefront_readme_{os.getpid()}"
    yield psycopg, name
    with psycopg.connect(ADMIN_URL, autocommit=True) as server:
        server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        server.execute(f"DROP ROLE IF EXISTS {name}")


def test_the_readme_deployment_works_in_its_order_from_a_fresh_copy(tmp_path, postgres_server):
    psycopg, name = postgres_server
    redis, redis_server = redis_url(tmp_path)
    if redis is None:
        pytest.skip("no Redis to deploy with")
    shop = tmp_path / "shop"
    fresh_copy(shop)
    server_host = re.search(r"@([^/]+)/", ADMIN_URL).group(1)
    script = script_of(deployment_blocks(), {
        'sudo -u postgres psql -c "CREATE ROLE storefront LOGIN':
            f'psql "{ADMIN_URL}" -c "CREATE ROLE {name} LOGIN',
        'sudo -u postgres psql -c "CREATE DATABASE storefront OWNER storefront"':
            f'psql "{ADMIN_URL}" -c "CREATE DATABASE {name} OWNER {name}"',
        "git clone https://git.example.com/storefront.git shop && cd shop": f"cd '{shop}'",
        "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt":
            f"ln -s '{sys.prefix}' .venv",
        "postgresql://storefront:change-me@127.0.0.1:5432/storefront":
            f"postgresql://{name}:change-me@{server_host}/{name}",
        "redis://127.0.0.1:6379": redis,
    })
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOREFRONT_")}
    answers = "boss\nboss@example.com\nnavy cobol 1959\nnavy cobol 1959\n"
    try:
        ran = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, input=answers,
                             capture_output=True, text=True, timeout=120, start_new_session=True)
        assert ran.returncode == 0, f"{ran.stdout}\n{ran.stderr}\n{script}"
        assert "Superuser 'boss' created." in ran.stdout and "No problems found." in ran.stdout
        settings = {name: value.strip("'") for name, value in (
            line.split("=", 1) for line in (shop / "storefront.env").read_text().splitlines())}
        assert len(settings["STOREFRONT_SECRET_KEY"]) >= 48
        assert os.stat(shop / "storefront.env").st_mode & 0o777 == 0o600
        with psycopg.connect(settings["STOREFRONT_DATABASE_URL"]) as database:
            assert database.execute('SELECT username, is_superuser FROM "user"').fetchall() == \
                [("boss", True)]            # the admin is in PostgreSQL, not an SQLite file
        assert not (shop / "instance" / "storefront.sqlite3").exists()
        serve_a_page(shop, dict(env, **settings))
    finally:
        if redis_server:
            redis_server.terminate()


def serve_a_page(shop, env):
    """Start the README's waitress-serve line, ask it for the home page as nginx would."""
    line = next(line for line in deployment_blocks() if "bin/waitress-serve " in line)
    port = free_port()
    server = subprocess.Popen(["bash", "-c", "exec " + line.replace("127.0.0.1:8000",
                                                                     f"127.0.0.1:{port}")],
                              cwd=shop, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={
        "Host": "shop.example.com", "X-Forwarded-Proto": "https",
        "X-Forwarded-For": "198.51.100.20"})
    try:
        for _ in range(100):
            try:
                answer = urllib.request.urlopen(request, timeout=10)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("waitress-serve never answered")
        assert answer.status == 200 and "Storefront" in answer.read().decode()
        rid = answer.headers["X-Request-ID"]
        time.sleep(0.5)     # (the line is written once waitress is done with the answer)
    finally:
        server.terminate()
        out, err = server.communicate(timeout=10)
    assert f'{rid} "GET /" 200' in err, err


def test_the_systemd_unit_runs_the_gunicorn_line_shown_by_hand():
    lines = deployment_blocks()
    by_hand = next(line for line in lines if line.startswith(".venv/bin/gunicorn "))
    unit = next(line for line in lines if line.startswith("ExecStart=") and "gunicorn" in line)
    assert unit.replace("ExecStart=/srv/storefront/shop/", "") == by_hand.replace('"', "")
