"""The OpenAPI 3.1 document of the app's /api/v1/ rules, read from their `operation`s."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import Any

import msgspec
from flask import Flask
from werkzeug.routing import Rule

from ocv.auth.permissions import ROLE_PERMISSIONS, Permission
from ocv.errors import AuthenticationFailed, OCVError, PermissionDenied
from ocv.openapi.operation import Access, Operation, described
from ocv.openapi.schemas import Error, Invalid, error_description, error_type, path_schema, query_parameters

PREFIX = "/api/v1/"
REF = "#/components/schemas/{name}"
METHODS = ("get", "put", "post", "delete", "patch")

DEFAULT_DESCRIPTIONS = {
    401: "No valid API token: send `Authorization: Bearer <token>`.",
    403: "The token's user may not do this.",
    404: "Nothing at this address.",
    409: "The request conflicts with the current state.",
    413: "The body is larger than the server accepts.",
    422: "The input breaks a rule; `fields` names each problem.",
    429: "Too many requests from this address: wait for `Retry-After` seconds.",
}

INFO = {
    "title": "OCV JSON API",
    "version": "1",
    "summary": "Registration, polling, tally and the signed audit log of out-of-country voting.",
    "description": (
        "Send `Authorization: Bearer <token>` where an operation needs a token (`ocv users token "
        "NAME`, or the account page). Every refusal is a JSON object with `error`, a message fit "
        "to show a person; 422 adds `fields`, each problem under the member it concerns. Nothing "
        "refused has changed anything."
    ),
}


def api_rules(app: Flask) -> Iterator[tuple[Rule, str]]:
    """Every (rule, method) of the app under /api/v1/, described or not."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith(PREFIX):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield rule, method.lower()


def undescribed(app: Flask) -> list[str]:
    return [
        f"{method.upper()} {rule.rule}"
        for rule, method in api_rules(app)
        if described(app.view_functions[rule.endpoint]) is None
    ]


def build(app: Flask) -> dict[str, Any]:
    found = [
        (rule, method, declared)
        for rule, method in api_rules(app)
        if (declared := described(app.view_functions[rule.endpoint])) is not None
    ]
    types = _types([declared for _, _, declared in found])
    schemas, components = msgspec.json.schema_components(types, ref_template=REF)
    schema_of = dict(zip(types, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, str] = {}
    for rule, method, declared in found:
        paths.setdefault(openapi_path(rule), {})[method] = _operation(rule, declared, schema_of)
        module = sys.modules[app.view_functions[rule.endpoint].__module__]
        tags.setdefault(_tag(rule), (module.__doc__ or "").strip().split("\n")[0])
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "servers": [{"url": "/"}],
        "tags": [{"name": name, "description": text} for name, text in tags.items()],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def openapi_path(rule: Rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def _types(operations: list[Operation]) -> list[Any]:
    """Every msgspec type named, in a stable order, each once."""
    found: list[Any] = [Error, Invalid]
    for declared in operations:
        found += [a.type for a in declared.answers.values() if a.type is not None]
        found += [error_type(e) for e in _errors(declared)]
        if declared.body is not None:
            found.append(declared.body)
    unique: list[Any] = []
    for t in found:
        if t not in unique:
            unique.append(t)
    return unique


def _errors(declared: Operation) -> list[type[OCVError]]:
    """The errors an operation can answer with: those it declares, and those of its access."""
    errors = list(declared.errors)
    if declared.access is not Access.PUBLIC:
        errors.append(AuthenticationFailed)
    if isinstance(declared.access, Permission):
        errors.append(PermissionDenied)
    return errors


def roles(permission: Permission) -> list[str]:
    return sorted(role.value for role, granted in ROLE_PERMISSIONS.items() if permission in granted)


def _tag(rule: Rule) -> str:
    """The blueprint's name: `registration_api` → `registration`."""
    return rule.endpoint.partition(".")[0].removesuffix("_api")


def _operation(rule: Rule, declared: Operation, schema_of: dict[Any, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": rule.endpoint,
        "tags": [_tag(rule)],
        "summary": declared.summary,
        "description": f"{declared.description}\n\n{_access_text(declared.access)}".strip(),
        "security": [] if declared.access is Access.PUBLIC else [{"bearer": []}],
    }
    if isinstance(declared.access, Permission):
        spec["x-permission"] = declared.access.value
        spec["x-roles"] = roles(declared.access)
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": path_schema(rule._converters[name])}
        for name in rule.arguments
    ]
    if declared.query is not None:
        parameters += query_parameters(declared.query)
    if parameters:
        spec["parameters"] = parameters
    if declared.body is not None:
        content: dict[str, Any] = {"schema": schema_of[declared.body]}
        if declared.example is not None:
            content["example"] = declared.example
        spec["requestBody"] = {"required": True, "content": {"application/json": content}}
    spec["responses"] = {**_successes(declared, schema_of), **_refusals(rule, declared, schema_of)}
    return spec


def _access_text(access: Access | Permission) -> str:
    if access is Access.PUBLIC:
        return "Public: no token needed."
    if access is Access.TOKEN:
        return "Needs an API token, of any role."
    return f"Needs an API token of a role with `{access.value}`: {', '.join(roles(access))}."


def _successes(declared: Operation, schema_of: dict[Any, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, answer in sorted(declared.answers.items()):
        content: dict[str, Any] = {"schema": schema_of[answer.type] if answer.type else {"type": "string"}}
        if answer.example is not None:
            content["example"] = answer.example
        response: dict[str, Any] = {
            "description": answer.description or "Done.",
            "content": {answer.media_type: content},
        }
        if answer.headers:
            response["headers"] = {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in answer.headers.items()
            }
        responses[str(status)] = response
    return responses


def _refusals(rule: Rule, declared: Operation, schema_of: dict[Any, Any]) -> dict[str, Any]:
    """Per status, the answers of the errors that map to it, and what each means."""
    kinds: dict[int, list[type[msgspec.Struct]]] = {}
    texts: dict[int, list[str]] = {}
    for error in _errors(declared):
        found = kinds.setdefault(error.http_status, [])
        if error_type(error) not in found:
            found.append(error_type(error))
        if text := error_description(error):
            texts.setdefault(error.http_status, []).append(text)
    if declared.query is not None or declared.body is not None:
        kinds.setdefault(422, [Invalid])
    if declared.body is not None:
        kinds.setdefault(413, [Error])
    if rule.arguments:
        kinds.setdefault(404, [Error])  # a path argument its converter refuses
    if declared.limit:
        kinds.setdefault(429, [Error])
    responses: dict[str, Any] = {}
    for status, answers in sorted(kinds.items()):
        schemas = [schema_of[kind] for kind in answers]
        description = " ".join([DEFAULT_DESCRIPTIONS.get(status, "Refused."), *texts.get(status, [])])
        example = declared.examples.get(status) or _example(answers[0], description)
        response: dict[str, Any] = {
            "description": description,
            "content": {
                "application/json": {
                    "schema": schemas[0] if len(schemas) == 1 else {"anyOf": schemas},
                    "example": example,
                }
            },
        }
        if status == 429:
            response["headers"] = {
                "Retry-After": {
                    "description": "Seconds until the next request is let through.",
                    "schema": {"type": "string"},
                },
            }
        responses[str(status)] = response
    return responses


def _example(kind: type[msgspec.Struct], description: str) -> dict[str, Any]:
    """A refusal's example from its meaning; members of its own as placeholders."""
    example: dict[str, Any] = {"error": description.split(":")[0].split(";")[0].rstrip(".") + "."}
    if kind is Invalid:
        example["fields"] = {"name": ["At most 100 characters."]}
    for name in kind.__struct_fields__:
        example.setdefault(name, "…")
    return example
