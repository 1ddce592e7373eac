"""Load benchmark of the Storefront shop, measured against a bare Bottle app.

Run it from anywhere (it finds the project root itself):

    python tests/perf/bench.py --products 10000 --label uncached --env STOREFRONT_CACHE_URL=none
    python tests/perf/bench.py --products 10000 --label cached        # the default memory cache
    python tests/perf/bench.py --products 10000 --label toolbar --env STOREFRONT_DEBUG=1
    python tests/perf/bench.py --products 2000 --duration 3      # quick check

The shop caches whole pages for visitors without a session, and wrk is such a visitor: pass
STOREFRONT_CACHE_URL=none to measure the pages themselves. The admin pages are measured as a
logged-in staff user, whom the page cache never serves.

It needs wrk (Debian: apt-get install wrk) and uses only the standard library.

What it does:
  1. seeds a fresh SQLite database in a temporary STOREFRONT_DATA_DIR with
     `python app.py seed --products N` (and prints how long that took);
  2. starts the shop (`python app.py runserver ... --no-demo --threads T`)
     and tests/perf/hello.py, a bare Bottle "Hello World" on waitress with the
     same thread count;
  3. runs `wrk --latency -t2 -cC -dDs` against hello, then against the shop's
     home page, the first and a deep page of the catalog, the catalog sorted by
     price, a product page and the admin's product changelist (first page, a
     filter, a search, a deep page), and against hello once more at the end;
  4. prints a table and the shop's resident memory (RSS) after the load.

Reading the figures:
  req/s      requests per second over the run (higher is better);
  p50, p99   median and 99th-percentile latency in milliseconds;
  x hello    the page's req/s divided by hello's req/s (mean of the two hello
             runs). This ratio is the figure to compare between runs and
             commits: the machine is shared and noisy, so absolute numbers move
             from one run to the next, while the load on the machine affects
             hello and the shop about equally. A ratio of 0.25 means that a
             page costs about four times what Bottle and waitress alone cost.
             If the two hello runs differ a lot, the machine was busy: run
             again before drawing conclusions.
  errors     non-2xx/3xx responses and socket errors that wrk counted. A row
             with errors is flagged with "!" and the script exits with status
             1: a page that fails fast (e.g. 500s) looks fast, so its figures
             mean nothing.

Django: with --django PYTHON (a Python that has django and waitress, e.g. a separate virtual
environment: python -m venv /tmp/dj && /tmp/dj/bin/pip install django waitress), the same
catalog page written in Django (tests/perf/django_catalog.py) is served from the same database
and measured in the same run; the script prints our catalog's throughput as a multiple of it.

Options: --threads (server threads), --connections (wrk connections),
--duration (seconds per URL), --env KEY=VALUE (repeatable, passed to the shop
server, e.g. STOREFRONT_DEBUG=1 or STOREFRONT_CACHE_URL=...), --label (names
the run in the output), --keep (keeps the temporary data dir, with the
database and the servers' logs).
"""
import argparse
import http.cookiejar
import os
import re
import shutil
import signal
import socket
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
PAGE_SIZE = 24                  # products per catalog page in the shop
STAFF_USER, STAFF_PASSWORD = 'bench', 'bench pass 123'   # made by the benchmark, in its temp dir
READY_TIMEOUT = 30              # seconds a server gets to answer its first 200
WRK_THREADS = 2                 # the machine has two cores; more won't help


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Benchmark the Storefront shop against a bare Bottle app.')
    parser.add_argument('--products', type=int, default=10000,
                        help='products to seed (default: %(default)s)')
    parser.add_argument('--duration', type=int, default=10,
                        help='seconds of load per URL (default: %(default)s)')
    parser.add_argument('--connections', type=int, default=16,
                        help='wrk connections (default: %(default)s)')
    parser.add_argument('--threads', type=int, default=4,
                        help='server threads, shop and hello (default: %(default)s)')
    parser.add_argument('--env', action='append', default=[], metavar='KEY=VALUE',
                        help='environment variable for the shop server (repeatable)')
    parser.add_argument('--label', default='',
                        help='name of this run, printed in the output')
    parser.add_argument('--database-url', metavar='URL',
                        help='seed and serve this database instead of a temporary SQLite file, '
                             'e.g. postgresql://postgres@127.0.0.1:5432/storefront_bench '
                             '(an existing database; its shop data is replaced)')
    parser.add_argument('--django', metavar='PYTHON',
                        help='also serve the catalog in Django (tests/perf/django_catalog.py) '
                             'with this Python, which has django and waitress installed')
    parser.add_argument('--no-admin', action='store_true',
                        help='skip the admin changelist pages (measured as a logged-in user)')
    parser.add_argument('--keep', action='store_true',
                        help='keep the temporary data dir (database and logs)')
    args = parser.parse_args(argv)
    for item in args.env:
        if '=' not in item or item.startswith('='):
            parser.error(f'--env expects KEY=VALUE, got {item!r}')
    if args.products < 1:
        parser.error('--products must be at least 1')
    return args


# ---------------------------------------------------------------- servers ---

def free_port():
    """A port that is free now. Another process could take it before the
    server binds it, but on loopback that race is unlikely enough."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Server:
    """A server subprocess whose output goes to log files.

    Not to pipes: nobody reads them during the load, and a server that logs
    under load (waitress warns about its queue depth) would block once the
    pipe buffer is full.
    """

    def __init__(self, name, cmd, env, log_dir):
        self.name = name
        self.stdout_path = Path(log_dir) / f'{name}.stdout.log'
        self.stderr_path = Path(log_dir) / f'{name}.stderr.log'
        with open(self.stdout_path, 'wb') as out, open(self.stderr_path, 'wb') as err:
            # A session of its own, so stop() can also reach any child the
            # server starts, without touching anything else.
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out,
                                         stderr=err, stdin=subprocess.DEVNULL,
                                         start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def stderr_tail(self, max_chars=4000):
        try:
            text = self.stderr_path.read_text(errors='replace')
        except OSError:
            return ''
        return text[-max_chars:]

    def wait_ready(self, url, timeout=READY_TIMEOUT):
        """Poll url until it answers 200; exit if the server dies or never does."""
        deadline = time.monotonic() + timeout
        last_problem = 'no answer'
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                fail(f'{self.name} server exited with status {self.proc.returncode} '
                     f'before answering {url}', self.stderr_tail())
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        return
                    last_problem = f'HTTP {response.status}'
            except urllib.error.HTTPError as exc:
                last_problem = f'HTTP {exc.code}'
            except (urllib.error.URLError, OSError) as exc:
                last_problem = str(getattr(exc, 'reason', exc))
            time.sleep(0.2)
        fail(f'{self.name} server did not answer 200 on {url} within {timeout} s '
             f'(last: {last_problem})', self.stderr_tail())

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


def run_wrk(wrk, url, args, cookie=None):
    cmd = [wrk, '--latency', f'-t{WRK_THREADS}', f'-c{args.connections}',
           f'-d{args.duration}s', url]
    if cookie:
        cmd[1:1] = ['-H', f'Cookie: {cookie}']
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


def staff_cookie(base):
    """Log in as the benchmark's staff user through the login form; return its cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + '/accounts/login', timeout=30).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({'username': STAFF_USER, 'password': STAFF_PASSWORD,
                                   'csrf_token': token}).encode()
    opener.open(base + '/accounts/login', data=form, timeout=30).read()
    session = [c for c in jar if c.name == 'storefront_session']
    if not session:
        fail('could not log in as the benchmark staff user')
    return f'storefront_session={session[0].value}'


def check_url(url, cookie=None):
    """One request before the load, to say early if a page does not answer 200
    (e.g. a product id that does not exist). It also warms up the page."""
    try:
        request = urllib.request.Request(url, headers={'Cookie': cookie} if cookie else {})
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError) as exc:
        return str(getattr(exc, 'reason', exc))


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


def print_table(rows, hello_rps):
    header = ('page', 'path', 'req/s', 'p50 ms', 'p99 ms', 'x hello', 'errors')
    lines = []
    for name, path, result in rows:
        errors = describe_errors(result)
        ratio = result['rps'] / hello_rps if result['rps'] and hello_rps else None
        lines.append((('! ' if errors else '  ') + name, path,
                      fmt(result['rps'], ',.0f'), fmt(result['p50'], '.2f'),
                      fmt(result['p99'], '.2f'), fmt(ratio, '.2f'), errors or '0'))
    widths = [max(len(str(line[i])) for line in [header, *lines])
              for i in range(len(header))]
    # Text columns to the left, figures to the right.
    align = ['<', '<', '>', '>', '>', '>', '<']
    for line in [header, None, *lines]:
        if line is None:
            print('  '.join('-' * width for width in widths))
            continue
        print('  '.join(f'{str(cell):{a}{w}}' for cell, a, w in zip(line, align, widths))
              .rstrip())


# -------------------------------------------------------------------- main ---

def main(argv=None):
    args = parse_args(argv)
    if args.django and args.database_url:
        print('--django reads the SQLite file the benchmark makes: leave out --database-url',
              file=sys.stderr)
        return 2
    wrk = shutil.which('wrk')
    if not wrk:
        print('install wrk: apt-get install wrk', file=sys.stderr)
        return 2

    # A benchmark killed with SIGTERM (e.g. by a timeout) should still stop
    # its servers: turn the signal into SystemExit so the finally runs.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    deep_page = max(2, int(args.products * 0.75) // PAGE_SIZE)
    shop_pages = [
        ('home', '/'),
        ('catalog p1', '/products'),
        ('catalog deep', f'/products?page={deep_page}'),
        ('catalog by price', '/products?sort=price&page=2'),
        ('product', '/products/{product_id}'),    # an id read off the running shop
    ]
    # The admin's product changelist, as a logged-in staff user (so never the page cache).
    admin_pages = [
        ('admin products', '/admin/product/'),
        ('admin low stock', '/admin/product/?stock=low&sort=-unit_price'),
        ('admin search', '/admin/product/?q=coffee'),
        ('admin deep page', f'/admin/product/?page={max(2, int(args.products * 0.75) // 50)}'),
    ] if not args.no_admin else []

    data_dir = tempfile.mkdtemp(prefix='storefront-bench-')
    env = dict(os.environ, STOREFRONT_DATA_DIR=data_dir)
    if args.database_url:
        env['STOREFRONT_DATABASE_URL'] = args.database_url
    shop_env = dict(env, **dict(item.split('=', 1) for item in args.env))
    servers = []
    try:
        print(f"Storefront benchmark{' — ' + args.label if args.label else ''}")
        print(f'  {time.strftime("%Y-%m-%d %H:%M:%S")}, Python {sys.version.split()[0]}, '
              f'{os.cpu_count()} CPUs, wrk -t{WRK_THREADS} -c{args.connections} '
              f'-d{args.duration}s, server threads {args.threads}')
        print(f"  products {args.products}, env: {' '.join(args.env) or '(none)'}")
        print(f'  data dir {data_dir}')

        started = time.monotonic()
        seed = subprocess.run([sys.executable, 'app.py', 'seed', '--reset',
                               '--products', str(args.products)],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        if seed.returncode != 0:
            fail(f'seeding exited with status {seed.returncode}',
                 (seed.stdout + seed.stderr)[-4000:])
        print(f'Seeded {args.products} products in {time.monotonic() - started:.1f} s')
        if seed.stdout.strip():
            print(f'  app.py: {seed.stdout.strip().splitlines()[-1]}')
        if admin_pages:     # (on a database kept from an earlier run, the user is there)
            subprocess.run([sys.executable, 'app.py', 'createsuperuser', '--username',
                            STAFF_USER, '--email', 'bench@example.com', '--no-input'],
                           cwd=ROOT, env=dict(env, STOREFRONT_SUPERUSER_PASSWORD=STAFF_PASSWORD),
                           capture_output=True)

        shop_port, hello_port = free_port(), free_port()
        shop = Server('shop', [sys.executable, 'app.py', 'runserver',
                               f'127.0.0.1:{shop_port}', '--no-demo',
                               '--threads', str(args.threads)],
                      shop_env, data_dir)
        servers.append(shop)
        hello = Server('hello', [sys.executable, str(HERE / 'hello.py'),
                                 str(hello_port), str(args.threads)],
                       env, data_dir)
        servers.append(hello)
        shop_base = f'http://127.0.0.1:{shop_port}'
        hello_url = f'http://127.0.0.1:{hello_port}/'
        shop.wait_ready(shop_base + '/')
        hello.wait_ready(hello_url)
        if args.django:
            django_port = free_port()
            django = Server('django', [args.django, str(HERE / 'django_catalog.py'),
                                       os.path.join(data_dir, 'storefront.sqlite3'),
                                       str(django_port), str(args.threads)], env, data_dir)
            servers.append(django)
            django.wait_ready(f'http://127.0.0.1:{django_port}/products')
        rss_idle, _ = rss_mb(shop.pid)

        # A product from the middle of the price-sorted catalog: ids need not start at 1 (a
        # database seeded again keeps counting).
        with urllib.request.urlopen(f'{shop_base}/products?sort=price&page='
                                    f'{max(1, args.products // PAGE_SIZE // 2)}') as page:
            product_id = re.search(r'href="/products/(\d+)"', page.read().decode()).group(1)
        shop_pages = [(name, path.format(product_id=product_id)) for name, path in shop_pages]
        cookie = staff_cookie(shop_base) if admin_pages else None
        pages = [(name, path, None) for name, path in shop_pages] + \
                [(name, path, cookie) for name, path in admin_pages]
        for name, path, page_cookie in pages:
            status = check_url(shop_base + path, page_cookie)
            if status != 200:
                print(f'WARNING: {path} answered {status} before the load')

        def measure(name, url, page_cookie=None):
            print(f'  {name:<16} {url}', flush=True)
            return run_wrk(wrk, url, args, page_cookie)

        print(f'Load: {args.duration} s per URL, {len(pages) + 2} URLs')
        hello_first = measure('hello (start)', hello_url)
        shop_results = [(name, path, measure(name, shop_base + path, page_cookie))
                        for name, path, page_cookie in pages]
        if args.django:
            django_result = measure('django catalog', f'http://127.0.0.1:{django_port}/products')
            shop_results.append(('django catalog', '/products (Django)', django_result))
        # Taken before the second hello run, though the shop is idle then.
        rss_after, rss_peak = rss_mb(shop.pid)
        hello_last = measure('hello (end)', hello_url)

        if shop.proc.poll() is not None:
            fail(f'shop server exited with status {shop.proc.returncode} during '
                 'the load', shop.stderr_tail())

        hello_rates = [r['rps'] for r in (hello_first, hello_last) if r['rps']]
        hello_rps = sum(hello_rates) / len(hello_rates) if hello_rates else None

        print()
        print_table([('hello (start)', '/', hello_first), *shop_results,
                     ('hello (end)', '/', hello_last)], hello_rps)
        print()
        print(f"hello req/s: start {fmt(hello_first['rps'], ',.0f')}, "
              f"end {fmt(hello_last['rps'], ',.0f')}, "
              f"mean {fmt(hello_rps, ',.0f')} (the base of 'x hello')")
        if len(hello_rates) == 2 and max(hello_rates) > 1.2 * min(hello_rates):
            print('NOTE: the two hello runs differ by more than 20%: '
                  'the machine was busy, ratios are less reliable.')
        if args.django and django_result['rps']:
            ours = next(r['rps'] for name, _, r in shop_results if name == 'catalog p1')
            print(f"catalog p1: {ours / django_result['rps']:.2f}x the same page in Django")
        print(f'shop RSS: {fmt(rss_idle, ".1f")} MB before the load, '
              f'{fmt(rss_after, ".1f")} MB after it (peak {fmt(rss_peak, ".1f")} MB)')

        flagged = [name for name, _, result in
                   [('hello (start)', '/', hello_first), *shop_results,
                    ('hello (end)', '/', hello_last)]
                   if describe_errors(result)]
        if flagged:
            logs = data_dir if args.keep else 'rerun with --keep to read them'
            print(f"ERRORS in: {', '.join(flagged)} — their figures are not valid "
                  f'(server logs: {logs})')
            return 1
        return 0
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            print(f'Kept data dir {data_dir}')
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
