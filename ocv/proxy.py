"""The client's address behind the reverse proxy, trusted exactly as far as gunicorn is.

Behind a proxy every request comes from the proxy's address, so rate limits and lockouts
per address would count every client as one. `config/gunicorn.conf.py` believes the
forwarded headers of the addresses in OCV_FORWARDED_ALLOW_IPS; this middleware believes the
same addresses, for one hop: the last address in X-Forwarded-For, the one the trusted proxy
saw. A request from anywhere else keeps its own address, whatever header it sends.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

WSGIApp = Any


class TrustedProxy:
    def __init__(self, app: WSGIApp, trusted: Iterable[str]) -> None:
        self.app = app
        self.trusted = frozenset(trusted)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        peer = environ.get("REMOTE_ADDR", "")
        forwarded = environ.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded and ("*" in self.trusted or peer in self.trusted):
            client = forwarded.rsplit(",", 1)[-1].strip()
            if _is_address(client):
                environ["ocv.proxy_addr"] = peer
                environ["REMOTE_ADDR"] = client
        return self.app(environ, start_response)


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
