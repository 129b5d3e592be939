"""The demo: the sample election in `registration/demo/election.json`, its officials and
a few thousand voters, the list frozen, polling done at three stations (their protocols
signed, countersigned and submitted) and under way at a fourth; the tally took the three
in, quarantined the one whose ballot papers do not balance, two tally officers resolved
it, and the results were certified. Development only: the passwords are printed and
known."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import checkpoints
from audit import keys as audit_keys
from audit.state import append_digest
from ocv.acting import Actor
from ocv.auth import service as accounts
from ocv.auth.models import User
from ocv.settings import Settings
from polling import service as polling
from registration import service as registration
from tally import service as tally

ELECTION_FILE = Path(__file__).resolve().parent.parent / "registration" / "demo" / "election.json"
DEMO_PASSWORD = "demo-password-2027"  # noqa: S105 (printed by design; development only)
VOTERS = 3000

# (Latin, original script) pairs, so the sample exercises both and the name matching.
GIVEN = [
    ("Amira", "أميرة"),
    ("Omar", "عمر"),
    ("Leila", "ليلى"),
    ("Yusuf", "يوسف"),
    ("Fatima", "فاطمة"),
    ("Hassan", "حسن"),
    ("Mariam", "مريم"),
    ("Karim", "كريم"),
    ("Nadia", "نادية"),
    ("Samir", "سمير"),
    ("Zainab", "زينب"),
    ("Tariq", "طارق"),
    ("Huda", "هدى"),
    ("Bilal", "بلال"),
    ("Salma", "سلمى"),
    ("Ahmad", "أحمد"),
    ("Rana", "رنا"),
    ("Walid", "وليد"),
    ("Dina", "دينا"),
    ("Faris", "فارس"),
]
FAMILY = [
    ("Haddad", "حداد"),
    ("Nasser", "ناصر"),
    ("Khalil", "خليل"),
    ("Saleh", "صالح"),
    ("Mansour", "منصور"),
    ("Darwish", "درويش"),
    ("Haddad", "حداد"),
    ("Aziz", "عزيز"),
    ("Rahimi", "رحيمي"),
    ("Karimi", "كريمي"),
    ("Qasim", "قاسم"),
    ("Barakat", "بركات"),
    ("Hamdan", "حمدان"),
    ("Jaber", "جابر"),
    ("Sabbagh", "صباغ"),
]
CONSTITUENCY = {"DE": "OV-EU", "FR": "OV-EU", "AE": "OV-ME", "US": "OV-ME"}
HOME = ("N-01", "C-02", "S-03")


def load(
    session: Session, settings: Settings, actor: Actor, voters: int = VOTERS, *, poll: bool = True
) -> list[tuple[str, str, str | None]]:
    """Create what does not exist yet; return the sign-ins as (username, role, station).
    `poll`: freeze the list and run the polling day (else registration stays open)."""
    definition = json.loads(ELECTION_FILE.read_text(encoding="utf-8"))
    logins = _officials(session, settings, actor, definition)
    existing = {e.code for e in registration.list_elections(session)}
    if definition["code"] not in existing:
        election = registration.load_election(session, actor, definition)
        registration.advance(session, actor, election, "registration_open")
        for raw in sample_voters(definition, voters):
            registration.enrol(session, settings, actor, election, raw)
        if poll:
            registration.advance(session, actor, election, "exhibition")
            registration.advance(session, actor, election, "frozen")
            polling_day(session, actor, election.code)
            tally_day(session, settings, actor, election.code)
        append_digest(session)
        checkpoints.issue(session, settings, "demand")
    return logins


POLLED, POLLING = "DE-BER-01", "DE-MUC-01"  # polling done at the first, under way at the second
# Polled too; Paris closes one BS-EU paper short, explained on its protocol: quarantined.
ALSO_POLLED, SHORT = ("FR-PAR-01", "AE-DXB-01"), "FR-PAR-01"


def polling_day(session: Session, actor: Actor, code: str, seed: int = 2027) -> None:
    """Polling day at four stations, as their officials would run it."""
    rng = random.Random(seed)  # noqa: S311 (sample data, not secrets)
    described = registration.describe(registration.get_election(session, code))
    styles = {s["code"]: s["contests"] for s in described["ballot_styles"]}
    contests = {c["code"]: c for c in described["contests"]}
    for key_owner, role in (
        *((f"po.{s.lower().replace('-', '')}", "presiding_officer") for s in (POLLED, *ALSO_POLLED)),
        ("observer", "observer"),
    ):
        audit_keys.create_personal_key(
            session,
            actor,
            owner=key_owner,
            role=role,
            password=DEMO_PASSWORD,
            name=f"{key_owner}-2027",
        )
    for station, share in ((POLLED, 0.6), (POLLING, 0.25), *((s, 0.55) for s in ALSO_POLLED)):
        slug = station.lower().replace("-", "")
        po = Actor.of(accounts.get_user(session, f"po.{slug}"))
        clerk = Actor.of(accounts.get_user(session, f"clerk.{slug}"))
        ballots = dict.fromkeys(styles, 400)
        opening = {
            "ballots": ballots,
            "seals": [f"{station}-S1", f"{station}-S2"],
            "officials": [po.name, clerk.name],
        }
        polling.open_station(session, po, code, station, opening)
        voters = registration.station_list(
            session, po, registration.get_station(session, registration.get_election(session, code), station)
        )
        voted = [v for v in voters if rng.random() < share]
        for voter in voted:
            polling.check_in(session, clerk, code, station, voter.reg_no)
        if station == POLLING:
            continue
        if voted:  # a small demo (`--voters 5`) may leave a station with nobody voting
            polling.spoil(session, clerk, code, station, voted[0].reg_no)
        polling.tendered(
            session, clerk, code, station, "BS-EU", "Says she registered in Hamburg; not on any list"
        )
        status = polling.station_status(session, po, code, station)
        unused = {style: b["stock"] for style, b in status["ballots"].items()}
        unused["BS-EU"] -= station == SHORT
        polling.close_station(session, po, code, station, {"unused": unused, "seals": [f"{station}-S3"]})
        cvrs = [_ballot(rng, v.constituency.ballot_style.code, styles, contests) for v in voted]
        if cvrs:
            polling.add_cvrs(session, clerk, code, station, {"cvrs": cvrs})
        polling.finish_count(session, po, code, station)
        note = "One BS-EU ballot paper was missing at the close." if station == SHORT else ""
        polling.sign_protocol(session, po, code, station, DEMO_PASSWORD, note)
        polling.countersign_protocol(
            session, Actor.of(accounts.get_user(session, "observer")), code, station, DEMO_PASSWORD
        )
        polling.submit_protocol(session, po, code, station)


def tally_day(session: Session, settings: Settings, actor: Actor, code: str) -> None:
    """The tally centre takes the protocols in; the quarantined one is accepted on one
    officer's proposal and another's approval; the first officer certifies."""
    first = Actor.of(accounts.get_user(session, "tally"))
    second = Actor.of(accounts.get_user(session, "tally2"))
    for officer in (first, second):
        audit_keys.create_personal_key(
            session,
            actor,
            owner=officer.name,
            role="tally_officer",
            password=DEMO_PASSWORD,
            name=f"{officer.name}-2027",
        )
    tally.intake_all(session, first, code, settings)
    for item in tally.quarantine(session, first, code):
        proposal = tally.propose(
            session,
            first,
            code,
            item.station,
            "accept",
            "The presiding officer explained the missing paper on the protocol; the seals held.",
        )
        tally.approve(session, second, proposal.id, "Checked the explanation and the seal numbers.", settings)
    tally.certify_results(session, first, code, DEMO_PASSWORD, settings=settings)


def _ballot(
    rng: random.Random, style: str, styles: dict[str, list[str]], contests: dict[str, Any]
) -> dict[str, Any]:
    votes: dict[str, list[str]] = {}
    invalid: list[str] = []
    for code in styles[style]:
        roll = rng.random()
        if roll < 0.02:
            invalid.append(code)
        elif roll > 0.03:  # else blank
            choices = contests[code]["choices"]
            votes[code] = rng.sample(choices, rng.randint(1, contests[code]["votes_allowed"]))
    return {"ballot_style": style, "votes": votes, "invalid": invalid}


def _officials(
    session: Session, settings: Settings, actor: Actor, definition: dict[str, Any]
) -> list[tuple[str, str, str | None]]:
    wanted: list[tuple[str, str, str | None, str]] = [
        ("admin", "admin", None, "Election Administrator"),
        ("registrar", "registration_officer", None, "Registration Officer"),
        ("tally", "tally_officer", None, "Tally Officer"),
        ("tally2", "tally_officer", None, "Second Tally Officer"),
        ("observer", "observer", None, "Independent Observer"),
    ]
    for station in definition["stations"]:
        slug = station["code"].lower().replace("-", "")
        wanted.append(
            (f"po.{slug}", "presiding_officer", station["code"], f"Presiding Officer {station['city']}")
        )
        wanted.append((f"clerk.{slug}", "clerk", station["code"], f"Clerk {station['city']}"))
    existing = set(session.scalars(select(User.username)))
    for username, role, station_code, name in wanted:
        if username not in existing:
            user = accounts.create_user(
                session,
                settings,
                actor,
                username=username,
                role=role,
                password=DEMO_PASSWORD,
                station_code=station_code,
                full_name=name,
            )
            # Demo accounts skip the forced change so the sample is quick to try.
            user.must_change_password = False
    return [(u, r, s) for u, r, s, _ in wanted]


def sample_voters(definition: dict[str, Any], count: int, seed: int = 2027) -> Iterator[dict[str, Any]]:
    """Plausible diaspora voters spread over the stations' cities (deterministic)."""
    rng = random.Random(seed)  # noqa: S311 (sample data, not secrets)
    stations = definition["stations"]
    polling_day = dt.date.fromisoformat(definition["polling_day"])
    for i in range(count):
        station = stations[i % len(stations)]
        (given, given_ar), (family, family_ar) = rng.choice(GIVEN), rng.choice(FAMILY)
        father, _ = rng.choice(GIVEN)
        age_days = rng.randrange(18 * 366, 90 * 365)
        yield {
            "given_name": given,
            "family_name": family,
            "father_name": father,
            "names_original_script": f"{given_ar} {family_ar}",
            "date_of_birth": (polling_day - dt.timedelta(days=age_days)).isoformat(),
            "sex": rng.choice("FM"),
            "constituency": rng.choice(HOME) if rng.random() < 0.3 else CONSTITUENCY[station["country"]],
            "host_country": station["country"],
            "city": station["city"],
            "documents": [{"type": "passport", "number": f"P{station['country']}{i:07d}"}],
        }


def describe(logins: list[tuple[str, str, str | None]]) -> str:
    lines = [f"Demo sign-ins (password for all: {DEMO_PASSWORD}):"]
    lines += [f"  {u:22} {r:22} {s or ''}" for u, r, s in logins]
    lines.append("Voter self-check: http://127.0.0.1:5000/check · audit log: http://127.0.0.1:5000/audit/")
    return "\n".join(lines)
