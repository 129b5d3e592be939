"""One way to act: who acts (`Actor`), whether they may (`authorize`), and the audit
entry of what they did (`record`). Every service of every package goes through here
(docs/architecture.md, "Acting").

Three kinds of actor:

- a signed-in **user**, who may do what their role permits (station officials only at
  their own station);
- an **operator** at the server's console (`ocv ...`), trusted by construction, since
  whoever runs the CLI already holds the database; named in the log by the OS user or
  `ocv --as NAME`;
- the **system** itself (the checkpoint schedule, the sequencer, anonymous sign-in
  attempts), recorded with a null actor.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from ocv.auth.models import User
from ocv.auth.permissions import Permission, can, require
from ocv.events import EventType

log = logging.getLogger(__name__)

OPERATOR_ROLE = "operator"
SYSTEM_ROLE = "system"


@dataclass(frozen=True)
class Actor:
    """Who acts. `name` is what records of the act show (a voter's history, a review)."""

    name: str
    role: str
    user: User | None = field(default=None, compare=False, repr=False)

    @staticmethod
    def of(user: User) -> Actor:
        return Actor(user.username, user.role, user)

    @staticmethod
    def operator(name: str | None = None) -> Actor:
        """The person at the console: `name`, or the OS user running the command."""
        return Actor((name or _os_user()).strip(), OPERATOR_ROLE)

    @property
    def is_user(self) -> bool:
        return self.user is not None

    @property
    def is_system(self) -> bool:
        return self.role == SYSTEM_ROLE

    def is_(self, user: User) -> bool:
        """Whether this actor is the account `user` (acting on oneself)."""
        return self.user is not None and self.user.id == user.id

    def entry(self) -> dict[str, str] | None:
        """The actor member of an audit entry: null for the system (audit-log-format.md)."""
        return None if self.is_system else {"user": self.name, "role": self.role}


SYSTEM = Actor("system", SYSTEM_ROLE)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "operator"


def authorize(actor: Actor, permission: Permission, station: str | None = None) -> Actor:
    """Refuse (PermissionDenied) unless `actor` may act with `permission`, at `station` if
    given. The console and the system are trusted; users by their role."""
    if actor.user is not None or actor.role not in (OPERATOR_ROLE, SYSTEM_ROLE):
        require(actor.user, permission, station)
    return actor


def may(actor: Actor, permission: Permission, station: str | None = None) -> bool:
    """`authorize` as a question, for pages that offer an action only to who may take it.
    It raises nothing, so asking never makes the request roll back (ocv.errors_web)."""
    trusted = actor.user is None and actor.role in (OPERATOR_ROLE, SYSTEM_ROLE)
    return trusted or can(actor.user, permission, station)


class Recorder(Protocol):
    def __call__(
        self,
        session: Session,
        type: str,
        actor: Mapping[str, str] | None,
        scope: Mapping[str, str],
        payload: Mapping[str, Any],
    ) -> object: ...


_recorder: Recorder | None = None


def set_recorder(recorder: Recorder) -> None:
    """The app factory plugs `audit.service.append` in: core sits below audit and cannot
    import it (docs/architecture.md, dependency rule)."""
    global _recorder
    _recorder = recorder


def record(
    session: Session,
    event: EventType,
    actor: Actor,
    scope: Mapping[str, str | None],
    payload: Mapping[str, Any],
) -> object:
    """Append `event`'s entry in the caller's transaction, so the change and its entry
    commit together or not at all."""
    if _recorder is None:
        # A change without its entry would break the log's promise: refuse it.
        raise RuntimeError("no audit recorder is wired; create the app with ocv.create_app()")
    log.debug("event %s actor=%s", event.name, actor.name)
    clean_scope = {key: value for key, value in scope.items() if value is not None}
    return _recorder(session, event.name, actor.entry(), clean_scope, payload)
