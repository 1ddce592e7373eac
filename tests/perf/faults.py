"""Break the shop's parts one at a time under load, and count what visitors and the operator get.

    python tests/perf/faults.py                          # this checkout
    python tests/perf/faults.py --root ../other-checkout --seconds 30

It starts a Redis and a PostgreSQL of its own (on --redis-port and --pg-port, never the
machine's 6379 and 5432; PostgreSQL is initdb'd into --pg-dir the first time), seeds a shop
there, and serves it with `gunicorn -w 4 app:application` (sessions and cache in that Redis).
Threads of visitors load it: anonymous ones read pages, shoppers log in, add to their carts,
look at them and now and then check out. Then, one after another:

  baseline        nothing broken
  redis stopped   Redis killed for --seconds, then started again, empty (no persistence)
  redis frozen    Redis stopped with SIGSTOP for --seconds, then SIGCONT
  postgres down   PostgreSQL stopped for --seconds, then started again
  postgres unreachable  every packet to and from PostgreSQL's port dropped for --seconds (a
                  network partition, a paused machine: no answer and no reset), then let through
  after restarts  nothing broken: what the restarts still cost once everything is back

and prints per phase: requests, 500s (and the server's own error pages), other statuses,
requests that got no answer in 30 s or a broken connection, the slowest answer, carts lost
(a logged-in shopper who, after the phase, logs in again if they must and misses a product
they had put in the cart), what /readyz answered (asked every second), and the lines the
server logged.

Standard library only, plus gunicorn in the running Python. The unreachable phase needs root
and iptables (it is skipped without them); its two rules name --pg-port only and are removed
however the run ends. Leaves nothing running.
"""
import argparse
import collections
import html
import http.cookiejar
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
PASSWORD = "correct horse battery"
ADDRESS = {"first_name": "Ada", "last_name": "Shopper", "email": "ada@example.com",
           "street": "1 Load Lane", "city": "Testville", "zip": "12345"}
ANONYMOUS_PAGES = ["/", "/products", "/collections", "/products?sort=price", "/products?q={word}",
                   "/products/{product}"]
WORDS = ["chair", "lamp", "cotton", "steel", "blue", "mug", "oak", "wool"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=str(HERE.parent.parent), help="the checkout to run")
    parser.add_argument("--redis-port", type=int, default=6392)
    parser.add_argument("--pg-port", type=int, default=5442)
    parser.add_argument("--pg-dir", default=os.path.join(tempfile.gettempdir(), "storefront-faults-pg"))
    parser.add_argument("--seconds", type=float, default=10, help="how long each fault lasts")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--anonymous", type=int, default=6, help="anonymous visitor threads")
    parser.add_argument("--shoppers", type=int, default=6, help="logged-in shopper threads")
    args = parser.parse_args(argv)
    if args.redis_port == 6379 or args.pg_port == 5432:
        parser.error("this script breaks its servers: never the machine's own 6379 or 5432")
    return args


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port} after {timeout} s")


# --- The servers: Redis, PostgreSQL, gunicorn ----------------------------------------------

class Redis:
    def __init__(self, port):
        self.port, self.process = port, None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(10)

    def freeze(self, frozen=True):
        self.process.send_signal(signal.SIGSTOP if frozen else signal.SIGCONT)


class Postgres:
    def __init__(self, folder, port):
        self.folder, self.port = folder, port
        self.url = f"postgresql://postgres@127.0.0.1:{port}"

    def run(self, *command, check=True):
        if os.geteuid() == 0:           # PostgreSQL refuses to run as root
            command = ("runuser", "-u", "postgres", "--") + command
        return subprocess.run(command, check=check, capture_output=True, text=True)

    def start(self):
        if not os.path.exists(os.path.join(self.folder, "data", "PG_VERSION")):
            os.makedirs(self.folder, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(self.folder, "postgres")
            self.run("initdb", "-D", f"{self.folder}/data", "-U", "postgres", "--auth=trust")
        self.run("pg_ctl", "-D", f"{self.folder}/data", "-w", "-l", f"{self.folder}/log", "-o",
                 f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1", "start")

    def stop(self):
        self.run("pg_ctl", "-D", f"{self.folder}/data", "-m", "fast", "-w", "stop", check=False)

    def psql(self, sql):
        self.run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-c", sql)

    def cut_off(self, cut=True):
        """Drop every packet to and from this server's port (cut=False: let them through)."""
        assert self.port != 5432, "never the machine's own PostgreSQL"
        for chain, side in (("INPUT", "--dport"), ("OUTPUT", "--sport")):
            rule = [chain, "-p", "tcp", side, str(self.port), "-j", "DROP"]
            if cut:
                subprocess.run(["iptables", "-I"] + rule, check=True)
            else:       # each rule as often as it is there (none if it never was)
                while subprocess.run(["iptables", "-D"] + rule, capture_output=True).returncode == 0:
                    pass

    def can_cut_off(self):
        return os.geteuid() == 0 and shutil.which("iptables") is not None


def prepare_shop(args, env, shoppers):
    """Migrate and seed the shop's database, and make the shoppers' accounts."""
    python, root = sys.executable, args.root
    subprocess.run([python, "app.py", "migrate"], cwd=root, env=env, check=True,
                   capture_output=True)
    subprocess.run([python, "app.py", "seed", "--products", "300"], cwd=root, env=env,
                   check=True, capture_output=True)
    script = ("import app, models; app.open_database(app.settings)\n"
              f"for n in range({shoppers}):\n"
              f"    models.User.create_user(f'shopper{{n}}', f'shopper{{n}}@example.com', "
              f"{PASSWORD!r})\n"
              "print(','.join(str(p.id) for p in models.Product.select(models.Product.id)"
              ".where(models.Product.inventory >= 50)))")
    found = subprocess.run([python, "-c", script], cwd=root, env=env, check=True,
                           capture_output=True, text=True).stdout.strip()
    return [int(n) for n in found.split(",") if n]


def start_gunicorn(args, env, port, log_path):
    log = open(log_path, "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
         "--timeout", "60", "app:application"],
        cwd=args.root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/products", timeout=5)
            return server, base
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("gunicorn did not answer:\n" + open(log_path).read()[-3000:])


# --- Visitors --------------------------------------------------------------------------------

class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Load:
    """What every request got, by phase."""

    def __init__(self):
        self.phase, self.lock, self.stopping = "setup", threading.Lock(), False
        self.results = collections.defaultdict(list)      # phase -> [(status, seconds)]
        self.readyz = collections.defaultdict(list)       # the same, of /readyz

    def record(self, phase, status, seconds):
        """A request's answer, counted in the phase it was sent in (a hung one ends later)."""
        with self.lock:
            self.results[phase].append((status, seconds))

    def ready(self, phase, status, seconds):
        with self.lock:
            self.readyz[phase].append((status, seconds))


class Visitor:
    def __init__(self, load, base):
        self.load, self.base = load, base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirects)

    def request(self, path, data=None, record=True):
        """(status, body); status is "no answer" or "broken" when there was none."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        started, phase = time.monotonic(), self.load.phase
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as answer:
                status, text = answer.status, answer.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode(errors="replace")
        except (TimeoutError, socket.timeout):
            status, text = "no answer", ""
        except OSError:
            status, text = "broken", ""
        if record:
            self.load.record(phase, status, time.monotonic() - started)
        return status, text

    def token(self, record=True):
        status, page = self.request("/accounts/login", record=record)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        return found and html.unescape(found.group(1))


class Shopper(Visitor):
    def __init__(self, load, base, username, products):
        super().__init__(load, base)
        self.username, self.products = username, products
        self.expected, self.certain = set(), True    # what the cart should hold
        self.busy = threading.Lock()    # held by a step, so that lost_cart() sees none half-done

    def log_in(self, record=True):
        token = self.token(record)
        status, _ = self.request("/accounts/login", {"username": self.username,
                                                    "password": PASSWORD,
                                                    "csrf_token": token or ""}, record)
        return status == 303

    def add(self):
        product, token = random.choice(self.products), self.token()
        if not token:           # the page with the form did not answer: nothing to send
            return
        status, _ = self.request("/cart/items", {"product_id": product, "quantity": "1",
                                                "csrf_token": token})
        if status == 303:
            self.expected.add(product)

    def checkout(self):
        status, page = self.request("/checkout")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        if status != 200 or not found:
            return
        status, _ = self.request("/checkout", dict(ADDRESS, csrf_token=html.unescape(
            found.group(1))))
        if status == 303:
            self.expected = set()
        else:                           # placed or not: the next look at the cart will say
            self.certain = False

    def cart(self, record=True):
        """The product ids in the cart, or None if the page did not answer."""
        status, page = self.request("/cart", record=record)
        if status != 200:
            return None
        return {int(n) for n in re.findall(r'action="/cart/items/(\d+)"', page)}, \
            "Log out" in page

    def step(self):
        with self.busy:
            self._step()

    def _step(self):
        action = random.random()
        if action < 0.45:
            self.add()
        elif action < 0.85:
            found = self.cart()
            if found is not None and not self.certain:
                self.expected, self.certain = found[0], True
        elif action < 0.95:
            self.checkout()
        else:
            self.request(random.choice(ANONYMOUS_PAGES).format(
                word=random.choice(WORDS), product=random.choice(self.products)))

    def lost_cart(self):
        """After a phase: True if the cart misses a product put in it (logged in again if the
        session was lost)."""
        with self.busy:
            return self._lost_cart()

    def _lost_cart(self):
        found = self.cart(record=False)
        if found is None or not found[1]:
            self.log_in(record=False)
            found = self.cart(record=False)
        if found is None or not self.certain:
            self.certain = True
            self.expected = found[0] if found else set()
            return False
        lost = bool(self.expected - found[0])
        self.expected = found[0]
        return lost


def readiness(visitor):
    """Ask /readyz every second, as a load balancer would."""
    while not visitor.load.stopping:
        started, phase = time.monotonic(), visitor.load.phase
        status, _ = visitor.request("/readyz", record=False)
        visitor.load.ready(phase, status, time.monotonic() - started)
        time.sleep(1)


def anonymous(visitor, products):
    while not visitor.load.stopping:
        visitor.request(random.choice(ANONYMOUS_PAGES).format(
            word=random.choice(WORDS), product=random.choice(products)))


def shopping(shopper):
    shopper.log_in()
    while not shopper.load.stopping:
        shopper.step()


# --- The run ----------------------------------------------------------------------------------

def readyz_cell(results):
    statuses = collections.Counter(status for status, _ in results)
    slowest = max((seconds for _, seconds in results), default=0)
    return ", ".join(f"{status}: {count}" for status, count in sorted(
        statuses.items(), key=str)) + f" (≤ {slowest:.1f} s)"


def phase_row(name, results, carts_lost, log_lines, tracebacks, readyz):
    statuses = collections.Counter(status for status, _ in results)
    errors = statuses.pop(500, 0) + statuses.pop(502, 0)
    dropped = statuses.pop("no answer", 0) + statuses.pop("broken", 0)
    others = ", ".join(f"{status}: {count}" for status, count in sorted(
        statuses.items(), key=str) if not (isinstance(status, int) and status < 400))
    slowest = max((seconds for _, seconds in results), default=0)
    return (f"| {name:20} | {len(results):8} | {errors:5} | {others or '-':28} | {dropped:7} | "
            f"{slowest:6.1f} s | {carts_lost:10} | {readyz_cell(readyz):24} | {log_lines:9} | "
            f"{tracebacks:10} |")


def run(args):
    # A SIGTERM ends the run through its `finally`, which lets PostgreSQL's packets through again.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    redis = Redis(args.redis_port)
    postgres = Postgres(args.pg_dir, args.pg_port)
    data_dir = tempfile.mkdtemp(prefix="storefront-faults-")
    gunicorn = None
    try:
        redis.start()
        postgres.start()
        postgres.psql("DROP DATABASE IF EXISTS storefront_faults WITH (FORCE)")
        postgres.psql("CREATE DATABASE storefront_faults")
        env = {k: v for k, v in os.environ.items() if not k.startswith("STOREFRONT_")}
        env.update({"STOREFRONT_DATA_DIR": data_dir,
                    "STOREFRONT_DATABASE_URL": postgres.url + "/storefront_faults",
                    "STOREFRONT_SESSION_URL": f"redis://127.0.0.1:{args.redis_port}/1",
                    "STOREFRONT_CACHE_URL": f"redis://127.0.0.1:{args.redis_port}/0",
                    "STOREFRONT_SECRET_KEY": "faults-" + "k" * 40,
                    "STOREFRONT_PASSWORD_ITERATIONS": "1000"})
        products = prepare_shop(args, env, args.shoppers)
        log_path = os.path.join(data_dir, "server.log")
        gunicorn, base = start_gunicorn(args, env, free_port(), log_path)
        load = Load()
        shoppers = [Shopper(load, base, f"shopper{n}", products) for n in range(args.shoppers)]
        threads = [threading.Thread(target=anonymous, args=(Visitor(load, base), products))
                   for _ in range(args.anonymous)]
        threads += [threading.Thread(target=shopping, args=(s,)) for s in shoppers]
        threads.append(threading.Thread(target=readiness, args=(Visitor(load, base),)))
        for thread in threads:
            thread.daemon = True
            thread.start()
        told, faults = [], [
            ("baseline", None, None),
            ("redis stopped", redis.stop, redis.start),
            ("redis frozen", redis.freeze, lambda: redis.freeze(False)),
            ("postgres down", postgres.stop, postgres.start),
            ("postgres unreachable", postgres.cut_off, lambda: postgres.cut_off(False)),
            ("after restarts", None, None)]
        if not postgres.can_cut_off():
            print("(postgres unreachable: skipped, it needs root and iptables)")
            faults = [fault for fault in faults if fault[0] != "postgres unreachable"]
        for name, breaking, mending in faults:
            logged = len(open(log_path, errors="replace").readlines())
            load.phase = name
            if breaking:
                breaking()
            time.sleep(args.seconds)
            if mending:
                mending()
            time.sleep(3)               # the load goes on a moment with everything back
            load.phase = "between"
            lost = sum(shopper.lost_cart() for shopper in shoppers)
            lines = open(log_path, errors="replace").readlines()[logged:]
            told.append((name, lost, len(lines), sum("Traceback" in line for line in lines)))
        load.stopping = True
        for thread in threads:
            thread.join(timeout=35)     # a request that hung in a phase is counted in it
        rows = [phase_row(name, load.results[name], lost, lines, tracebacks, load.readyz[name])
                for name, lost, lines, tracebacks in told]
        print(f"\n{args.root}: gunicorn -w {args.workers}, {args.anonymous} anonymous and "
              f"{args.shoppers} shopper threads, each fault {args.seconds:g} s (+3 s after)\n")
        print("| phase                | requests |  500s | other statuses               | dropped "
              "| slowest  | carts lost | readyz                   | log lines | tracebacks |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        print("\n".join(rows))
        kept = os.path.join(tempfile.gettempdir(), "storefront-faults-server.log")
        shutil.copyfile(log_path, kept)
        print(f"\nThe server's log: {kept}")
    finally:
        if postgres.can_cut_off():
            postgres.cut_off(False)
        if gunicorn:
            gunicorn.terminate()
            gunicorn.wait(30)
        redis.stop()
        postgres.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    run(parse_args())
