"""What a search costs the shop, beside a plain catalog page (issue: bounded search cost).

    python app.py seed --products 1000000          # with STOREFRONT_DATA_DIR=<dir>
    python tests/perf/search_cost.py --data-dir <dir> [--runs 7] [--database-url ...]

The app is built in this process on that database with no cache (every request pays for
its queries and its rendering, as a client that varies its search would make it pay), and
each address is asked --runs times; the script prints the median in milliseconds and the
median divided by a plain catalog page's. Run it once on the code before a change and once
after, on the same database (migrated by the code that runs it), to compare. The addresses:
common words sorted every way, deep pages, the JSON API and the admin's product search.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORDS = "organic"       # in one demo title in 16 (models.ADJECTIVES)
BROAD = "no"            # in every title ("No. 17"): the broadest search there is
ELSEWHERE = "fisheries" # in no title, in one description in ten
RARE = "123456"         # in one title ("No. 123456"), from 123,456 products on
ADDRESSES = [
    ("plain catalog page", "/products"),
    ("plain catalog, page 2000", "/products?page=2000"),
] + [(f"search {q!r} by {sort}", f"/products?q={q}&sort={sort}")
     for q in (WORDS, BROAD) for sort in ("relevance", "title", "-title", "price", "-price",
                                          "newest")] + [
    (f"search {q!r} by {sort}", f"/products?q={q}&sort={sort}")
    for q in (ELSEWHERE, RARE, "zzzz") for sort in ("relevance", "price")] + [
    (f"search {BROAD!r} by price, page 400", f"/products?q={BROAD}&sort=price&page=400"),
    (f"search {BROAD!r}, page 400", f"/products?q={BROAD}&page=400"),
    (f"API search {BROAD!r} by price", f"/api/products?q={BROAD}&sort=price"),
    (f"API search {BROAD!r} by -price, page 300",
     f"/api/products?q={BROAD}&sort=-price&page=300"),
    ("admin list, no search", "/admin/product/"),
    (f"admin search {WORDS!r}", f"/admin/product/?q={WORDS}"),
    (f"admin search {RARE!r}", f"/admin/product/?q={RARE}"),
    (f"admin search {BROAD!r} by price", f"/admin/product/?q={BROAD}&sort=price"),
    (f"admin search {BROAD!r}, page 300", f"/admin/product/?q={BROAD}&page=300"),
]
STAFF, PASSWORD = "search-bench", "search bench pass 123"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    os.environ.update(STOREFRONT_DATA_DIR=args.data_dir, STOREFRONT_CACHE_URL="none",
                      STOREFRONT_DEBUG="0")
    if args.database_url:
        os.environ["STOREFRONT_DATABASE_URL"] = args.database_url
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import webtest

    import app as storefront
    import models
    client = webtest.TestApp(storefront.build(storefront.Settings()),
                             extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    log_in(client, models)
    plain = None
    print(f"{'address':44} {'median ms':>10} {'x plain':>8}")
    for name, address in ADDRESSES:
        client.get(address, status="*")      # warm the database's pages
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            status = client.get(address, status="*").status_int
            times.append((time.perf_counter() - start) * 1000)
        median = statistics.median(times)
        plain = plain or median
        print(f"{name:44} {median:10.1f} {median / plain:8.1f}" + (
            f"  (status {status})" if status != 200 else ""), flush=True)


def log_in(client, models):
    if not models.User.select().where(models.User.username == STAFF).exists():
        models.User.create_user(STAFF, password=PASSWORD, email="bench@example.com",
                                is_staff=True, is_superuser=True)
    form = client.get("/accounts/login").forms["login-form"]
    form["username"], form["password"] = STAFF, PASSWORD
    form.submit()


if __name__ == "__main__":
    main()
