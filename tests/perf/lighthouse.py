"""Lighthouse scores of every kind of page, on a phone and on a desktop.

    npm install --prefix ~/lh lighthouse         # once (Node 18+; Chromium: apt-get install chromium)
    python tests/perf/lighthouse.py --lighthouse ~/lh/node_modules/.bin/lighthouse
    python tests/perf/lighthouse.py --only home,cart --forms mobile --runs 1   # a quick look
    python tests/perf/lighthouse.py --root ../an-older-checkout           # the "before" figures

It starts the shop (`python app.py runserver`) on a free port with a fresh data dir (demo data),
makes a staff user and logs in through the form for the admin's list (Lighthouse sends that
session cookie with --extra-headers), puts a product in an anonymous visitor's cart for the cart
page, then runs Lighthouse on each page in each form factor, one run at a time (--runs of each, the
median kept), and prints the four scores (performance, accessibility, best practices, SEO), the
machine's CPU benchmark index (on a busy machine, under ~700, the timings and so the performance
score are noise) and the audits that cost points.

Standard library only. The browser is $CHROME_PATH, else `chromium` on the PATH.
"""
import argparse
import http.cookiejar
import json
import os
import re
import shutil
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
ROOT = HERE.parents[1]
STAFF_USER, STAFF_PASSWORD = 'lighthouse', 'lighthouse pass 123'
CATEGORIES = ('performance', 'accessibility', 'best-practices', 'seo')
# Each page: (name, path, who asks): `staff` is logged in, `cart` has one product in its cart.
PAGES = [('home', '/', None), ('catalog', '/products', None), ('product', '/products/1', None),
         ('cart', '/cart', 'cart'), ('login', '/accounts/login', None),
         ('lesson', '/playground/hello', None), ('api docs', '/api/docs', None),
         ('admin list', '/admin/product/', 'staff')]
CHROME_FLAGS = ('--headless --no-sandbox --disable-gpu --disable-background-networking '
                '--disable-component-update --disable-sync --no-first-run')


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Browser:
    """A visitor with cookies, who sends forms with their page's CSRF token."""

    def __init__(self, base):
        self.base, self.jar = base, http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def submit(self, path, fields, page=None):
        with self.opener.open(self.base + (page or path), timeout=60) as response:
            token = re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode())
        data = urllib.parse.urlencode(dict(fields, csrf_token=token.group(1))).encode()
        with self.opener.open(self.base + path, data=data, timeout=60) as response:
            return response.status

    def cookie(self):
        return '; '.join(f'{c.name}={c.value}' for c in self.jar)


def start_shop(root, data_dir, port):
    env = dict(os.environ, STOREFRONT_DATA_DIR=data_dir, PYTHONUNBUFFERED='1')
    env.pop('STOREFRONT_DEBUG', None)
    subprocess.run([sys.executable, 'app.py', 'createsuperuser', '--username', STAFF_USER,
                    '--email', 'lh@example.com', '--no-input'], cwd=root, check=True,
                   env=dict(env, STOREFRONT_SUPERUSER_PASSWORD=STAFF_PASSWORD),
                   capture_output=True)
    log = open(os.path.join(data_dir, 'server.log'), 'w')
    proc = subprocess.Popen([sys.executable, 'app.py', 'runserver', f'127.0.0.1:{port}'],
                            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f'http://127.0.0.1:{port}'
    for _ in range(1200):          # the first start loads the demo shop
        try:
            urllib.request.urlopen(base + '/', timeout=10).read()
            return proc, base
        except OSError:             # not listening yet, or busy loading the demo shop
            time.sleep(0.1)
    proc.kill()
    sys.exit(f'the shop did not start: see {log.name}')


def cookies(base):
    """{who: Cookie header}: a logged-in staff user, an anonymous visitor with a cart."""
    staff = Browser(base)
    staff.submit('/accounts/login', {'username': STAFF_USER, 'password': STAFF_PASSWORD})
    cart = Browser(base)
    cart.submit('/cart/items', {'product_id': 1, 'quantity': 1}, page='/products/1')
    return {'staff': staff.cookie(), 'cart': cart.cookie()}


def median_run(tool, url, form, cookie, out_dir, runs):
    """The run with the median performance score of `runs` (Lighthouse's advice: the
    performance score moves with the machine's load, the other three do not)."""
    results = sorted((lighthouse(tool, url, form, cookie, out_dir, n) for n in range(runs)),
                     key=lambda result: result[0]['performance'])
    return results[len(results) // 2]


def lighthouse(tool, url, form, cookie, out_dir, n=0):
    """{category: score 0-100}, the audits under full marks and the machine's benchmark
    index (Lighthouse's measure of the CPU; under ~700 its timings are unreliable), of a run."""
    out = Path(out_dir) / f'{form}-{re.sub(r"[^a-z0-9]+", "-", url.lower())}-{n}.json'
    cmd = [tool, url, f'--chrome-flags={CHROME_FLAGS}', '--output=json', f'--output-path={out}',
           '--quiet', '--only-categories=' + ','.join(CATEGORIES)]
    if form == 'desktop':
        cmd.append('--preset=desktop')
    if cookie:
        cmd.append('--extra-headers=' + json.dumps({'Cookie': cookie}))
    env = dict(os.environ, CHROME_PATH=os.environ.get('CHROME_PATH') or shutil.which('chromium'))
    subprocess.run(cmd, env=env, capture_output=True, timeout=300)
    report = json.loads(out.read_text())
    scores = {c: round((report['categories'][c]['score'] or 0) * 100) for c in CATEGORIES}
    lost = sorted({ref['id'] for c in CATEGORIES for ref in report['categories'][c]['auditRefs']
                   if ref['weight'] and (report['audits'][ref['id']]['score'] or 0) < 1
                   and report['audits'][ref['id']]['scoreDisplayMode'] in ('binary', 'numeric')})
    return scores, lost, round(report['environment']['benchmarkIndex'])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--root', default=str(ROOT), help='the checkout to serve')
    parser.add_argument('--lighthouse', default=shutil.which('lighthouse') or 'lighthouse')
    parser.add_argument('--only', help='page names, comma separated (default: all)')
    parser.add_argument('--forms', default='mobile,desktop')
    parser.add_argument('--keep', help='a folder to keep the JSON reports in')
    parser.add_argument('--runs', type=int, default=3, help='runs of each page (the median)')
    args = parser.parse_args()
    pages = [p for p in PAGES if not args.only or p[0] in args.only.split(',')]
    with tempfile.TemporaryDirectory() as data_dir:
        proc, base = start_shop(args.root, data_dir, free_port())
        try:
            who = cookies(base)
            out_dir = args.keep or data_dir
            os.makedirs(out_dir, exist_ok=True)
            print(f'{"page":<11} {"form":<8} perf a11y  b-p  seo  cpu  audits under full marks')
            for name, path, visitor in pages:
                for form in args.forms.split(','):
                    scores, lost, cpu = median_run(args.lighthouse, base + path, form,
                                                   who.get(visitor), out_dir, args.runs)
                    print(f'{name:<11} {form:<8} ' + ' '.join(f'{scores[c]:>4}' for c in
                                                              CATEGORIES) +
                          f' {cpu:>4}  ' + ' '.join(lost), flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == '__main__':
    main()
