"""The embargo: results stay internal until the home country's polls close (the
election file's `tally.home_polls_close`, by default the end of polling day in UTC).
Station protocols follow the election's rule: public on submission, or with the results.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from registration import service as registry
from tally.errors import Embargoed
from tally.types import Embargo


def ends_at(election: object) -> dt.datetime:
    settings = registry.tally_settings(election)  # type: ignore[arg-type]
    close = settings.get("home_polls_close")
    if close:
        return dt.datetime.fromisoformat(close).astimezone(dt.UTC)
    day = election.polling_day  # type: ignore[attr-defined]
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def of(session: Session, code: str, now: dt.datetime | None = None) -> Embargo:
    election = registry.get_election(session, code)
    end = ends_at(election)
    moment = now or dt.datetime.now(dt.UTC)
    return Embargo(end, moment < end, registry.tally_settings(election)["protocols_public"])


def require_lifted(session: Session, code: str, now: dt.datetime | None = None) -> None:
    embargo = of(session, code, now)
    if embargo.in_force:
        raise Embargoed(embargo.ends_at)


def protocol_public(session: Session, code: str, station: str, now: dt.datetime | None = None) -> bool:
    """Whether the station's protocol is public now (it must be submitted too: polling)."""
    embargo = of(session, code, now)
    return embargo.protocols == "on_submission" or not embargo.in_force
