"""Serves the description: `GET /api/v1/openapi.json`, and the reference page `/api/`."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Flask, current_app, render_template
from markupsafe import Markup, escape

from ocv.openapi.document import build
from ocv.openapi.operation import PUBLIC, Answer, operation

bp = Blueprint("openapi", __name__)

EXTENSION = "ocv.openapi"


def description(app: Flask) -> dict[str, Any]:
    """Built once per app: the routes cannot change after the first request."""
    if EXTENSION not in app.extensions:
        app.extensions[EXTENSION] = build(app)
    document: dict[str, Any] = app.extensions[EXTENSION]
    return document


@bp.get("/api/v1/openapi.json")
@operation(
    "This description",
    access=PUBLIC,
    answers={
        200: Answer(
            dict[str, Any],
            description="The OpenAPI 3.1 description of every /api/v1/ operation.",
            example={"openapi": "3.1.0", "info": {"title": "OCV JSON API", "version": "1"}, "paths": {}},
        )
    },
)
def openapi_json() -> dict[str, Any]:
    return description(current_app)


@bp.app_template_filter("pretty_json")
def pretty_json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)


@bp.app_template_filter("code_spans")
def code_spans(text: str) -> Markup:
    """The description's `code` spans as <code>, everything else escaped."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))  # noqa: S704 (escaped first)


@bp.get("/api/")
def reference() -> str:
    document = description(current_app)
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, methods in document["paths"].items():
        for method, described in methods.items():
            by_tag.setdefault(described["tags"][0], []).append((method.upper(), path, described))
    return render_template(
        "api/reference.html",
        document=document,
        by_tag=by_tag,
        tags={tag["name"]: tag["description"] for tag in document["tags"]},
        schemas=document["components"]["schemas"],
    )
