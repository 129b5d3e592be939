"""Property: no request to any JSON endpoint is a server error, whatever its path, query or body.

Every route under /api/ is found in the app's URL map, so an endpoint added later is covered
without a change here. Bodies are generated JSON (deep, large, odd numbers, every character),
shaped like the endpoints' own bodies half of the time so that they reach the checks behind
the first one, and raw bytes.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from audit import service as audit_service
from ocv.auth import service as accounts
from ocv.security import limiter
from registration.models import Election
from tests.factories import OPERATOR
from tests.integration.test_registration import voter

# Names the endpoints read, so that generated queries and bodies reach their checks.
FIELDS = (
    "start",
    "end",
    "index",
    "size",
    "from",
    "to",
    "reg_no",
    "date_of_birth",
    "signature",
    *voter(),
    "documents",
    "father_name",
    "grandfather_name",
    "station",
    "sex",
    "phone",
    "email",
)

texts = st.text(st.characters(codec=None), max_size=120) | st.sampled_from(
    ["", "GE2027", "DE-BER-01", "OV-EU", "passport", "1990-05-17", "\x00", "\ud800", "A" * 400, "0"]
)
numbers = st.integers(min_value=-(2**70), max_value=2**70) | st.sampled_from([2**31, 2**63 - 1, 2**63, 2**64])
scalars = st.none() | st.booleans() | numbers | st.floats(allow_nan=False, allow_infinity=False) | texts
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS) | texts, inner, max_size=6)
    ),
    max_leaves=30,
)
shaped = st.fixed_dictionaries(
    {},
    optional={
        **{name: json_values for name in FIELDS},
        "documents": st.lists(
            st.fixed_dictionaries({"type": json_values, "number": json_values}), max_size=3
        ),
    },
)
query_values = texts | numbers.map(str)
queries = st.dictionaries(st.sampled_from(FIELDS) | texts, query_values, max_size=5)

PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _api_routes(app: Flask) -> list[tuple[str, str]]:
    return sorted(
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    )


def _path(rule: str, data: st.DataObject) -> str:
    def value(match: re.Match[str]) -> str:
        if match.group(1) == "int":
            return str(data.draw(st.integers(min_value=0, max_value=2**70) | st.sampled_from([0, 1, 2])))
        drawn = data.draw(st.sampled_from(["GE2027", "NOPE"]) | texts)
        return quote(drawn, safe="", errors="surrogatepass")

    return PARAMETER.sub(value, rule)


@pytest.fixture
def tokens(db_session: Session, make_user, election: Election) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """No token, and one of each kind of user the API serves: officers enrol, observers cosign."""
    headers: list[dict[str, str]] = [{}]
    for name, role in (("reggie2", "registration_officer"), ("olga", "observer"), ("ada", "admin")):
        token = accounts.issue_token(db_session, OPERATOR, make_user(name, role), "fuzz")
        headers.append({"Authorization": f"Bearer {token}"})
    db_session.commit()
    return headers


def test_the_property_covers_every_json_endpoint(app: Flask) -> None:
    routes = {rule for rule, _ in _api_routes(app)}
    assert "/api/v1/elections/<code>/voters" in routes
    assert "/api/v1/audit/cosignatures" in routes
    assert len(routes) >= 12


@settings(
    max_examples=300,
    deadline=None,
    database=None,  # no example database written into the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_request_to_a_json_endpoint_is_a_server_error(
    app: Flask, client: FlaskClient, db_session: Session, tokens: list[dict[str, str]], data: st.DataObject
) -> None:
    rule, method = data.draw(st.sampled_from(_api_routes(app)), label="route")
    path = _path(rule, data)
    query = data.draw(queries, label="query")
    url = f"{path}?{urlencode(query, errors='surrogatepass')}" if query else path
    headers = data.draw(st.sampled_from(tokens), label="token")
    with app.app_context():
        limiter.reset()  # every example reaches the endpoint's own checks, not the rate limit
    if method == "GET":
        before = audit_service.size(db_session)
        response = client.get(url, headers=headers)
        if not headers:  # and an anonymous read writes nothing to the log
            assert audit_service.size(db_session) == before, url
    else:
        kind = data.draw(st.sampled_from(["shaped", "json", "bytes"]), label="body")
        body: Any = data.draw(shaped if kind == "shaped" else json_values) if kind != "bytes" else None
        if body is None:
            raw = data.draw(st.binary(max_size=300) | st.just(b"[" * 3000), label="raw")
            response = client.open(
                url, method=method, data=raw, headers={**headers, "Content-Type": "application/json"}
            )
        else:
            try:
                response = client.open(url, method=method, json=body, headers=headers)
            except UnicodeEncodeError:  # a lone surrogate cannot be sent as UTF-8 JSON at all
                return
    assert response.status_code < 500, (method, url, response.get_data(as_text=True)[:500])
    if response.status_code >= 400 and response.mimetype == "application/json":
        assert "error" in response.get_json()
