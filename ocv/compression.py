"""Gzip for text responses (HTML, JSON, CSS, JS, SVG, CSV), in the application itself, so
the embedded server and a bare gunicorn send them small too. A reverse proxy in front
passes them through as they are (README: Deployment).

Compressing pages that hold secrets is what BREACH attacks, by reflecting text an attacker
chose into a victim's page and watching its size. Here the session cookie is
SameSite=Strict, so a request another site makes the victim's browser send carries no
session, and its page no secret of theirs."""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/csv",
        "text/plain",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/jsonl",
        "image/svg+xml",
    }
)
# Below this, gzip's header and the lost Content-Length hint cost more than they save.
MIN_SIZE = 512
LEVEL = 6  # zlib's default: most of level 9's gain at a fraction of its time


def accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def compress(response: Response) -> Response:
    if (
        response.mimetype not in COMPRESSIBLE
        or response.direct_passthrough  # files sent as they are (send_file)
        or response.is_streamed  # written while it is made: left as it comes
        or "Content-Encoding" in response.headers
        or response.status_code in (204, 206, 304)
    ):
        return response
    body = response.get_data()
    if len(body) < MIN_SIZE:
        return response
    response.vary.add("Accept-Encoding")
    if not accepts_gzip():
        return response
    response.set_data(gzip.compress(body, compresslevel=LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    return response


def init_compression(app: Flask) -> None:
    app.after_request(compress)
