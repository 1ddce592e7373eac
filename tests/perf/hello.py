"""Bare Bottle "Hello World" served by waitress: the baseline for bench.py.

Usage: python tests/perf/hello.py PORT THREADS

It runs on the same server and thread count as the shop, so the ratio
shop/hello measures what the shop's own code costs per request rather than
what this (shared, noisy) machine happens to deliver right now.
"""
import logging
import sys

import bottle


def main():
    port, threads = int(sys.argv[1]), int(sys.argv[2])
    # Under load waitress warns "Task queue depth is N" for every queued
    # request, while holding its task lock. That is expected during a
    # benchmark, and the writes to stderr would slow down the baseline.
    logging.getLogger('waitress.queue').setLevel(logging.ERROR)
    bottle.route('/')(lambda: 'Hello World')
    bottle.run(server='waitress', host='127.0.0.1', port=port,
               threads=threads, quiet=True)


if __name__ == '__main__':
    main()
