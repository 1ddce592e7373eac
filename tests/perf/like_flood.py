"""A like flood beside a visitor (issue: one like must not empty every cache).

    python tests/perf/like_flood.py [--seconds 20] [--products 1000] [--threads 4]

It seeds a shop in a temporary data dir, makes a user and starts the shop
(`python app.py runserver --threads N --quiet`). Then, for --seconds, a visitor without a
session reads pages the shop caches (the catalog, its second page, the home page, the
collections and another product's page) in a loop, first alone, then while that user likes
and unlikes one product in a loop. It prints how many requests each served. Run it on the code
before a change and after (copy it into the other checkout: it serves the checkout it is in).
Standard library only.
"""
import argparse
import http.client
import multiprocessing
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "flood", "flood pass 123"
MAKE_USER = ("import app, models; app.open_database(app.Settings()); "
             f"models.User.create_user({USER!r}, password={PASSWORD!r}, email='f@example.com')")


class Client:
    """One keep-alive connection with its cookies."""

    def __init__(self, port):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies = {}

    def request(self, path, form=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request("POST" if form is not None else "GET", path, body, headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or ():
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return response.status, text

    def token(self, path):
        return re.search(r'name="csrf_token" value="([^"]+)"', self.request(path)[1]).group(1)


def serve(data_dir, products, threads):
    env = dict(os.environ, STOREFRONT_DATA_DIR=data_dir)
    subprocess.run([sys.executable, "app.py", "seed", "--products", str(products)], cwd=ROOT,
                   env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-c", MAKE_USER], cwd=ROOT, env=env, check=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "app.py", "runserver", f"127.0.0.1:{port}",
                               "--threads", str(threads), "--quiet", "--no-demo"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            Client(port).request("/")
            return server, port
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the shop did not start")


def read_pages(port, paths, seconds):
    client, served, end = Client(port), 0, time.monotonic() + seconds
    while time.monotonic() < end:
        status, _ = client.request(paths[served % len(paths)])
        served += status == 200
    return served


def like_in_a_loop(port, product, stop, counted):
    """(In a process of its own: a thread would share this one's interpreter lock with the
    visitor, and slow the visitor down here rather than in the shop.)"""
    client = Client(port)
    form = {"username": USER, "password": PASSWORD, "csrf_token": client.token("/accounts/login")}
    client.request("/accounts/login", form)
    token = client.token(f"/products/{product}")
    while not stop.is_set():
        status, _ = client.request(f"/products/{product}/like",
                                   {"csrf_token": token, "liked": str(counted.value % 2)})
        counted.value += status in (200, 303)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        server, port = serve(data_dir, args.products, args.threads)
        try:
            first = int(re.search(r'href="/products/(\d+)"', Client(port).request("/products")[1])
                        .group(1))
            paths = ["/products", "/products?page=2", "/", "/collections", f"/products/{first}"]
            for path in paths:
                Client(port).request(path)      # cached before the clock starts
            alone = read_pages(port, paths, args.seconds)
            stop, likes = multiprocessing.Event(), multiprocessing.Value("i", 0)
            liker = multiprocessing.Process(target=like_in_a_loop,
                                            args=(port, first + 1, stop, likes))
            liker.start()
            flooded = read_pages(port, paths, args.seconds)
            stop.set()
            liker.join()
        finally:
            server.terminate()
            server.wait()
    print(f"visitor alone:           {alone:7} requests in {args.seconds:g} s")
    print(f"visitor during the likes: {flooded:6} requests in {args.seconds:g} s "
          f"({likes.value} likes and unlikes meanwhile)")


if __name__ == "__main__":
    main()
