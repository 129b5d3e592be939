"""The JSON API's OpenAPI 3.1 description, generated from the declarations that run it.

Each endpoint under /api/v1/ declares itself once with `operation` (who may call it, its
query form, its body and answer types, the errors it raises, its rate limit); the same
declaration authenticates the caller, parses the input, shapes the answer, and is read
back by `document.build` to describe the endpoint. A new API module copies the pattern:

    @bp.post("/stations/<code>/check-ins")
    @operation(
        "Check a voter in",
        access=Permission.CHECK_IN_VOTERS,
        body=CheckIn,                      # a msgspec Struct: decoded and checked here
        answers={201: CheckedIn},          # the view returns a CheckedIn
        errors=(NotFound, AlreadyVoted),   # OCVError classes the service raises
    )
    def check_in(code: str, actor: Actor, body: CheckIn) -> CheckedIn: ...

The blueprint needs nothing else: every rule of the app under /api/v1/ is described.
"""

from ocv.openapi.operation import PUBLIC, TOKEN, Access, Answer, Operation, operation
from ocv.openapi.schemas import column_integer, column_text

__all__ = ["PUBLIC", "TOKEN", "Access", "Answer", "Operation", "column_integer", "column_text", "operation"]
