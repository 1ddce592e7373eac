"""Running the shop: shutdown, proxies, connections, logs, under the servers the README names
(python app.py's waitress, waitress-serve with the README's flags, gunicorn), each a real
process of its own."""
import concurrent.futures
import contextlib
import json
import logging
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

import app as storefront
from conftest import subprocess_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def readme_flags(program, env=None):
    """The flags of the README's `program` line (its address left out), its ${VARIABLES} read
    from `env`."""
    line = next(line for line in README.splitlines() if f"bin/{program} " in line)
    line = line[line.index(f"bin/{program} "):].split(" #")[0]
    line = re.sub(r"\$\{?(\w+)\}?", lambda m: (env or {}).get(m.group(1), ""), line)
    words = shlex.split(line)
    return [w for w in words[1:] if not w.startswith(("--listen", "-b", "127.0.0.1:"))
            and w != "app:application"]


def command(server, port, env):
    """The command line that serves the shop on `port` with `server`, as the README says."""
    venv_bin = os.path.dirname(sys.executable)
    if server == "runserver":
        return [sys.executable, "app.py", "runserver", str(port), "--products", "20"]
    if server == "waitress-serve":
        return [os.path.join(venv_bin, "waitress-serve"), f"--listen=127.0.0.1:{port}",
                *readme_flags(server, env), "app:application"]
    return [os.path.join(venv_bin, "gunicorn"), *readme_flags(server, env), "-b",
            f"127.0.0.1:{port}", "app:application"]


def start(server, tmp_path, *extra, **settings):
    """Serve the shop with `server` on a data dir of its own: (process, base URL)."""
    if server == "gunicorn" and not shutil.which("gunicorn", path=os.path.dirname(sys.executable)):
        pytest.skip("gunicorn is not installed")
    port, env = free_port(), subprocess_env(tmp_path, **settings)
    process = subprocess.Popen(command(server, port, env) + list(extra), cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(base + "/static/css/base.css", timeout=5).read()
            return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(process.communicate()[1])


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def raw_request(port, text, timeout=30):
    """Send `text` on a connection of its own; what came back, whole, once the server closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(text.encode("latin1"))
        chunks = []
        with contextlib.suppress(ConnectionResetError):    # an answer before all was read
            while chunk := conn.recv(65536):
                chunks.append(chunk)
    return b"".join(chunks)


def get(port, path, headers=()):
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close",
             *[f"{k}: {v}" for k, v in headers]]
    return raw_request(port, "\r\n".join(lines) + "\r\n\r\n")


# --- Shutdown ---------------------------------------------------------------------------------

def test_sigterm_finishes_the_requests_in_flight_then_exits_0(tmp_path):
    """Eight lesson pages (the tour: tens of milliseconds each) sent at once to one thread, so
    that most wait in line when SIGTERM comes: every one is answered in full, no new
    connection is taken, and the process exits with 0."""
    process, base = start("runserver", tmp_path, "--threads", "1")
    port = int(base.rsplit(":", 1)[1])
    started = time.perf_counter()
    get(port, "/playground/tour")
    one = time.perf_counter() - started
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = [pool.submit(get, port, "/playground/tour") for _ in range(8)]
        time.sleep(min(0.1, one))           # all sent; the first still being made
        process.send_signal(signal.SIGTERM)
        time.sleep(0.1)
        with pytest.raises(OSError):        # the port is closed to newcomers
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        answers = [a.result() for a in answers]
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    for answer in answers:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), answer[:300]
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        assert len(body) == length and body.rstrip().endswith(b"</html>")
    assert err.count('"GET /playground/tour" 200') == 9, err
    assert "finishing the requests in flight" in err and "unfinished" not in err


# --- Proxies ----------------------------------------------------------------------------------

SERVERS = ["runserver", "waitress-serve", "gunicorn"]
DEBUG = {"DEBUG": "1", "INTERNAL_IPS": "203.0.113.9"}     # the toolbar shows who the app sees


def sees(port, headers=()):
    """(whether the app took the client for 203.0.113.9, whether its cookie is Secure)."""
    answer = get(port, "/accounts/login", headers).decode("utf-8", "replace")
    assert answer.startswith("HTTP/1.1 200"), answer[:500]
    cookie = re.search(r"^Set-Cookie: storefront_csrf=.*$", answer, re.M).group(0)
    return 'id="debug-toolbar"' in answer, "; Secure" in cookie


@pytest.mark.parametrize("server", SERVERS)
def test_a_trusted_proxy_is_believed_under_every_server_and_no_one_else(server, tmp_path):
    proxied = [("X-Forwarded-For", "198.51.100.1, 203.0.113.9"), ("X-Forwarded-Proto", "https")]
    process, base = start(server, tmp_path, TRUSTED_PROXIES="127.0.0.1", **DEBUG)
    port = int(base.rsplit(":", 1)[1])
    try:
        assert sees(port, proxied) == (True, True)      # the proxy's word, through the server
        assert sees(port) == (False, False)
    finally:
        stop(process)
    # The same headers from a client that is no trusted proxy are forged: ignored.
    process, base = start(server, tmp_path / "forged", TRUSTED_PROXIES="10.9.9.9", **DEBUG)
    try:
        assert sees(int(base.rsplit(":", 1)[1]), proxied) == (False, False)
    finally:
        stop(process)


def test_check_deploy_tells_how_waitress_serve_must_be_started_behind_a_proxy(tmp_path):
    def check(**settings):
        return subprocess.run([sys.executable, "app.py", "check", "--deploy", "--server",
                               "waitress-serve"], cwd=ROOT, capture_output=True, text=True,
                              env=subprocess_env(tmp_path, **settings), timeout=60).stdout
    assert "--no-clear-untrusted-proxy-headers" in check(TRUSTED_PROXIES="127.0.0.1")
    assert "--no-clear-untrusted-proxy-headers" not in check()
    assert "--no-clear-untrusted-proxy-headers" in readme_flags("waitress-serve")


# --- Connections ------------------------------------------------------------------------------

def test_300_idle_and_trickling_connections_leave_room_for_a_visitor(tmp_path):
    process, base = start("runserver", tmp_path)
    port = int(base.rsplit(":", 1)[1])
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(300)]
    for n, conn in enumerate(idle[:150]):       # half of them send a header, slowly
        conn.sendall(b"GET / HTTP/1.1\r\nX-Slow: ")
    try:
        time.sleep(0.5)
        started = time.perf_counter()
        answer = urllib.request.urlopen(base + "/products", timeout=10)
        took = time.perf_counter() - started
        assert answer.status == 200 and took < 2, took
    finally:
        for conn in idle:
            conn.close()
        stop(process)


def test_waitress_own_error_answers_carry_the_security_headers(tmp_path):
    process, base = start("runserver", tmp_path)
    port = int(base.rsplit(":", 1)[1])
    try:
        bad = raw_request(port, "NOT A REQUEST LINE\r\n\r\n").decode("latin1")
        huge = raw_request(port, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "a" * 262_200
                           + "\r\n\r\n").decode("latin1")
    finally:
        stop(process)
    assert re.match(r"HTTP/1.. 400 ", bad) and re.match(r"HTTP/1.. 431 ", huge), (bad, huge)
    for answer in (bad, huge):
        for name, value in storefront.SECURITY_HEADERS:
            assert f"{name}: {value}" in answer


# --- Logs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("server", SERVERS)
def test_each_request_is_one_json_line_with_its_id_under_every_server(server, tmp_path):
    process, base = start(server, tmp_path, LOG_FORMAT="json")
    try:
        answer = urllib.request.urlopen(base + "/products?q=" + "x" * 1000)
        answer.read()
        rid = answer.headers["X-Request-ID"]
        time.sleep(0.5)     # (the line is written once the server is done with the answer)
    finally:
        out, err = stop(process)
    entries = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    mine = [e for e in entries if e.get("request_id") == rid]
    assert len(mine) == 1, err
    entry = mine[0]
    assert entry["method"] == "GET" and entry["status"] == 200 and entry["user_id"] is None
    assert entry["path"].startswith("/products?q=xxx")
    assert len(entry["path"]) <= storefront.LOG_PATH_MAX + 3 and entry["duration_ms"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["time"])


def test_an_error_is_one_record_with_the_request_id_and_its_traceback(client, shop, caplog,
                                                                      monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("planted")
    monkeypatch.setattr(storefront.models, "product_for_page", broken)
    with caplog.at_level(logging.INFO, logger="storefront"):
        answer = client.get("/products/1", status=500)
    rid = answer.headers["X-Request-ID"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].request_id == rid
    assert "RuntimeError: planted" in storefront.JSONFormatter().format(errors[0])
    line = [r for r in caplog.records if r.name == "storefront.requests"]
    assert [(r.request_id, r.status, r.path) for r in line] == [(rid, 500, "/products/1")]
    assert "planted" not in answer.text


def test_business_events_carry_the_request_id_and_the_user(client, shop, login_as, caplog):
    from test_cart import add, checkout
    user = login_as("alice")
    add(client, storefront.Product.get_by_id(1))
    with caplog.at_level(logging.INFO, logger="storefront"):
        form, done = checkout(client)
    assert done.status_int == 303, done.text
    rid = done.headers["X-Request-ID"]
    placed = [r for r in caplog.records if getattr(r, "event", "") == "order_placed"]
    assert len(placed) == 1 and placed[0].request_id == rid and placed[0].user_id == user.id
    line = [r for r in caplog.records if r.name == "storefront.requests" and r.request_id == rid]
    assert line[0].user_id == user.id and line[0].status == 303
