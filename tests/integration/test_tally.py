"""The tally end to end: protocols taken in and verified, a station quarantined and
resolved by two different officers, the results aggregated, the embargo, certification
bound to a checkpoint, and ocv-verify recounting the certified result from the log."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from audit import keys
from audit.models import Entry
from ocv.acting import Actor
from ocv.errors import PermissionDenied, ValidationError
from ocv.settings import Settings
from polling import service as polling
from registration import service as registry
from registration.models import Election
from tally import service as tally
from tally.models import TallyFigure, TallyStation
from tests.factories import OPERATOR
from tests.integration.test_bundle_tamper import verify
from tests.integration.test_cli import run
from tests.integration.test_registration import voter

KEY = "a key password of one's own"
BER, PAR = "DE-BER-01", "FR-PAR-01"
E = "GE2027"


@pytest.fixture
def polled(
    db_session: Session, settings: Settings, election: Election, officer: Actor, make_user
) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    names = [
        ("Amira", "Haddad"),
        ("Omar", "Nasser"),
        ("Leila", "Khalil"),
        ("Yusuf", "Saleh"),
        ("Fatima", "Mansour"),
        ("Hassan", "Darwish"),
        ("Mariam", "Aziz"),
        ("Karim", "Rahimi"),
        ("Nadia", "Qasim"),
        ("Samir", "Barakat"),
    ]
    people = [
        voter(
            given_name=given,
            family_name=family,
            names_original_script=None,
            date_of_birth=f"{1950 + 3 * i}-0{1 + i % 9}-1{i}",
            documents=[{"type": "passport", "number": f"PX{i:06d}"}],
            **({} if i < 6 else {"city": "Paris", "host_country": "FR"}),
        )
        for i, (given, family) in enumerate(names)
    ]
    # Everyone on these small lists votes: a turnout of 100% is not flagged here.
    election.tally_settings = {**election.tally_settings, "turnout_above": 1.0}
    for p in people:
        registry.enrol(db_session, settings, officer, election, p)
    registry.advance(db_session, OPERATOR, election, "exhibition")
    registry.advance(db_session, OPERATOR, election, "frozen")
    actors = {}
    for name, role, station in (
        ("po.ber", "presiding_officer", BER),
        ("clerk.ber", "clerk", BER),
        ("po.par", "presiding_officer", PAR),
        ("clerk.par", "clerk", PAR),
        ("olivia", "observer", None),
        ("tina", "tally_officer", None),
        ("tomas", "tally_officer", None),
    ):
        actors[name] = Actor.of(make_user(name, role, station))
        if role != "clerk":
            keys.create_personal_key(
                db_session, None, owner=name, role=role, password=KEY, name=f"{name}-key"
            )
    db_session.commit()
    return actors


def poll(
    db_session: Session, a: dict[str, Actor], station: str, *, short: int = 0, tender: bool = False
) -> None:
    """A polling day: every voter on the list votes; `short` papers go missing at close."""
    slug = "ber" if station == BER else "par"
    po, clerk = a[f"po.{slug}"], a[f"clerk.{slug}"]
    styles = ("BS-EU", "BS-ME", "BS-HOME")
    polling.open_station(
        db_session,
        po,
        E,
        station,
        {"ballots": dict.fromkeys(styles, 20), "seals": ["S1"], "officials": ["P"]},
    )
    where = registry.get_station(db_session, registry.get_election(db_session, E), station)
    voters = registry.station_list(db_session, po, where)
    for v in voters:
        polling.check_in(db_session, clerk, E, station, v.reg_no)
    if tender:
        polling.tendered(db_session, clerk, E, station, "BS-EU", "Not on the list; says she moved")
    status = polling.station_status(db_session, po, E, station)
    unused = {s: b["stock"] for s, b in status["ballots"].items()}
    unused["BS-EU"] -= short
    polling.close_station(db_session, po, E, station, {"unused": unused, "seals": ["S2"]})
    cvrs = [
        {
            "ballot_style": "BS-EU",
            "votes": {
                "PRES": ["Amira Haddad" if i % 3 else "Jonas Berg"],
                "REF-1": ["Yes" if i % 2 else "No"],
            },
        }
        for i in range(len(voters))
    ]
    polling.add_cvrs(db_session, clerk, E, station, {"cvrs": cvrs})
    polling.finish_count(db_session, po, E, station)
    polling.sign_protocol(db_session, po, E, station, KEY, "One paper missing at close." if short else "")
    polling.countersign_protocol(db_session, a["olivia"], E, station, KEY)
    polling.submit_protocol(db_session, po, E, station)
    db_session.commit()


def _types(db_session: Session) -> list[str]:
    return list(
        db_session.scalars(select(Entry.type).where(Entry.type.startswith("tally.")).order_by(Entry.seq))
    )


def test_a_balanced_station_is_accepted_and_counted(db_session: Session, settings: Settings, polled) -> None:  # type: ignore[no-untyped-def]
    poll(db_session, polled, BER)
    status = tally.intake_station(db_session, polled["tina"], E, BER, settings)
    assert status is tally.StationStatus.ACCEPTED, tally.quarantine(db_session, polled["tina"], E)[0].failing
    checks = tally.station_checks(db_session, polled["tina"], E, BER)
    assert all(c.holds for c in checks)
    kinds = {c.kind for c in checks}
    assert kinds == {"verification", "identity", "flag"}
    assert "countersigned by olivia-key (olivia, observer)" in [c.detail for c in checks]
    results = tally.results(db_session, polled["tina"], E)
    pres = next(c for c in results.total.contests if c.contest == "PRES")
    assert pres.choices["Amira Haddad"] == 4
    assert pres.choices["Jonas Berg"] == 2
    assert pres.ballots == 6
    assert pres.blank == 0
    assert results.progress.accepted == 1
    assert results.progress.missing == results.progress.expected - 1
    de = next(a for a in results.by_country if a.code == "DE")
    assert de.ballots == 6
    assert de.turnout == 1.0
    assert de.stations_counted == 1
    eu = next(a for a in results.by_constituency if a.code == "OV-EU")
    assert [c.contest for c in eu.contests] == ["PRES", "REF-1", "PARL-EU"]
    ref = next(c for c in eu.contests if c.contest == "REF-1")
    assert ref.choices == {"Yes": 3, "No": 3}
    parl = next(c for c in eu.contests if c.contest == "PARL-EU")
    assert parl.blank == 6
    rows = tally.result_rows(db_session, polled["tina"], E)
    assert {(r.contest, r.constituency, r.country, r.station, r.choice, r.votes) for r in rows} >= {
        ("PRES", "OV-EU", "DE", BER, "Amira Haddad", 4),
        ("PARL-EU", "OV-EU", "DE", BER, "(blank)", 6),
    }
    assert _types(db_session) == ["tally.protocol_verified", "tally.station_accepted"]
    with pytest.raises(tally.WrongProposalState):
        tally.intake_station(db_session, polled["tina"], E, BER, settings)


def test_only_tally_officers_take_in(db_session: Session, settings: Settings, polled) -> None:  # type: ignore[no-untyped-def]
    poll(db_session, polled, BER)
    with pytest.raises(PermissionDenied):
        tally.intake_station(db_session, polled["olivia"], E, BER, settings)


def test_a_station_that_fails_a_check_is_quarantined_then_resolved_by_two_officers(
    db_session: Session, settings: Settings, polled
) -> None:  # type: ignore[no-untyped-def]
    poll(db_session, polled, BER)
    poll(db_session, polled, PAR, short=1)
    statuses = tally.intake_all(db_session, polled["tina"], E, settings)
    assert statuses == {BER: tally.StationStatus.ACCEPTED, PAR: tally.StationStatus.QUARANTINED}
    [item] = tally.quarantine(db_session, polled["tina"], E)
    assert item.station == PAR
    [failed] = item.failing
    assert failed.check.startswith("ballot style BS-EU: received + resupplied")
    assert (failed.left, failed.right) == (20, 19)
    # Quarantined: counts nowhere.
    assert tally.results(db_session, polled["tina"], E).total.ballots == 6
    with pytest.raises(tally.NothingToCertify):
        tally.certify_results(db_session, polled["tina"], E, KEY, settings=settings)
    with pytest.raises(ValidationError):
        tally.propose(db_session, polled["tina"], E, PAR, "accept", "  ")
    proposal = tally.propose(
        db_session,
        polled["tina"],
        E,
        PAR,
        "accept",
        "The presiding officer's note explains the missing paper.",
    )
    with pytest.raises(tally.SameOfficer):
        tally.approve(db_session, polled["tina"], proposal.id)
    with pytest.raises(PermissionDenied):
        tally.approve(db_session, polled["olivia"], proposal.id)
    assert tally.quarantine(db_session, polled["tina"], E)[0].open_proposal == proposal
    with pytest.raises(ValidationError):
        tally.reject(db_session, polled["tomas"], proposal.id, "")
    decided = tally.approve(db_session, polled["tomas"], proposal.id, "Agreed.")
    assert decided.state is tally.ProposalState.APPROVED
    assert decided.decided_by == "tomas"
    with pytest.raises(tally.WrongProposalState):
        tally.approve(db_session, polled["tomas"], proposal.id)
    assert tally.quarantine(db_session, polled["tina"], E) == []
    assert tally.results(db_session, polled["tina"], E).total.ballots == 10
    assert _types(db_session)[-3:] == [
        "tally.resolution_proposed",
        "tally.resolution_approved",
        "tally.station_accepted",
    ]


def test_exclusion_and_rejection_are_decided_by_a_second_officer(
    db_session: Session, settings: Settings, polled
) -> None:  # type: ignore[no-untyped-def]
    poll(db_session, polled, PAR, short=1, tender=True)
    tally.intake_all(db_session, polled["tina"], E, settings)
    first = tally.propose(db_session, polled["tina"], E, PAR, "exclude", "Seals broken on arrival.")
    tally.reject(db_session, polled["tomas"], first.id, "The seals were photographed intact.")
    assert tally.quarantine(db_session, polled["tina"], E)[0].station == PAR
    second = tally.propose(
        db_session, polled["tomas"], E, PAR, "exclude", "Ballot paper unaccounted for, no report."
    )
    tally.approve(db_session, polled["tina"], second.id)
    results = tally.results(db_session, polled["tina"], E)
    assert results.progress.excluded == 1
    assert results.total.ballots == 0
    tendered = tally.propose(
        db_session, polled["tina"], E, PAR, "reject", "Not on any list.", subject="tendered"
    )
    with pytest.raises(tally.SameOfficer):
        tally.approve(db_session, polled["tina"], tendered.id)
    tally.approve(db_session, polled["tomas"], tendered.id)
    assert (
        db_session.scalar(select(TallyStation.tendered).where(TallyStation.station_code == PAR)) == "rejected"
    )
    assert "tally.tendered_decided" in _types(db_session)


def test_a_protocol_changed_after_signing_fails_verification(
    db_session: Session, settings: Settings, polled
) -> None:  # type: ignore[no-untyped-def]
    poll(db_session, polled, BER)
    # A CVR added behind the count's back: the root and the figures no longer match.
    polling.add_cvrs  # noqa: B018 (the service refuses after the count; the table does not)
    from polling.models import CastVoteRecord, PollingStation

    station_id = db_session.scalar(select(PollingStation.id).where(PollingStation.station_code == BER))
    db_session.add(
        CastVoteRecord(
            id="f" * 32, polling_station_id=station_id, ballot_style="BS-EU", selections={}, invalid=[]
        )
    )
    db_session.flush()
    assert (
        tally.intake_station(db_session, polled["tina"], E, BER, settings) is tally.StationStatus.QUARANTINED
    )
    failing = {c.check for c in tally.quarantine(db_session, polled["tina"], E)[0].failing}
    assert "CVR root recomputed from the stored count" in failing
    assert "figures recomputed from the count and the accounts" in failing


def test_a_revoked_key_or_another_stations_officer_fails_the_signature_check(
    db_session: Session, settings: Settings, polled
) -> None:  # type: ignore[no-untyped-def]
    poll(db_session, polled, BER)
    keys.revoke_key(db_session, None, "po.ber-key", "laptop stolen")
    tally.intake_station(db_session, polled["tina"], E, BER, settings)
    [failed] = tally.quarantine(db_session, polled["tina"], E)[0].failing
    assert failed.check == "signed by the station's presiding officer, with a registered key not revoked"
    assert "revoked" in failed.detail


def test_without_a_checkpoint_the_protocol_waits_in_quarantine(db_session: Session, polled) -> None:  # type: ignore[no-untyped-def]
    poll(db_session, polled, BER)
    tally.intake_station(db_session, polled["tina"], E, BER)  # no settings: no checkpoint issued
    [failed] = tally.quarantine(db_session, polled["tina"], E)[0].failing
    assert failed.check == "the protocol's log entry is in a signed checkpoint"


def test_the_embargo_holds_until_the_home_polls_close(
    db_session: Session, settings: Settings, polled
) -> None:  # type: ignore[no-untyped-def]
    poll(db_session, polled, BER)
    tally.intake_all(db_session, polled["tina"], E, settings)
    embargo = tally.embargo_of(db_session, E)
    assert embargo.ends_at == dt.datetime(2027, 4, 19, tzinfo=dt.UTC)  # the default: polling day's end, UTC
    before = embargo.ends_at - dt.timedelta(seconds=1)
    with pytest.raises(tally.Embargoed) as refused:
        tally.public_results(db_session, E, before)
    assert refused.value.ends_at == embargo.ends_at
    assert refused.value.http_status == 403
    with pytest.raises(tally.Embargoed):
        tally.result_rows(db_session, None, E, before)
    assert tally.results(db_session, polled["olivia"], E).total.ballots == 6  # internal: any time
    assert tally.public_results(db_session, E, embargo.ends_at).total.ballots == 6
    assert tally.protocol_is_public(db_session, E, BER, before)  # the default rule: on submission
    election = registry.get_election(db_session, E)
    election.tally_settings = {
        **election.tally_settings,
        "protocols_public": "with_results",
        "home_polls_close": "2027-04-18T16:00:00Z",
    }
    assert not tally.protocol_is_public(db_session, E, BER, dt.datetime(2027, 4, 18, 15, tzinfo=dt.UTC))
    assert tally.protocol_is_public(db_session, E, BER, dt.datetime(2027, 4, 18, 16, tzinfo=dt.UTC))


def _certified(db_session: Session, settings: Settings, polled) -> tally.Certification:  # type: ignore[no-untyped-def]
    poll(db_session, polled, BER)
    poll(db_session, polled, PAR, short=1)
    tally.intake_all(db_session, polled["tina"], E, settings)
    proposal = tally.propose(
        db_session, polled["tina"], E, PAR, "accept", "Explained by the presiding officer."
    )
    tally.approve(db_session, polled["tomas"], proposal.id)
    certification = tally.certify_results(db_session, polled["tina"], E, KEY, settings=settings)
    db_session.commit()
    return certification


def test_certification_is_signed_bound_to_a_checkpoint_and_corrected_only_anew(
    db_session: Session, settings: Settings, polled
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        tally.certify_results(db_session, polled["olivia"], E, KEY, settings=settings)
    first = _certified(db_session, settings, polled)
    assert first.number == 1
    assert first.signers == ["tina-key"]
    assert first.document["totals"]["PRES"]["choices"]["Amira Haddad"] == 4 + 2
    assert first.tree_size > db_session.scalar(
        select(Entry.seq).where(Entry.type == "tally.station_accepted").order_by(Entry.seq.desc()).limit(1)
    )
    status = tally.certification_status(db_session, E)
    assert status.certified
    assert not status.stale
    with pytest.raises(ValidationError):
        tally.certify_results(db_session, polled["tomas"], E, KEY, settings=settings)  # no reason
    second = tally.certify_results(
        db_session, polled["tomas"], E, KEY, "Signed again by the second officer.", settings
    )
    assert second.number == 2
    assert second.document["supersedes"] == first.sha256
    assert [c.number for c in tally.certification_status(db_session, E).history] == [1, 2]


def test_ocv_verify_recounts_the_certified_result(
    app: Flask, db_session: Session, settings: Settings, polled, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _certified(db_session, settings, polled)
    assert run(app, "audit", "export", str(tmp_path / "honest")).exit_code == 0
    vkey = keys.log_key(db_session).vkey
    honest = verify(tmp_path / "honest", vkey, "--json")
    assert honest.returncode == 0, honest.stdout + honest.stderr
    assert json.loads(honest.stdout)["certifications"] == 1


def test_ocv_verify_fails_a_certification_with_one_station_figure_changed(
    app: Flask, db_session: Session, settings: Settings, polled, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _certified(db_session, settings, polled)
    # After certification, one figure of Berlin is changed in the database and "corrected".
    figure = db_session.scalar(
        select(TallyFigure.id)
        .join(TallyStation, TallyStation.id == TallyFigure.tally_station_id)
        .where(
            TallyStation.station_code == BER,
            TallyFigure.contest == "PRES",
            TallyFigure.choice == "Jonas Berg",
        )
    )
    db_session.execute(
        update(TallyFigure).where(TallyFigure.id == figure).values(votes=TallyFigure.votes + 5)
    )
    assert tally.certification_status(db_session, E).stale
    tally.certify_results(db_session, polled["tina"], E, KEY, "Corrected figures.", settings)
    db_session.commit()
    assert run(app, "audit", "export", str(tmp_path / "bundle")).exit_code == 0
    result = verify(tmp_path / "bundle", keys.log_key(db_session).vkey)
    assert result.returncode != 0
    assert (
        "station DE-BER-01's figures differ from the ones the log accepted" in result.stdout + result.stderr
    )


def test_the_console_takes_two_officers_through_intake_resolution_and_certification(
    app: Flask, db_session: Session, polled
) -> None:  # type: ignore[no-untyped-def]
    poll(db_session, polled, BER)
    poll(db_session, polled, PAR, short=1)
    taken = run(app, "--as", "tina", "tally", "intake", E)
    assert taken.exit_code == 0, taken.output
    assert taken.output.splitlines() == [f"{BER}: accepted", f"{PAR}: quarantined"]
    listed = run(app, "--as", "tina", "tally", "checks", E)
    assert "FAIL [identity] ballot style BS-EU" in listed.output
    proposed = run(
        app, "--as", "tina", "tally", "resolve", E, PAR, "accept", "--reason", "Explained in writing."
    )
    assert proposed.exit_code == 0, proposed.output
    number = proposed.output.split()[1].rstrip(":")
    assert run(app, "--as", "tina", "tally", "approve", number).exit_code != 0  # the proposer
    approved = run(app, "--as", "tomas", "tally", "approve", number)
    assert approved.exit_code == 0, approved.output
    signed = run(app, "--as", "tina", "tally", "certify", E, "--password-stdin", input=KEY + "\n")
    assert signed.exit_code == 0, signed.output
    assert signed.output.startswith("certification 1: ")
    shown = run(app, "--as", "olivia", "tally", "results", E)
    assert "2 accepted, 0 quarantined" in shown.output
    assert "certified: #1" in shown.output
