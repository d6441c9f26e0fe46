"""gunicorn settings for `make run` and production: stateless sync workers on PORT.

Sync workers on purpose: Dash 4.4.1 answers 500 to script requests under threaded
(gthread) workers during the first page load after a restart (plotly/dash#3971).
"""

import gc
import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8050')}"
# One worker per core and one spare: a request is mostly CPU (the figure, Dash, Flask), so
# more processes than that only take turns on the cores. On 2 cores, 3 workers against
# gunicorn's usual 2 x cores + 1 = 5: one client's callback p50 0.88 ms against 0.94 (cache
# off: 1.14 against 1.44), 16 clients' throughput 1,999 req/s against 1,891 (cache off:
# 1,606 against 1,405), p99 12 ms against 16 (bench/RESULTS.md). WEB_CONCURRENCY overrides.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never take a machine down.
max_requests = 10_000
max_requests_jitter = 1_000
# "-" is stdout; an empty value turns the access log off (gunicorn would take "" as a path).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"


def post_worker_init(_worker: object) -> None:
    """Move everything the app holds once loaded out of the garbage collector's sight.

    Without this, full collections walk the whole app (plotly, pandas, SQLAlchemy) now and
    then, often while the worker is accepting a connection: 1-2% of dashboard callbacks
    took about 30 ms instead of 1 ms (`make bench-quick`, p99). Frozen, p99 is ~1.2 ms.
    """
    gc.collect()
    gc.freeze()
