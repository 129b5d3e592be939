"""Production gunicorn settings; every value can be overridden with GUNICORN_* or flags."""

import multiprocessing
import os

from ocv.settings import FORWARDED_ALLOW_IPS

bind = os.environ.get("OCV_BIND", "127.0.0.1:8000")
# Sync workers: requests are short and database-bound; (2 × cores) + 1 is the usual start.
workers = int(os.environ.get("OCV_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
# Behind a TLS-terminating proxy on the same host: trust its X-Forwarded-* headers. The app
# reads the same variable to take the client's address from X-Forwarded-For (ocv.proxy).
forwarded_allow_ips = os.environ.get("OCV_FORWARDED_ALLOW_IPS", FORWARDED_ALLOW_IPS)
limit_request_line = 8190
limit_request_fields = 100
accesslog = "-"
errorlog = "-"
# The path without its query: a query may hold personal data (the self-check's date of birth).
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss "%({x-request-id}i)s"'
preload_app = True
