"""Pages, JSON and static files leave the application gzipped; static files under
content-hashed names, cached for a year as immutable; the plain name revalidated."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

from flask.testing import FlaskClient

from ocv.assets import IMMUTABLE, REVALIDATE

STATIC = Path(__file__).resolve().parents[2] / "ocv" / "static"
GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def _static_urls(client: FlaskClient) -> list[str]:
    return re.findall(r'"(/static/[^"]+)"', client.get("/login").get_data(as_text=True))


def _without_csrf_token(page: bytes) -> bytes:
    """A form's token carries the second it was signed: two renderings differ there only."""
    return re.sub(rb'name="csrf_token" type="hidden" value="[^"]+"', b'name="csrf_token"', page)


def test_a_page_is_gzipped_for_a_client_that_accepts_it(client: FlaskClient) -> None:
    plain = client.get("/login")
    assert plain.headers.get("Content-Encoding") is None
    assert "Accept-Encoding" in plain.headers["Vary"]
    zipped = client.get("/login", headers=GZIP)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert _without_csrf_token(gzip.decompress(zipped.data)) == _without_csrf_token(plain.data)
    assert int(zipped.headers["Content-Length"]) == len(zipped.data) < len(plain.data) / 2
    assert zipped.headers["Cache-Control"] == "no-store"  # pages are still never cached


def test_json_is_gzipped_and_small_answers_are_left_alone(client: FlaskClient) -> None:
    tiny = client.get("/healthz", headers=GZIP)  # a few bytes: gzip would only add to them
    assert tiny.headers.get("Content-Encoding") is None
    assert tiny.get_json() == {"status": "ok"}
    refused = client.get("/api/v1/public/registration?reg_no=x&date_of_birth=y", headers=GZIP)
    assert refused.status_code == 422
    body = gzip.decompress(refused.data) if refused.headers.get("Content-Encoding") else refused.data
    assert b'"error"' in body


def test_gzip_refused_by_the_client_is_not_sent(client: FlaskClient) -> None:
    answer = client.get("/login", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert answer.headers.get("Content-Encoding") is None
    assert b"<html" in answer.data


def test_pages_name_static_files_by_their_content(client: FlaskClient) -> None:
    urls = _static_urls(client)
    assert len(urls) == 3
    for url in urls:
        name = url.removeprefix("/static/")
        stem, digest, suffix = name.split(".")
        body = (STATIC / f"{stem}.{suffix}").read_bytes()
        assert digest == hashlib.sha256(body).hexdigest()[:12]
        answer = client.get(url, headers=GZIP)
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == IMMUTABLE
        assert answer.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(answer.data) == body
        assert client.get(url).data == body  # as it is, to a client without gzip


def test_a_static_file_by_its_plain_name_is_revalidated(client: FlaskClient) -> None:
    first = client.get("/static/ocv.css")
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == REVALIDATE
    assert first.data == (STATIC / "ocv.css").read_bytes()
    again = client.get("/static/ocv.css", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""


def test_an_unknown_static_file_is_not_found(client: FlaskClient) -> None:
    assert client.get("/static/ocv.000000000000.css").status_code == 404
    assert client.get("/static/../settings.py").status_code == 404
