"""The OpenAPI description: valid OpenAPI 3.1, complete for /api/v1/, truthful about access,
with examples that match their schemas; served as JSON and as the reference page /api/."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from sqlalchemy.orm import Session

from ocv.acting import Actor
from ocv.app import create_app
from ocv.auth import service as accounts
from ocv.auth.permissions import Permission
from ocv.errors import Conflict
from ocv.openapi import PUBLIC, Answer, operation
from ocv.openapi.document import build, undescribed
from ocv.settings import Settings
from registration.models import Election
from tests.factories import OPERATOR
from tests.integration.test_route_access import ACCESS, EMBARGOED
from tests.integration.test_route_access import PUBLIC as PUBLIC_ROUTE
from tests.integration.test_route_access import TOKEN as ANY_TOKEN

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def document(app: Flask) -> dict[str, Any]:
    return build(app)


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op) for path, methods in document["paths"].items() for method, op in methods.items()
    ]


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for `schema`, its $refs resolved against the document's components."""
    return Draft202012Validator({**schema, "components": document["components"]})


def test_description_validates_as_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_every_api_endpoint_is_described(app: Flask, document: dict[str, Any]) -> None:
    """Read from the app's routes, not from the description: an endpoint under /api/v1/
    without its `operation` makes this fail."""
    routes = {
        (re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in (rule.methods or set()) & METHODS
    }
    described = {(path, method) for path, method, _ in _operations(document)}
    assert routes, "no API routes found"
    assert routes - described == set()
    assert undescribed(app) == []


def test_a_new_api_module_is_described_with_no_extra_step(settings: Settings) -> None:
    """What polling and tally do: a blueprint of `operation`s, registered, and nothing else."""
    app = create_app(settings)
    bp = Blueprint("ballots_api", __name__, url_prefix="/api/v1/ballots")

    class Count(msgspec.Struct):
        station: str
        ballots: int

    @bp.post("/<station>/counts")
    @operation("Count", access=Permission.RUN_STATION, body=Count, answers={201: Count}, errors=(Conflict,))
    def count(station: str, actor: Actor, body: Count) -> Count:
        return body

    @bp.get("/<station>/forgotten")
    def forgotten(station: str) -> str:
        return station

    app.register_blueprint(bp)
    document = build(app)
    described = document["paths"]["/api/v1/ballots/{station}/counts"]["post"]
    assert described["x-roles"] == ["presiding_officer"]
    assert described["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Count"
    }
    assert {"201", "401", "403", "404", "409", "422"} <= set(described["responses"])
    assert undescribed(app) == ["GET /api/v1/ballots/<station>/forgotten"]


def test_every_operation_states_its_access_and_answers(document: dict[str, Any]) -> None:
    tags = {tag["name"]: tag["description"] for tag in document["tags"]}
    for path, method, op in _operations(document):
        assert tags[op["tags"][0]], f"{op['tags'][0]}: its module says nothing of itself"
        where = f"{method.upper()} {path}"
        responses = op["responses"]
        assert op["summary"], where
        assert op["operationId"], where
        assert any(code.startswith("2") for code in responses), where
        if op["security"]:
            assert op["security"] == [{"bearer": []}], where
            assert "401" in responses, where
        if "x-permission" in op:
            assert op["x-roles"], where
            assert "403" in responses, where
        if "requestBody" in op or any(p["in"] == "query" for p in op.get("parameters", [])):
            assert "422" in responses, where
        for code, answer in responses.items():
            if code >= "400":
                schema = answer["content"]["application/json"]["schema"]
                refs = [schema] if "$ref" in schema else schema["anyOf"]
                for ref in refs:
                    error_schema = document["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
                    assert "error" in error_schema["required"], (where, code)


def test_access_in_the_description_is_the_route_table(app: Flask, document: dict[str, Any]) -> None:
    """The roles each operation names are those `test_route_access` proves can call it."""
    for _, _, op in _operations(document):
        expected = ACCESS[op["operationId"]]
        if expected in (PUBLIC_ROUTE, EMBARGOED):  # embargoed: public, refused until the embargo ends
            assert op["security"] == [], op["operationId"]
        elif expected == ANY_TOKEN:
            assert op["security"], op["operationId"]
            assert "x-roles" not in op, op["operationId"]
        else:
            assert isinstance(expected, frozenset)
            assert set(op["x-roles"]) == {role.value for role in expected}, op["operationId"]


def test_examples_match_their_schemas(document: dict[str, Any]) -> None:
    checked = 0
    for path, method, op in _operations(document):
        contents = (
            [("request", op["requestBody"]["content"]["application/json"])] if "requestBody" in op else []
        )
        contents += [
            (code, c) for code, answer in op["responses"].items() for c in answer["content"].values()
        ]
        for code, content in contents:
            where = f"{method.upper()} {path} {code}"
            if "example" not in content:
                assert content["schema"] == {"type": "string"}, f"{where}: no example"
                continue
            if content["schema"] != {"type": "string"}:
                errors = list(_validator(document, content["schema"]).iter_errors(content["example"]))
                assert errors == [], f"{where}: {errors[0].message if errors else ''}"
                checked += 1
    assert checked > 30


def test_the_enrolment_example_enrols(
    client: FlaskClient, db_session: Session, document: dict[str, Any], election: Election, officer: Actor
) -> None:
    described = document["paths"]["/api/v1/elections/{code}/voters"]["post"]
    example = described["requestBody"]["content"]["application/json"]["example"]
    token = accounts.issue_token(db_session, OPERATOR, officer.user, "test")
    db_session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/elections/GE2027/voters", json=example, headers=headers)
    assert created.status_code == 201, created.get_json()
    ok = described["responses"]["201"]["content"]["application/json"]["schema"]
    assert list(_validator(document, ok).iter_errors(created.get_json())) == []
    again = client.post("/api/v1/elections/GE2027/voters", json=example, headers=headers)
    assert again.status_code == 409
    conflict = described["responses"]["409"]["content"]["application/json"]["schema"]
    assert list(_validator(document, conflict).iter_errors(again.get_json())) == []
    assert again.get_json()["duplicate_of"] == created.get_json()["reg_no"]


def test_body_problems_are_named_by_member(client: FlaskClient, db_session: Session, officer: Actor) -> None:
    token = accounts.issue_token(db_session, OPERATOR, officer.user, "test")
    db_session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    too_long = client.post(
        "/api/v1/elections/GE2027/voters",
        json={
            "given_name": "A" * 101,
            "family_name": "B",
            "date_of_birth": "1990-01-01",
            "constituency": "X",
        },
        headers=headers,
    )
    assert too_long.status_code == 422
    assert set(too_long.get_json()["fields"]) == {"given_name"}
    nested = client.post(
        "/api/v1/elections/GE2027/voters",
        json={
            "given_name": "A",
            "family_name": "B",
            "date_of_birth": "1990-01-01",
            "constituency": "OV-EU",
            "host_country": "DE",
            "documents": [{"type": "passport"}],
        },
        headers=headers,
    )
    assert nested.status_code == 422
    assert nested.get_json()["fields"] == {
        "documents": ["Object missing required field `number` (at documents[0])"]
    }


def test_description_is_served_as_json(client: FlaskClient, app: Flask) -> None:
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert served.mimetype == "application/json"
    assert served.get_json() == build(app)


def test_reference_page_renders_the_description(client: FlaskClient, app: Flask) -> None:
    page = client.get("/api/")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    document = build(app)
    for path, method, op in _operations(document):
        assert f'id="{op["operationId"]}"' in html
        assert f"{method.upper()} {path}" in html  # in the contents; broken after slashes below
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert re.findall(r'(?:src|href)="(?:https?:)?//', html) == []  # nothing from elsewhere
    assert re.search(r"/static/ocv\.[0-9a-f]+\.css", html)  # the site's own look (content-hashed)
    assert "at most 100 characters" in html  # limits from the columns


def test_answers_are_the_declared_type(settings: Settings) -> None:
    """An answer that does not fit its declared type is refused at the source (500 in tests),
    never sent to a client with a shape the description does not promise."""
    app = create_app(settings)
    bp = Blueprint("drift_api", __name__, url_prefix="/api/v1/drift")

    class Shape(msgspec.Struct):
        size: int

    @bp.get("/")
    @operation("Drifts", access=PUBLIC, answers={200: Answer(Shape)})
    def drift() -> dict[str, str]:
        return {"size": "not a number"}

    app.register_blueprint(bp)
    answer = app.test_client().get("/api/v1/drift/")
    assert answer.status_code == 500
    assert "not a number" not in answer.get_data(as_text=True)
