"""Load benchmark of the Storefront shop, beside a bare Bottle "hello" and beside Django.

Run it from anywhere (it finds the project root itself):

    python tests/perf/bench.py --products 10000 --django ~/django-venv/bin/python
    python tests/perf/bench.py --products 10000 --server waitress --threads 4
    python tests/perf/bench.py --products 2000 --duration 2 --server both      # a quick check

It seeds a database (`python app.py seed --products N`, timed), starts the shop, a bare Bottle
"Hello World" (tests/perf/hello.py) and, with --django, the same pages written in Django
(tests/perf/django_shop.py), all on the same server with the same workers or threads:
gunicorn with N sync workers (`gunicorn -w N app:application`) or waitress with N threads
(`python app.py runserver --threads N`). Then it loads each page with wrk (Debian: apt-get
install wrk) and prints one table per kind of visitor:

  anonymous  no cookie: the shop serves whole pages from its cache;
  shopper    logged in (through the login form) with one product in the cart; wrk sends
             the session cookie. A session skips the page cache: this is the shop's own work;
  staff      a logged-in staff user in the admin's product list.

The pages: home, catalog page 1, a product, a collection, the catalog by price, a search;
"first pages" asks for a random one of the first 10 catalog pages at each request and "deep
pages" a random one of the last quarter, each time with a query string never asked before
(&r=random), so that no cached page or part of a page answers either: both pay for their
rows and their rendering, and the figure compares what a page costs the shop by its depth. For staff: the list, a filter, a search, first and deep pages (50 rows each).
Django serves catalog page 1, the product and the collection to both kinds of visitor: its
usual middleware and views, and no cache of pages or fragments (no {% cache %}).

Reading the figures:
  req/s      requests per second (higher is better); p50, p99: latency in milliseconds;
  x hello    req/s divided by hello's (the mean of a run at the start and one at the end).
             Compare this ratio between runs and commits: the machine's load moves hello
             and the shop alike, while absolute numbers move from one run to the next. If
             the two hello runs differ by more than 20%, the machine was busy: run again;
  x Django   req/s divided by Django's for the same page, visitor and server;
  errors     non-2xx/3xx answers and socket errors. A row with errors is flagged "!" and the
             script exits with status 1: a page that fails fast looks fast.
Under the tables: what a deep page costs against a first page (first pages' req/s divided
by deep pages'), the shop's memory (RSS) after the load, each gunicorn worker's, and the
run's figures beside the project's targets.

Options for the scaled-out figures (--database-url, --env STOREFRONT_CACHE_URL=redis://...),
for a database seeded once and used again (--data-dir), and the rest: see --help. Standard
library only; Django goes in a virtual environment of its own:
python3 -m venv ~/django-venv && ~/django-venv/bin/pip install "django<6" gunicorn waitress
"""
import argparse
import functools
import http.cookiejar
import math
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]          # the project root, where app.py lives
PAGE_SIZE = 24                  # products per catalog page (the shop's STOREFRONT_PAGE_SIZE)
ADMIN_PAGE_SIZE = 50            # rows per page of the admin's lists
FIRST_PAGES = 10                # "first pages" are 1..10; "deep pages" the last quarter
# Users the benchmark makes (in its own database): a staff user and a shopper.
STAFF_USER, STAFF_PASSWORD = 'bench', 'bench pass 123'
SHOPPER, SHOPPER_PASSWORD = 'bench-shopper', 'shopper pass 123'
READY_TIMEOUT = 30              # seconds a server gets to answer its first 200
WRK_THREADS = 2                 # the machine has two cores; more won't help
VISITORS = ('anonymous', 'shopper', 'staff')

# The targets of DESIGN.md that this script measures.
TARGET_X_DJANGO = {'anonymous': 5, 'shopper': 3}   # at least this many times Django's req/s
TARGET_CACHED_X_HELLO = 0.5     # cached pages against hello ...
TARGET_CACHED_X_HELLO_SCALED_OUT = 0.45    # ... with PostgreSQL and Redis
TARGET_DEEP_COST = 2            # a deep page costs at most this many times a first page
TARGET_RSS_MB = 80              # the shop's memory after the load, per process


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Benchmark the Storefront shop beside a bare Bottle app and Django.')
    parser.add_argument('--products', type=int, default=10000,
                        help='products to seed (default: %(default)s)')
    parser.add_argument('--duration', type=int, default=10,
                        help='seconds of load per URL (default: %(default)s)')
    parser.add_argument('--connections', type=int, default=16,
                        help='wrk connections (default: %(default)s)')
    parser.add_argument('--server', choices=('gunicorn', 'waitress', 'both'), default='gunicorn',
                        help='the server of the shop, hello and Django; both = the whole run '
                             'on each (default: %(default)s)')
    parser.add_argument('--workers', type=int, default=2,
                        help='gunicorn sync workers (default: %(default)s)')
    parser.add_argument('--threads', type=int, default=4,
                        help='waitress threads (default: %(default)s)')
    parser.add_argument('--env', action='append', default=[], metavar='KEY=VALUE',
                        help='environment variable for the shop server (repeatable)')
    parser.add_argument('--label', default='',
                        help='name of this run, printed in the output')
    parser.add_argument('--database-url', metavar='URL',
                        help='seed and serve this database instead of an SQLite file, e.g. '
                             'postgresql://postgres@127.0.0.1:5432/storefront_bench '
                             '(an existing database; its shop data is replaced)')
    parser.add_argument('--data-dir', metavar='DIR',
                        help="the shop's data dir, kept: its database (or --database-url's) "
                             'is used again without seeding when it holds --products products')
    parser.add_argument('--django', metavar='PYTHON',
                        help='also serve the pages in Django (tests/perf/django_shop.py) with '
                             'this Python, which has django and gunicorn or waitress')
    parser.add_argument('--visitors', default=','.join(VISITORS),
                        help='the tables to measure, comma-separated (default: %(default)s)')
    parser.add_argument('--keep', action='store_true',
                        help='keep the temporary directory (logs, and the data unless --data-dir)')
    args = parser.parse_args(argv)
    for item in args.env:
        if '=' not in item or item.startswith('='):
            parser.error(f'--env expects KEY=VALUE, got {item!r}')
    if args.products < 1 or args.workers < 1 or args.threads < 1:
        parser.error('--products, --workers and --threads must be at least 1')
    args.visitors = [v.strip() for v in args.visitors.split(',') if v.strip()]
    unknown = set(args.visitors) - set(VISITORS)
    if unknown or not args.visitors:
        parser.error(f"--visitors takes some of {','.join(VISITORS)}")
    if args.django and args.database_url:
        parser.error('--django reads the SQLite file the shop uses: leave out --database-url')
    return args


# ---------------------------------------------------------------- servers ---

def free_port():
    """A port that is free now. Another process could take it before the
    server binds it, but on loopback that race is unlikely enough."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Server:
    """A server subprocess listening on a port of its own, its output in log files.

    Not in pipes: nobody reads them during the load, and a server that logs under load
    (waitress warns about its queue depth) would block once the pipe buffer is full.
    """

    def __init__(self, name, cmd, env, log_dir):
        self.name = name
        self.stdout_path = Path(log_dir) / f'{name}.stdout.log'
        self.stderr_path = Path(log_dir) / f'{name}.stderr.log'
        with open(self.stdout_path, 'wb') as out, open(self.stderr_path, 'wb') as err:
            # A session of its own, so stop() also reaches the workers it starts, and
            # nothing else.
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL, start_new_session=True)

    def stderr_tail(self, max_chars=4000):
        try:
            return self.stderr_path.read_text(errors='replace')[-max_chars:]
        except OSError:
            return ''

    def wait_ready(self, url, timeout=READY_TIMEOUT):
        """Poll url until it answers 200; exit if the server dies or never does."""
        deadline = time.monotonic() + timeout
        last_problem = 'no answer'
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                fail(f'{self.name} server exited with status {self.proc.returncode} '
                     f'before answering {url}', self.stderr_tail())
            status = fetch_status(url)
            if status == 200:
                return
            last_problem = status
            time.sleep(0.2)
        fail(f'{self.name} server did not answer 200 on {url} within {timeout} s '
             f'(last: {last_problem})', self.stderr_tail())

    def serving_pids(self):
        """The processes that answer requests: gunicorn's workers (the children of its
        master, our process), or waitress's one process."""
        children = []
        for entry in os.listdir('/proc'):
            if entry.isdigit():
                try:
                    stat = Path(f'/proc/{entry}/stat').read_text()
                except OSError:
                    continue
                # pid (command) state ppid ...: the command may hold spaces, so split after it
                if int(stat.rpartition(')')[2].split()[1]) == self.proc.pid:
                    children.append(int(entry))
        return children or [self.proc.pid]

    def stop(self):
        if self.proc.poll() is not None:
            return
        for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue


# The page each server is first asked for (Django serves no home page).
FRONT_PAGE = {'hello': '/', 'shop': '/', 'django': '/products'}


def server_command(kind, args, name, port):
    """The command that serves `name` (hello, shop or django) on `kind`, gunicorn or waitress,
    with the run's workers or threads."""
    python = args.django if name == 'django' else sys.executable
    if kind == 'gunicorn':
        module, folder = {'hello': ('hello', HERE), 'shop': ('app', ROOT),
                          'django': ('django_shop', HERE)}[name]
        return [python, '-m', 'gunicorn', '--worker-class', 'sync',
                '--workers', str(args.workers), '--bind', f'127.0.0.1:{port}',
                '--chdir', str(folder), *no_control_socket(python), f'{module}:application']
    if name == 'shop':
        return [python, 'app.py', 'runserver', f'127.0.0.1:{port}', '--no-demo', '--quiet',
                '--threads', str(args.threads)]
    script = 'hello.py' if name == 'hello' else 'django_shop.py'
    return [python, str(HERE / script), str(port), str(args.threads)]


@functools.cache
def no_control_socket(python):
    """Recent gunicorn listens on a control socket, by default at one path for every server
    the user runs (three here, and maybe others): the option that turns it off, if any."""
    help_text = subprocess.run([python, '-m', 'gunicorn', '--help'], capture_output=True,
                               text=True).stdout
    return ['--no-control-socket'] if '--no-control-socket' in help_text else []


def start_servers(kind, args, env, shop_env, log_dir, django_key):
    """Start hello, the shop and (with --django) Django on the same kind of server; return
    {name: (Server, base URL)} once each answers."""
    envs = {'hello': env, 'shop': shop_env}
    if args.django:
        envs['django'] = dict(env, DJANGO_SHOP_LOGIN_KEY=django_key, DJANGO_SHOP_DATABASE=str(
            Path(env['STOREFRONT_DATA_DIR']) / 'storefront.sqlite3'))
    servers = {}
    try:
        for name, server_env in envs.items():
            port = free_port()
            servers[name] = (Server(f'{name}-{kind}', server_command(kind, args, name, port),
                                    server_env, log_dir), f'http://127.0.0.1:{port}')
        for name, (server, base) in servers.items():
            server.wait_ready(base + FRONT_PAGE[name])
    except BaseException:
        stop_servers(servers)
        raise
    return servers


def stop_servers(servers):
    for server, _ in servers.values():
        server.stop()


def rss_mb(pid):
    """Current and peak resident memory of a process, in MB (from /proc)."""
    values = {}
    try:
        with open(f'/proc/{pid}/status') as status:
            for line in status:
                key, _, rest = line.partition(':')
                if key in ('VmRSS', 'VmHWM'):
                    values[key] = int(rest.split()[0]) / 1024   # kB -> MB
    except OSError:
        pass
    return values.get('VmRSS'), values.get('VmHWM')


# ---------------------------------------------------------------- database ---

def products_in_database(env):
    """How many products the shop's database holds (it is made if it does not exist)."""
    code = ('import app, models; app.open_database(app.settings); '
            'print(models.Product.select().count())')
    done = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        fail('could not open the database', done.stderr[-4000:])
    return int(done.stdout.split()[-1])


def prepare_database(args, env):
    """Seed the database (timed), unless --data-dir's already holds --products products;
    make the staff user."""
    if args.data_dir and products_in_database(env) == args.products:
        print(f'Using the {args.products:,} products already in the database (not seeded)')
    else:
        started = time.monotonic()
        seed = subprocess.run([sys.executable, 'app.py', 'seed', '--reset',
                               '--products', str(args.products)],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        if seed.returncode != 0:
            fail(f'seeding exited with status {seed.returncode}',
                 (seed.stdout + seed.stderr)[-4000:])
        print(f'Seeded {args.products:,} products in {time.monotonic() - started:.1f} s')
        if seed.stdout.strip():
            print(f'  app.py: {seed.stdout.strip().splitlines()[-1]}')
    if 'staff' in args.visitors:    # (it fails harmlessly where the user exists already)
        subprocess.run([sys.executable, 'app.py', 'createsuperuser', '--username', STAFF_USER,
                        '--email', 'bench@example.com', '--no-input'], cwd=ROOT,
                       env=dict(env, STOREFRONT_SUPERUSER_PASSWORD=STAFF_PASSWORD),
                       capture_output=True)


# ---------------------------------------------------------------- visitors ---

def fetch_status(url, cookie=None):
    """The status of one GET (or why there was none). Before the load, it says early if a
    page does not answer 200, and it warms the page up."""
    try:
        request = urllib.request.Request(url, headers={'Cookie': cookie} if cookie else {})
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError) as exc:
        return str(getattr(exc, 'reason', exc))


class Browser:
    """A visitor with cookies, who reads pages and sends forms as a browser would."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path):
        try:
            with self.opener.open(self.base + path, timeout=60) as response:
                return response.read().decode()
        except urllib.error.HTTPError as exc:
            fail(f'{self.base}{path} answered {exc.code} before the load')

    def submit(self, path, fields, page=None):
        """POST a form with the CSRF token of the page that shows it (`path` itself unless
        `page`); the status of the answer, after redirects."""
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.get(page or path))
        data = urllib.parse.urlencode(dict(fields, csrf_token=token.group(1))).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def cookie(self, *names):
        """The Cookie header that sends these cookies back."""
        found = {c.name: c.value for c in self.jar if c.name in names}
        if set(found) != set(names):
            return None
        return '; '.join(f'{name}={value}' for name, value in found.items())


def logged_in(base, username, password):
    browser = Browser(base)
    status = browser.submit('/accounts/login', {'username': username, 'password': password})
    cookie = browser.cookie('storefront_session')
    if status != 200 or not cookie:
        fail(f'could not log in as {username} (HTTP {status})')
    return browser


def shopper_cookie(base, product_id):
    """Register the shopper (once: afterwards the name is taken), log in through the form and
    put one product in the cart; the session cookie."""
    Browser(base).submit('/accounts/register', {
        'username': SHOPPER, 'email': 'shopper@example.com',
        'password': SHOPPER_PASSWORD, 'confirm': SHOPPER_PASSWORD})
    browser = logged_in(base, SHOPPER, SHOPPER_PASSWORD)
    status = browser.submit('/cart/items', {'product_id': product_id, 'quantity': 1},
                            page=f'/products/{product_id}')
    if status != 200:
        fail(f'could not add product {product_id} to the cart (HTTP {status})')
    return browser.cookie('storefront_session')


def django_shopper_cookie(base, data_dir, product_id, key):
    """Log the same shopper in to Django, with the same cart (by the comparator's own door:
    the password hashes are Storefront's); its session and CSRF cookies."""
    with sqlite3.connect(Path(data_dir) / 'storefront.sqlite3') as db:
        user_id, = db.execute('SELECT id FROM "user" WHERE username = ?', (SHOPPER,)).fetchone()
        cart_id, = db.execute('SELECT cart_id FROM cart_item WHERE product_id = ? '
                              'ORDER BY id DESC LIMIT 1', (product_id,)).fetchone()
    browser = Browser(base)
    browser.get(f'/bench-login/{user_id}?' + urllib.parse.urlencode({'cart': cart_id,
                                                                      'key': key}))
    browser.get('/products')        # the CSRF cookie that the pages' forms use
    return browser.cookie('sessionid', 'csrftoken')


def check_shopper_page(name, url, cookie):
    """A shopper's page must show their name and their cart of one: else the load would
    measure some other page (an anonymous one from the cache, say)."""
    page = urllib.request.urlopen(urllib.request.Request(url, headers={'Cookie': cookie}),
                                  timeout=60).read().decode()
    if f'>{SHOPPER}<' not in page or 'class="badge">1<' not in page:
        fail(f"{name}'s {url} does not show the shopper's name and a cart of one")


# -------------------------------------------------------------------- wrk ---

_UNIT_TO_MS = {'us': 0.001, 'ms': 1.0, 's': 1000.0, 'm': 60_000.0, 'h': 3_600_000.0}


def _latency_ms(text, percentile):
    match = re.search(rf'^\s*{percentile}%\s+([\d.]+)(us|ms|s|m|h)\s*$', text, re.M)
    return float(match.group(1)) * _UNIT_TO_MS[match.group(2)] if match else None


def parse_wrk(text):
    """The figures of one wrk --latency run.

    Returns a dict: rps, p50, p99 (ms; None when wrk printed none), requests,
    non2xx, and socket errors connect/read/write/timeout (0 when absent:
    wrk prints those lines only when there are some).
    """
    result = {'rps': None, 'p50': _latency_ms(text, 50), 'p99': _latency_ms(text, 99),
              'requests': None, 'non2xx': 0,
              'connect': 0, 'read': 0, 'write': 0, 'timeout': 0}
    match = re.search(r'^Requests/sec:\s+([\d.]+)', text, re.M)
    if match:
        result['rps'] = float(match.group(1))
    match = re.search(r'^\s*(\d+) requests in', text, re.M)
    if match:
        result['requests'] = int(match.group(1))
    match = re.search(r'Non-2xx or 3xx responses:\s+(\d+)', text)
    if match:
        result['non2xx'] = int(match.group(1))
    match = re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), '
                      r'timeout (\d+)', text)
    if match:
        for key, value in zip(('connect', 'read', 'write', 'timeout'), match.groups()):
            result[key] = int(value)
    return result


def describe_errors(result):
    """'' when the run was clean, else a short list of what went wrong."""
    if result.get('failed'):
        return result['failed']
    parts = []
    if result['non2xx']:
        parts.append(f"{result['non2xx']} non-2xx/3xx")
    for key in ('connect', 'read', 'write', 'timeout'):
        if result[key]:
            parts.append(f'{result[key]} {key}')
    if not result['requests']:
        parts.append('no requests')
    return ', '.join(parts)


def clean_rps(result):
    """The run's req/s, or None if it had errors: then the figure means nothing."""
    return None if describe_errors(result) else result['rps']


RANDOM_PAGES_LUA = """\
-- Each request asks for {path}N, N a random page from {first} to {last}, with a random
-- r= so that no cache has its answer: the page is fetched and rendered each time.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed(os.time() * 100 + id)       -- each wrk thread its own sequence
end
function request()
  return wrk.format(nil, "{path}" .. math.random({first}, {last})
                         .. "&r=" .. math.random(1, 1000000000))
end
"""


class Load:
    """One thing to measure: a page (path), or with `pages` = (first, last) a random page
    of that range at each request, as seen by the visitor whose cookie it sends. `django`:
    a page of the Django comparator."""

    def __init__(self, name, base, path, cookie=None, pages=None, django=False):
        self.name, self.base, self.path, self.cookie = name, base, path, cookie
        self.pages, self.django = pages, django

    def with_page(self, page):
        return f"{self.path}{'&' if '?' in self.path else '?'}page={page}"

    def urls(self):
        """The URLs to try before the load: the page, or the first and last of the range."""
        return [self.base + self.with_page(n) for n in self.pages] if self.pages \
            else [self.base + self.path]

    def shown_path(self):
        return self.with_page('%d..%d' % self.pages) if self.pages else self.path

    def run(self, wrk, args, script_dir):
        cmd = [wrk, '--latency', f'-t{WRK_THREADS}', f'-c{args.connections}',
               f'-d{args.duration}s']
        if self.cookie:
            cmd += ['-H', f'Cookie: {self.cookie}']
        if self.pages:
            script = Path(tempfile.mkstemp(suffix='.lua', dir=script_dir)[1])
            script.write_text(RANDOM_PAGES_LUA.format(path=self.with_page(''),
                                                      first=self.pages[0], last=self.pages[1]))
            cmd += ['-s', str(script)]
        cmd.append(self.base + self.path)
        try:
            done = subprocess.run(cmd, capture_output=True, text=True,
                                  timeout=args.duration + 60)
        except subprocess.TimeoutExpired:
            return dict(parse_wrk(''), failed='wrk hung')
        result = parse_wrk(done.stdout)
        if done.returncode != 0 or result['rps'] is None:
            reason = (done.stderr.strip() or done.stdout.strip()).splitlines()
            result['failed'] = f"wrk failed: {reason[-1] if reason else done.returncode}"
        return result


def page_range(products, per_page):
    """(first pages, deep pages): 1..10, and the last quarter of the pages."""
    last = max(1, math.ceil(products / per_page))
    return (1, min(FIRST_PAGES, last)), (max(1, int(last * 0.75)), last)


def tables_of(args, servers, cookies, site, page_size):
    """{visitor: [(Load of ours, Load of Django's same page or None), ...]} to measure."""
    shop = servers['shop'][1]
    django = servers['django'][1] if 'django' in servers else None
    first, deep = page_range(args.products, page_size)
    tables = {}
    for visitor in ('anonymous', 'shopper'):
        if visitor not in args.visitors:
            continue
        ours, theirs = cookies.get(visitor), cookies.get('django ' + visitor)

        def twin(name, path):
            return Load(name + ' (Django)', django, path, theirs, django=True) \
                if django else None
        tables[visitor] = [
            (Load('home', shop, '/', ours), None),
            (Load('catalog p1', shop, '/products', ours), twin('catalog p1', '/products')),
            (Load('product', shop, site['product'], ours), twin('product', site['product'])),
            (Load('collection', shop, site['collection'], ours),
             twin('collection', site['collection'])),
            (Load('catalog by price', shop, '/products?sort=price&page=2', ours), None),
            (Load('search', shop, f"/products?q={site['word']}", ours), None),
            (Load('first pages', shop, '/products', ours, first), None),
            (Load('deep pages', shop, '/products', ours, deep), None),
        ]
    if 'staff' in args.visitors:
        first, deep = page_range(args.products, ADMIN_PAGE_SIZE)
        staff = cookies['staff']
        tables['staff'] = [(Load(name, shop, path, staff, pages), None) for name, path, pages in [
            ('admin products', '/admin/product/', None),
            ('admin low stock', '/admin/product/?stock=low&sort=-unit_price', None),
            ('admin search', '/admin/product/?q=coffee', None),
            ('admin first pages', '/admin/product/', first),
            ('admin deep pages', '/admin/product/', deep)]]
    return tables


# ------------------------------------------------------------------ output ---

def fail(message, details=''):
    print(f'ERROR: {message}', file=sys.stderr)
    if details:
        print('--- server stderr (tail) ---', file=sys.stderr)
        print(details.rstrip(), file=sys.stderr)
        print('----------------------------', file=sys.stderr)
    sys.exit(1)


def fmt(value, spec):
    return '-' if value is None else format(value, spec)


def ratio(a, b):
    return a / b if a and b else None


def print_table(rows, hello_rps):
    """rows: (Load, result, x Django or None)."""
    header = ('page', 'path', 'req/s', 'p50 ms', 'p99 ms', 'x hello', 'x Django', 'errors')
    lines = []
    for load, result, x_django in rows:
        errors = describe_errors(result)
        lines.append((('! ' if errors else '  ') + load.name, load.shown_path(),
                      fmt(result['rps'], ',.0f'), fmt(result['p50'], '.2f'),
                      fmt(result['p99'], '.2f'), fmt(ratio(result['rps'], hello_rps), '.2f'),
                      fmt(x_django, '.2f'), errors or '0'))
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(len(header))]
    align = ['<', '<', '>', '>', '>', '>', '>', '<']  # text to the left, figures to the right
    for line in [header, None, *lines]:
        if line is None:
            print('  '.join('-' * width for width in widths))
            continue
        print('  '.join(f'{str(cell):{a}{w}}' for cell, a, w in zip(line, align, widths))
              .rstrip())


def deep_cost(rows):
    """What a deep page costs against a first page: first pages' req/s / deep pages'."""
    rps = {load.name.replace('admin ', ''): clean_rps(result) for load, result, _ in rows}
    return ratio(rps.get('first pages'), rps.get('deep pages'))


def verdict(ok):
    return 'met' if ok else 'NOT MET'


def print_targets(results, hello_rps, rss_max, database_url, scaled_out):
    """The run's figures beside the targets of DESIGN.md."""
    print('Against the targets (DESIGN.md; figures with errors left out):')
    for visitor, target in TARGET_X_DJANGO.items():
        ratios = [(load.name, x) for load, _, x in results.get(visitor, []) if x is not None]
        if ratios:
            print(f'  {visitor} x Django >= {target}: '
                  + ', '.join(f'{name} {x:.2f}' for name, x in ratios)
                  + f' — {verdict(all(x >= target for _, x in ratios))}')
    cached = [ratio(clean_rps(result), hello_rps) for load, result, _ in
              results.get('anonymous', []) if not load.pages and not load.django]
    if cached and all(cached):
        target = TARGET_CACHED_X_HELLO_SCALED_OUT if scaled_out else TARGET_CACHED_X_HELLO
        print(f'  cached pages (anonymous) x hello >= {target}: lowest {min(cached):.2f} — '
              f'{verdict(min(cached) >= target)}')
    for visitor, rows in results.items():
        cost = deep_cost(rows)
        if cost:
            print(f'  {visitor}: a deep page costs {cost:.2f}x a first page (<= '
                  f'{TARGET_DEEP_COST}) — {verdict(cost <= TARGET_DEEP_COST)}')
    if rss_max and not database_url:    # the target is for SQLite
        print(f'  shop RSS after the load < {TARGET_RSS_MB} MB: {rss_max:.1f} MB — '
              f'{verdict(rss_max < TARGET_RSS_MB)}')


# -------------------------------------------------------------------- main ---

def measure_on(kind, args, env, shop_env, run_dir, wrk):
    """Start the servers on `kind`, measure every table and print them; True if all ran clean."""
    setup = (f'gunicorn, {args.workers} sync worker{"s" * (args.workers > 1)}'
             if kind == 'gunicorn' else f'waitress, {args.threads} threads')
    print(f'\n=== {setup} ===')
    django_key = secrets.token_urlsafe(16)
    servers = start_servers(kind, args, env, shop_env, run_dir, django_key)
    try:
        # A second of load on each server first: gunicorn's workers each open the database
        # on their first request, and that is not what the figures are about.
        warm = argparse.Namespace(**dict(vars(args), duration=1))
        for name, (_, base) in servers.items():
            Load('warm-up', base, FRONT_PAGE[name]).run(wrk, warm, run_dir)
        page_size = int(shop_env.get('STOREFRONT_PAGE_SIZE', PAGE_SIZE))
        site = read_site(servers['shop'][1], args.products, page_size)
        cookies = log_in(args, servers, site, env['STOREFRONT_DATA_DIR'], django_key)
        tables = tables_of(args, servers, cookies, site, page_size)
        for load in [load for rows in tables.values() for pair in rows for load in pair if load]:
            for url in load.urls():
                status = fetch_status(url, load.cookie)
                if status != 200:
                    print(f'WARNING: {url} answered {status} before the load')
        results, rss = run_tables(tables, servers, args, wrk, run_dir)
    finally:
        stop_servers(servers)
    return report(kind, setup, args, results, rss, run_dir)


def read_site(shop, products, page_size):
    """A product in stock (it goes in the cart) from the middle of the price-sorted catalog
    (ids need not start at 1: a database seeded again keeps counting), its collection, and a
    word of its title."""
    middle = Browser(shop).get(f'/products?sort=price&page={max(1, products // page_size // 2)}')
    product_id = re.search(r'name="product_id" value="(\d+)"', middle).group(1)
    product_page = Browser(shop).get(f'/products/{product_id}')
    return {'product_id': product_id, 'product': f'/products/{product_id}',
            'collection': re.search(r'href="(/collections/\d+)"', product_page).group(1),
            'word': re.search(r'<h1>(\w+)', product_page).group(1).lower()}


def log_in(args, servers, site, data_dir, django_key):
    """{visitor: the Cookie header wrk sends} for the logged-in visitors."""
    shop = servers['shop'][1]
    cookies = {}
    if 'shopper' in args.visitors:
        cookies['shopper'] = shopper_cookie(shop, site['product_id'])
        check_shopper_page('the shop', shop + '/products', cookies['shopper'])
        if args.django:
            django = servers['django'][1]
            cookies['django shopper'] = django_shopper_cookie(django, data_dir,
                                                              site['product_id'], django_key)
            check_shopper_page('Django', django + '/products', cookies['django shopper'])
    if 'staff' in args.visitors:
        cookies['staff'] = logged_in(shop, STAFF_USER, STAFF_PASSWORD).cookie(
            'storefront_session')
    return cookies


def run_tables(tables, servers, args, wrk, run_dir):
    """Load hello, then every page of every table, then hello again. Returns the results,
    {table: [(Load, wrk result, x Django or None)]}, and the RSS of the shop's processes."""
    def measure(load):
        print(f'  {load.name:<24} {load.base}{load.shown_path()}', flush=True)
        return load.run(wrk, args, run_dir)

    count = 2 + sum(1 for rows in tables.values() for pair in rows for load in pair if load)
    print(f'Load: {args.duration} s per URL, {count} URLs')
    hello = Load('hello (start)', servers['hello'][1], '/')
    results = {'hello': [(hello, measure(hello), None)]}
    for visitor, rows in tables.items():
        print(f'  {visitor}:')
        results[visitor] = []
        for ours, theirs in rows:    # Django's same page right after ours: under the same load
            result = measure(ours)
            if theirs is None:
                results[visitor].append((ours, result, None))
                continue
            their_result = measure(theirs)
            x_django = ratio(clean_rps(result), clean_rps(their_result))
            results[visitor] += [(ours, result, x_django), (theirs, their_result, None)]
    shop = servers['shop'][0]
    rss = [rss_mb(pid) for pid in shop.serving_pids()]
    hello = Load('hello (end)', servers['hello'][1], '/')
    results['hello'].append((hello, measure(hello), None))
    if shop.proc.poll() is not None:
        fail(f'the shop exited with status {shop.proc.returncode} during the load',
             shop.stderr_tail())
    return results, rss


TITLES = {'hello': 'Bare Bottle "hello"',
          'anonymous': 'Anonymous visitor (no cookie: pages from the page cache)',
          'shopper': 'Logged-in shopper with a cart (a session: no page cache)',
          'staff': 'Staff user in the admin'}


def report(kind, setup, args, results, rss, run_dir):
    """Print the tables, the memory and the targets; True if no figure is flagged."""
    hello_rates = [result['rps'] for _, result, _ in results['hello'] if result['rps']]
    hello_rps = sum(hello_rates) / len(hello_rates) if hello_rates else None
    for visitor, rows in results.items():
        print(f'\n{TITLES[visitor]}, {setup}:')
        print_table(rows, hello_rps)
        cost = deep_cost(rows)
        if cost:
            print(f'A deep page costs {cost:.2f}x a first page '
                  '(first pages req/s / deep pages req/s).')
    print()
    print(f"hello req/s: {' then '.join(f'{rps:,.0f}' for rps in hello_rates)}, "
          f"mean {fmt(hello_rps, ',.0f')} (the base of 'x hello')")
    if len(hello_rates) == 2 and max(hello_rates) > 1.2 * min(hello_rates):
        print('NOTE: the two hello runs differ by more than 20%: '
              'the machine was busy, ratios are less reliable.')
    if args.django:
        print('Django: tests/perf/django_shop.py, its usual middleware and views, no page or '
              'fragment cache ({% cache %}), from the same SQLite file.')
    current = [now for now, _ in rss if now]
    peak = max((peak or 0 for _, peak in rss), default=0)
    if kind == 'gunicorn' and current:
        print(f'shop RSS after the load, {len(current)} gunicorn workers: max '
              f'{max(current):.1f} MB, mean {sum(current) / len(current):.1f} MB '
              f'(peak {peak:.1f} MB)')
    elif current:
        print(f'shop RSS after the load: {current[0]:.1f} MB (peak {peak:.1f} MB)')
    print()
    scaled_out = bool(args.database_url) and any('redis://' in e for e in args.env)
    print_targets(results, hello_rps, max(current, default=None), args.database_url,
                  scaled_out)

    flagged = [load.name for rows in results.values() for load, result, _ in rows
               if describe_errors(result)]
    if flagged:
        logs = run_dir if args.keep else 'rerun with --keep to read them'
        print(f"ERRORS in: {', '.join(flagged)} — their figures are not valid "
              f'(server logs: {logs})')
    return not flagged


def main(argv=None):
    args = parse_args(argv)
    wrk = shutil.which('wrk')
    if not wrk:
        print('install wrk: apt-get install wrk', file=sys.stderr)
        return 2

    # A benchmark killed with SIGTERM (e.g. by a timeout) should still stop
    # its servers: turn the signal into SystemExit so the finally runs.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    run_dir = tempfile.mkdtemp(prefix='storefront-bench-')     # logs, wrk scripts
    data_dir = os.path.abspath(args.data_dir) if args.data_dir else run_dir
    env = dict(os.environ, STOREFRONT_DATA_DIR=data_dir,
               # One key for every worker, as a deployment sets it (README, Deploying).
               STOREFRONT_SECRET_KEY=secrets.token_urlsafe(48))
    if args.database_url:
        env['STOREFRONT_DATABASE_URL'] = args.database_url
    shop_env = dict(env, **dict(item.split('=', 1) for item in args.env))
    try:
        print(f"Storefront benchmark{' — ' + args.label if args.label else ''}")
        print(f'  {time.strftime("%Y-%m-%d %H:%M:%S")}, Python {sys.version.split()[0]}, '
              f'{os.cpu_count()} CPUs, wrk -t{WRK_THREADS} -c{args.connections} '
              f'-d{args.duration}s')
        print(f"  products {args.products:,}, database {args.database_url or 'SQLite'}, "
              f"env: {' '.join(args.env) or '(none)'}")
        print(f'  data dir {data_dir}')
        prepare_database(args, env)
        kinds = ['gunicorn', 'waitress'] if args.server == 'both' else [args.server]
        clean = [measure_on(kind, args, env, shop_env, run_dir, wrk) for kind in kinds]
        return 0 if all(clean) else 1
    finally:
        if args.keep:
            print(f'Kept {run_dir}')
        else:
            shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
