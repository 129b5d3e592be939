"""Every answer the tests get from /api/v1/ is held to the description: its status is one the
operation describes, its content type the one described, its JSON body valid by the schema."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from jsonschema import Draft202012Validator
from werkzeug.exceptions import HTTPException

from ocv.openapi.views import description


class Conformance:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.mismatches: list[str] = []
        self._validators: dict[tuple[str, str], Draft202012Validator] = {}
        app.after_request(self._check)

    def _check(self, response: Response) -> Response:
        if request.path.startswith("/api/v1/"):
            mismatch = self._mismatch(response)
            if mismatch:
                self.mismatches.append(
                    f"{request.method} {request.full_path} → {response.status_code}: {mismatch}"
                )
        return response

    def _mismatch(self, response: Response) -> str | None:
        try:
            rule, _ = self.app.url_map.bind("").match(request.path, request.method, return_rule=True)
        except HTTPException:
            return None  # no such operation: nothing described to keep to
        document = description(self.app)
        operations = [op for methods in document["paths"].values() for op in methods.values()]
        operation = next((op for op in operations if op["operationId"] == rule.endpoint), None)
        if operation is None:
            return "not described"
        answer = operation["responses"].get(str(response.status_code))
        if answer is None:
            return f"status not described (only {sorted(operation['responses'])})"
        if response.mimetype not in answer["content"]:
            return f"content type {response.mimetype} not described"
        if response.mimetype != "application/json":
            return None
        key = (rule.endpoint, str(response.status_code))
        if key not in self._validators:
            schema: dict[str, Any] = answer["content"]["application/json"]["schema"]
            self._validators[key] = Draft202012Validator({**schema, "components": document["components"]})
        errors = list(self._validators[key].iter_errors(response.get_json()))
        return errors[0].message if errors else None
