"""Two rows of the operations issue's table, before and after: idle connections and SIGTERM.

    python tests/perf/operations.py [--idle 300] [--in-flight 8]

"Before" is waitress as waitress-serve runs it by default (100 connections, 120 s idle timeout,
SIGTERM ends the process at once); "after" is `python app.py runserver`. Each on a demo shop of
its own (SQLite, a temporary data dir).
"""
import argparse
import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(kind, data_dir, port):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOREFRONT_")}
    env.update(STOREFRONT_DATA_DIR=data_dir, STOREFRONT_PASSWORD_ITERATIONS="1000")
    if kind == "before":
        # (the database and demo shop made first, by a runserver that stops at once)
        subprocess.run([sys.executable, "app.py", "seed", "--products", "20"], cwd=ROOT, env=env,
                       capture_output=True)
        command = [os.path.join(BIN, "waitress-serve"), f"--listen=127.0.0.1:{port}",
                   "--threads=1", "app:application"]
    else:
        command = [sys.executable, "app.py", "runserver", str(port), "--products", "20",
                   "--threads", "1"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/products", timeout=5).read()
            return server
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{kind}: the server did not start")


def idle_connections(port, count):
    """Open `count` idle connections, half of them trickling a header; then time a request."""
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    for conn in idle[:count // 2]:
        conn.sendall(b"GET / HTTP/1.1\r\nX-Slow: ")
    time.sleep(0.5)
    started = time.perf_counter()
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/products", timeout=10).read()
        result = f"{(time.perf_counter() - started) * 1000:.0f} ms"
    except OSError as error:
        result = f"no answer in 10 s ({error.__class__.__name__})"
    for conn in idle:
        conn.close()
    return result


def get(port, path):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            conn.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                         .encode())
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
        return data.startswith(b"HTTP/1.1 200") and data.rstrip().endswith(b"</html>")
    except OSError:
        return False


def sigterm(server, port, count):
    """Send `count` lesson pages at once, SIGTERM after 100 ms: how many came back whole."""
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        answers = [pool.submit(get, port, "/playground/tour") for _ in range(count)]
        time.sleep(0.1)
        server.send_signal(signal.SIGTERM)
        whole = sum(a.result() for a in answers)
    server.wait(timeout=60)
    return f"{whole} of {count} answered whole, exit status {server.returncode}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=int, default=300)
    parser.add_argument("--in-flight", type=int, default=8)
    args = parser.parse_args()
    for kind in ("before", "after"):
        with tempfile.TemporaryDirectory() as data_dir:
            port = free_port()
            server = start(kind, data_dir, port)
            try:
                print(f"{kind:6}  {args.idle} idle connections, then a request: "
                      f"{idle_connections(port, args.idle)}")
                time.sleep(0.5)
                print(f"{kind:6}  SIGTERM with {args.in_flight} requests in flight: "
                      f"{sigterm(server, port, args.in_flight)}")
            finally:
                if server.poll() is None:
                    server.kill()


if __name__ == "__main__":
    main()
