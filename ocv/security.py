"""Security headers, CSRF, rate limits and session hardening."""

from __future__ import annotations

import datetime as dt

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from ocv import ratelimits
from ocv.proxy import TrustedProxy
from ocv.settings import Settings

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Permissions-Policy": "camera=(self), geolocation=(), microphone=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def init_security(app: Flask, settings: Settings) -> None:
    # Counters shared by every worker: in the database unless another storage is named.
    storage = settings.ratelimit_storage_url or ratelimits.URL
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="ocv_session",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=settings.session_minutes),
        REMEMBER_COOKIE_DURATION=dt.timedelta(0),
        WTF_CSRF_TIME_LIMIT=settings.session_minutes * 60,
        RATELIMIT_STORAGE_URI=storage,
        RATELIMIT_STORAGE_OPTIONS={"database_url": settings.resolved_database_url}
        if storage == ratelimits.URL
        else {},
        RATELIMIT_HEADERS_ENABLED=True,
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    app.wsgi_app = TrustedProxy(app.wsgi_app, settings.forwarded_allow_ips)  # type: ignore[method-assign]
    app.after_request(_add_security_headers)


def _add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint and not request.endpoint.endswith("static"):
        # Pages may show personal data: never keep them in shared caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
