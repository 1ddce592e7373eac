"""A like flood beside a visitor (issue: one like must not empty every cache).

    python tests/perf/like_flood.py [--seconds 20] [--products 1000] [--threads 4] [--orders]

It seeds a shop in a temporary data dir, makes a user and starts the shop
(`python app.py runserver --threads N --quiet`). Then, for --seconds, a visitor without a
session reads pages the shop caches (the catalog, its second page, the home page, the
collections and another product's page) in a loop, first alone, then while that user likes
and unlikes one product in a loop (with --orders: orders one of a product none of those pages
shows, through the JSON API, in a loop). It prints how many requests each served. Run it on
the code before a change and after (copy it into the other checkout: it serves the checkout
it is in). Standard library only.
"""
import argparse
import http.client
import json
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
# The product the orders buy: the last by title, not among the newest, with stock for them all;
# and the user's address, which the API's orders ship to.
FOR_ORDERS = ("import app, models; from models import Product; app.open_database(app.Settings()); "
              "newest = Product.select(Product.id).order_by(Product.id.desc()).limit(50); "
              "p = Product.select().where(Product.id.not_in(newest))"
              ".order_by(Product.title.desc()).first(); "
              "Product.update(inventory=10 ** 6).where(Product.id == p.id).execute(); "
              f"user = models.User.get(models.User.username == {USER!r}); "
              "models.save_customer_profile(user, 'F', 'L', 'f@example.com', '1 Road', 'Town', '1');"
              "print(p.id)")


class Client:
    """One keep-alive connection with its cookies."""

    def __init__(self, port):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies = {}

    def request(self, path, form=None, data=None, headers=()):
        headers = dict(headers, Cookie="; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            body = json.dumps(data)
            headers["Content-Type"] = "application/json"
        self.connection.request("GET" if body is None else "POST", path, body, headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or ():
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return response.status, text

    def token(self, path):
        return re.search(r'name="csrf_token" value="([^"]+)"', self.request(path)[1]).group(1)


def serve(data_dir, products, threads):
    """The shop's server and port; the product the orders buy."""
    env = dict(os.environ, STOREFRONT_DATA_DIR=data_dir)
    subprocess.run([sys.executable, "app.py", "seed", "--products", str(products)], cwd=ROOT,
                   env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-c", MAKE_USER], cwd=ROOT, env=env, check=True)
    ordered = int(subprocess.run([sys.executable, "-c", FOR_ORDERS], cwd=ROOT, env=env,
                                 check=True, capture_output=True, text=True).stdout)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "app.py", "runserver", f"127.0.0.1:{port}",
                               "--threads", str(threads), "--quiet", "--no-demo"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            Client(port).request("/")
            return server, port, ordered
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


def order_in_a_loop(port, product, stop, counted):
    """Order one of `product` again and again, through the JSON API, from one cart (which an
    order empties)."""
    client = Client(port)
    form = {"username": USER, "password": PASSWORD, "csrf_token": client.token("/accounts/login")}
    client.request("/accounts/login", form)
    headers = {"X-CSRF-Token": client.token("/accounts/login")}
    cart = json.loads(client.request("/api/carts", data={}, headers=headers)[1])["id"]
    while not stop.is_set():
        client.request(f"/api/carts/{cart}/items", data={"product_id": product, "quantity": 1},
                       headers=headers)
        status, _ = client.request("/api/orders", data={"cart_id": cart}, headers=headers)
        counted.value += status == 201


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--orders", action="store_true", help="orders instead of likes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        server, port, ordered = serve(data_dir, args.products, args.threads)
        try:
            first = int(re.search(r'href="/products/(\d+)"', Client(port).request("/products")[1])
                        .group(1))
            paths = ["/products", "/products?page=2", "/", "/collections", f"/products/{first}"]
            for path in paths:
                Client(port).request(path)      # cached before the clock starts
            alone = read_pages(port, paths, args.seconds)
            stop, likes = multiprocessing.Event(), multiprocessing.Value("i", 0)
            liker = multiprocessing.Process(
                target=order_in_a_loop if args.orders else like_in_a_loop,
                args=(port, ordered if args.orders else first + 1, stop, likes))
            liker.start()
            flooded = read_pages(port, paths, args.seconds)
            stop.set()
            liker.join()
        finally:
            server.terminate()
            server.wait()
    print(f"visitor alone:           {alone:7} requests in {args.seconds:g} s")
    what = "orders" if args.orders else "likes and unlikes"
    print(f"visitor during the {what.split()[0]}: {flooded:6} requests in {args.seconds:g} s "
          f"({likes.value} {what} meanwhile)")


if __name__ == "__main__":
    main()
