"""Bare Bottle "Hello World": the baseline for bench.py.

    python tests/perf/hello.py PORT THREADS                                  # waitress
    gunicorn -w 2 -b 127.0.0.1:PORT --chdir tests/perf hello:application     # gunicorn

It runs on the same server, with the same threads or workers, as the shop, so the ratio
shop/hello measures what the shop's own code costs per request rather than what this
(shared, noisy) machine happens to deliver right now.
"""
import logging
import sys

import bottle

application = bottle.Bottle()
application.route('/')(lambda: 'Hello World')

# Under load waitress warns "Task queue depth is N" for every queued request, while holding
# its task lock. That is expected during a benchmark, and the writes to stderr would slow
# down the baseline.
logging.getLogger('waitress.queue').setLevel(logging.ERROR)

if __name__ == '__main__':
    bottle.run(application, server='waitress', host='127.0.0.1', port=int(sys.argv[1]),
               threads=int(sys.argv[2]), quiet=True)
