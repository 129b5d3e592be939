"""Security headers, error pages, languages and page weight."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from ocv.security import SECURITY_HEADERS
from tests.conftest import csrf_token, login


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/login"),
        ("GET", "/no/such/page"),
        ("GET", "/static/ocv.css"),
        ("GET", "/api/v1/me"),
        ("POST", "/login"),
        ("GET", "/healthz"),
    ],
)
def test_every_response_carries_the_security_headers(client: FlaskClient, method: str, path: str) -> None:
    with client.open(path, method=method) as response:
        headers = response.headers
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, (path, name)
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp


def test_session_cookie_is_hardened(client: FlaskClient, make_user, app) -> None:
    app.config["SESSION_COOKIE_SECURE"] = True
    make_user("alice")
    response = login(client, "alice")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("ocv_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Secure" in cookie


def test_session_is_renewed_at_login(client: FlaskClient, make_user) -> None:
    make_user("alice")
    client.get("/login")
    before = client.get_cookie("ocv_session")
    login(client, "alice")
    after = client.get_cookie("ocv_session")
    assert before is not None
    assert after is not None
    assert before.value != after.value


def test_error_pages(client: FlaskClient) -> None:
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "There is no page at this address." in page.get_data(as_text=True)
    api = client.get("/api/v1/no/such/thing")
    assert api.status_code == 404
    assert api.get_json() == {"error": "There is no page at this address."}


def test_arabic_pages_are_right_to_left(client: FlaskClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "تسجيل الدخول" in page


def test_french_and_the_language_switch(client: FlaskClient) -> None:
    token = csrf_token(client, "/login")
    switched = client.post("/language", data={"csrf_token": token, "lang": "fr", "next": "/login"})
    assert switched.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in page
    assert "Se connecter" in page


def test_language_switch_never_redirects_off_site(client: FlaskClient) -> None:
    token = csrf_token(client, "/login")
    response = client.post("/language", data={"csrf_token": token, "lang": "fr", "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("path", ["/", "/login"])
def test_pages_are_light(client: FlaskClient, path: str) -> None:
    sizes = {}
    for url in (path, "/static/ocv.css", "/static/ocv.js", "/static/favicon.svg"):
        with client.get(url) as response:
            sizes[url] = len(response.get_data())
            if url == path:
                assert "https://" not in response.get_data(as_text=True)  # no external CDN
    assert sum(sizes.values()) < 100_000, sizes
