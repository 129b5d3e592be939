"""The demo: officials for the sample election in `registration/demo/election.json`.

Development only: the passwords are printed and known. Later domain packages add
their part of the sample (registry, polling, results) here.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocv.auth import service as accounts
from ocv.auth.models import User
from ocv.settings import Settings

ELECTION_FILE = Path(__file__).resolve().parent.parent / "registration" / "demo" / "election.json"
DEMO_PASSWORD = "demo-password-2027"  # noqa: S105 (printed by design; development only)


def load(session: Session, settings: Settings) -> list[tuple[str, str, str | None]]:
    """Create the demo accounts that do not exist yet; return (username, role, station)."""
    election = json.loads(ELECTION_FILE.read_text(encoding="utf-8"))
    wanted: list[tuple[str, str, str | None, str]] = [
        ("admin", "admin", None, "Election Administrator"),
        ("registrar", "registration_officer", None, "Registration Officer"),
        ("tally", "tally_officer", None, "Tally Officer"),
        ("observer", "observer", None, "Independent Observer"),
    ]
    for station in election["stations"]:
        code = station["code"]
        slug = code.lower().replace("-", "")
        wanted.append((f"po.{slug}", "presiding_officer", code, f"Presiding Officer {station['city']}"))
        wanted.append((f"clerk.{slug}", "clerk", code, f"Clerk {station['city']}"))
    existing = set(session.scalars(select(User.username)))
    for username, role, station_code, name in wanted:
        if username not in existing:
            user = accounts.create_user(
                session, settings, None, username=username, role=role,
                password=DEMO_PASSWORD, station_code=station_code, full_name=name,
            )
            # Demo accounts skip the forced change so the sample is quick to try.
            user.must_change_password = False
    return [(u, r, s) for u, r, s, _ in wanted]


def describe(logins: list[tuple[str, str, str | None]]) -> str:
    lines = [f"Demo sign-ins (password for all: {DEMO_PASSWORD}):"]
    lines += [f"  {u:22} {r:22} {s or ''}" for u, r, s in logins]
    return "\n".join(lines)
