"""The audit log through its service and its API: appends, proofs, checkpoints, witnesses."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from audit import checkpoints, jcs, keys, merkle, note, sequencer, service
from audit.models import Entry, PendingEntry
from ocv.auth import service as accounts
from ocv.crypto import SealError
from ocv.errors import ValidationError
from ocv.settings import Settings
from tests.conftest import PASSWORD
from tests.factories import OPERATOR


def _record(session: Session, n: int, kind: str = "auth.logout") -> list[service.Recorded]:
    return [
        service.append(session, kind, {"user": "u", "role": "observer"}, {}, {"username": f"user{i}"})
        for i in range(n)
    ]


def _append(session: Session, n: int, kind: str = "auth.logout") -> list[int]:
    """Record n entries and integrate them: their seqs."""
    recorded = _record(session, n, kind)
    sequencer.integrate(session)
    seqs = [service.seq_of(session, r) for r in recorded]
    assert None not in seqs
    return seqs  # type: ignore[return-value]


def _leaves(session: Session) -> list[bytes]:
    return list(session.scalars(select(Entry.leaf).order_by(Entry.seq)))


def test_appends_are_consecutive_and_the_root_matches(db_session: Session) -> None:
    start = service.size(db_session)
    seqs = _append(db_session, 37)
    assert seqs == list(range(start, start + 37))
    leaves = _leaves(db_session)
    assert len(leaves) == service.size(db_session)
    assert service.root(db_session) == merkle.root([merkle.leaf_hash(leaf) for leaf in leaves])


def test_a_rolled_back_transaction_leaves_no_entry(db_session: Session) -> None:
    before = service.size(db_session)
    db_session.commit()
    _record(db_session, 3)
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(PendingEntry)) == 0
    _append(db_session, 3)
    db_session.rollback()
    assert service.size(db_session) == before
    assert len(_leaves(db_session)) == before
    assert _append(db_session, 1) == [before]  # no gap where the rolled-back entries were


def test_recording_writes_only_the_queue_and_integrating_empties_it(db_session: Session) -> None:
    before = service.size(db_session)
    recorded = _record(db_session, 4)
    assert service.size(db_session) == before  # readers see integrated entries only
    assert [service.seq_of(db_session, r) for r in recorded] == [None] * 4
    assert sequencer.integrate(db_session) == 4
    assert [service.seq_of(db_session, r) for r in recorded] == list(range(before, before + 4))
    assert db_session.scalar(select(func.count()).select_from(PendingEntry)) == 0
    assert sequencer.integrate(db_session) == 0


def test_the_tree_holds_across_savepoints_and_transactions(db_session: Session) -> None:
    """Appends reuse the hashes their transaction stored: a savepoint taken back, a rolled-back
    transaction and a new one must all leave the stored tree equal to the one of the leaves."""
    db_session.commit()
    _append(db_session, 5)
    savepoint = db_session.begin_nested()
    _append(db_session, 6)
    savepoint.rollback()
    _append(db_session, 9)  # the same seqs again, other leaves
    with db_session.begin_nested():
        _append(db_session, 3)
    db_session.commit()
    _append(db_session, 4)
    db_session.rollback()
    _append(db_session, 11)
    leaves = _leaves(db_session)
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    assert service.root(db_session) == merkle.root(hashes)
    for size in range(1, len(leaves) + 1):
        assert service.root(db_session, size) == merkle.root(hashes[:size])


def test_a_driver_error_in_an_append_is_sqlalchemys_and_takes_the_entry_back(db_session: Session) -> None:
    """Appends run on the driver's cursor: its errors still come out as SQLAlchemy's, and
    the caller's rollback still undoes the whole append."""
    _append(db_session, 2)
    db_session.commit()
    size = service.size(db_session)
    # A row written behind the log's back, at the seq the next append takes.
    db_session.execute(
        insert(Entry).values(
            seq=size, time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), type="auth.login", leaf=b"{}"
        )
    )
    _record(db_session, 1)
    with pytest.raises(IntegrityError):
        sequencer.integrate(db_session)
    db_session.rollback()
    assert service.size(db_session) == size
    assert _append(db_session, 1) == [size]


def test_entries_are_canonical_and_checked(db_session: Session) -> None:
    recorded = service.append(
        db_session, "auth.login", None, {"station": "FR-PAR-01"}, {"username": "Cafe\u0301"}
    )  # decomposed é
    sequencer.integrate(db_session)
    seq = service.seq_of(db_session, recorded)
    assert seq is not None
    leaf = service.entry(db_session, seq)
    assert jcs.canonical_form(json.loads(leaf)) == leaf
    assert "Café".encode() in leaf  # stored NFC
    assert leaf.startswith(b'{"actor":null,"payload":{"username":"Caf')
    with pytest.raises(ValueError, match="unregistered"):
        service.append(db_session, "auth.no_such_event", None, {}, {})
    with pytest.raises(ValueError, match="does not match"):
        service.append(db_session, "auth.login", None, {}, {"username": "x", "extra": 1})
    with pytest.raises(ValueError, match="float"):
        service.append(db_session, "auth.login", None, {}, {"username": 1.5})
    with pytest.raises(ValueError, match="scope"):
        service.append(db_session, "auth.login", None, {"planet": "mars"}, {"username": "x"})


def test_proofs_verify_for_every_index_and_size(db_session: Session) -> None:
    _append(db_session, 40)
    leaves = _leaves(db_session)
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    n = len(leaves)
    for size in range(1, n + 1, 7):
        root = service.root(db_session, size)
        assert root == merkle.root(hashes[:size])
        for index in range(0, size, 5):
            proof = service.inclusion_proof(db_session, index, size)
            merkle.verify_inclusion(index, size, hashes[index], proof, root)
        for old in range(1, size, 6):
            proof = service.consistency_proof(db_session, old, size)
            merkle.verify_consistency(old, size, proof, merkle.root(hashes[:old]), root)


@pytest.mark.parametrize("entries", [1, 2, 3, 7, 8, 9, 16, 33])
def test_no_proof_for_a_tree_larger_than_the_log(db_session: Session, entries: int) -> None:
    """Proofs ask for the log's size only when they fail: every tree beyond it must fail."""
    _append(db_session, entries - service.size(db_session))
    n = service.size(db_session)
    assert n == entries
    for size in range(n + 1, n + 4):
        for index in range(size):
            with pytest.raises(ValidationError, match=f"the log has {n} entries"):
                service.inclusion_proof(db_session, index, size)
        for old in range(1, size + 1):
            with pytest.raises(ValidationError, match=f"the log has {n} entries"):
                service.consistency_proof(db_session, old, size)
    with pytest.raises(ValidationError, match="at least the one before"):
        service.inclusion_proof(db_session, n, n)
    with pytest.raises(ValidationError, match="at least the one before"):
        service.consistency_proof(db_session, 2, 1)


def test_checkpoints_are_signed_by_the_log_key(db_session: Session, settings: Settings) -> None:
    _append(db_session, 5)
    checkpoint = checkpoints.issue(db_session, settings, "demand")
    assert checkpoint.size == service.size(db_session)
    vkey = keys.log_key(db_session).vkey
    text, verified = note.open_note(checkpoints.full_text(checkpoint), [vkey])[:2]
    parsed = note.Checkpoint.parse(text)
    assert (parsed.origin, parsed.size, parsed.root) == (
        settings.log_origin,
        checkpoint.size,
        service.root(db_session),
    )
    assert verified == [settings.log_origin]
    assert checkpoints.issue(db_session, settings, "demand") is checkpoint  # same size: same one


def test_api_reads(client: FlaskClient, db_session: Session, settings: Settings) -> None:
    _append(db_session, 12)
    checkpoints.issue(db_session, settings, "schedule")
    db_session.commit()
    size = service.size(db_session)
    lines = client.get(f"/api/v1/audit/entries?start=0&end={size}")
    assert lines.mimetype == "application/jsonl"
    assert lines.data.split(b"\n")[:-1] == _leaves(db_session)[:1000]
    text = client.get("/api/v1/audit/checkpoint").get_data(as_text=True)
    assert text.splitlines()[1] == str(size)

    proof = client.get(f"/api/v1/audit/proof/inclusion?index=3&size={size}").get_json()
    hashes = [base64.b64decode(h) for h in proof["hashes"]]
    merkle.verify_inclusion(
        3, size, merkle.leaf_hash(_leaves(db_session)[3]), hashes, service.root(db_session, size)
    )
    consistency = client.get(f"/api/v1/audit/proof/consistency?from=2&to={size}").get_json()
    assert consistency["from"] == 2
    assert consistency["to"] == size

    bad = client.get("/api/v1/audit/proof/inclusion?index=-1&size=abc")
    assert bad.status_code == 422
    assert set(bad.get_json()["fields"]) == {"index", "size"}
    empty = client.get(f"/api/v1/audit/proof/consistency?from=0&to={size}")
    assert empty.status_code == 422
    assert "from" in empty.get_json()["fields"]
    beyond = client.get(f"/api/v1/audit/proof/inclusion?index=0&size={size + 5}")
    assert beyond.status_code == 422
    assert "the log has" in beyond.get_json()["error"]


def test_anonymous_reads_write_nothing_to_the_log(
    client: FlaskClient, db_session: Session, settings: Settings
) -> None:
    _append(db_session, 3)
    signed = checkpoints.issue(db_session, settings, "schedule")
    _append(db_session, 2)  # entries after the latest checkpoint
    db_session.commit()
    before = (service.size(db_session), len(checkpoints.history(db_session)))
    assert client.get("/api/v1/audit/checkpoint").get_data(as_text=True) == checkpoints.full_text(signed)
    for _ in range(2):
        bundle = client.get("/api/v1/audit/bundle")
        assert bundle.status_code == 200
        assert f"ocv-audit-{signed.size}.tar.gz" in bundle.headers["Content-Disposition"]
    client.get("/audit/")
    client.get("/audit/checkpoints")
    db_session.expire_all()
    assert (service.size(db_session), len(checkpoints.history(db_session))) == before


def test_observer_pages(client: FlaskClient, db_session: Session, settings: Settings) -> None:
    logouts = _append(db_session, 2, "auth.logout")
    logins = _append(db_session, 3, "auth.login")
    checkpoints.issue(db_session, settings, "demand")
    db_session.commit()

    def listed(query: str) -> list[tuple[int, str]]:
        """(seq, type) of the entries shown, newest first: those of this test come first."""
        page = client.get("/audit/" + query).get_data(as_text=True)
        shown = re.findall(r"<strong>#(\d+)</strong></a>\s*<code>([a-z_.]+)</code>", page)
        return [(int(seq), kind) for seq, kind in shown]

    ours = [(seq, "auth.login") for seq in reversed(logins)] + [
        (seq, "auth.logout") for seq in reversed(logouts)
    ]
    assert listed("")[:5] == ours
    # The filters in the query string apply, and page backwards.
    by_type = listed("?type=auth.login")
    assert by_type[:3] == ours[:3]
    assert {kind for _, kind in by_type} == {"auth.login"}
    assert listed(f"?type=auth.login&before={logins[-1]}")[:2] == ours[1:3]
    assert listed("?type=auth.")[:5] == ours
    assert {kind for _, kind in listed("?station=DE-BER-01")} <= {"registration.voter_enrolled"}
    invalid = client.get("/audit/?type=auth.login&since=yesterday").get_data(as_text=True)
    assert "Some filters are not valid and were ignored." in invalid
    entry = client.get("/audit/entries/1").get_data(as_text=True)
    assert "Inclusion proof" in entry
    assert client.get("/audit/checkpoints").status_code == 200
    assert client.get("/audit/log-key").get_data(as_text=True).startswith(settings.log_origin + "+")
    assert client.get("/audit/entries/999999").status_code == 404


@pytest.fixture
def witness(make_user, db_session: Session) -> tuple[str, Ed25519PrivateKey, str]:
    """An observer who keeps their own witness key; the server knows only the public half."""
    user = make_user("olivia", "observer")
    key = Ed25519PrivateKey.generate()
    vkey = note.format_vkey("olivia-witness", keys.public_bytes(key))
    keys.register_verifier_key(db_session, OPERATOR, owner="olivia", role="observer", vkey=vkey)
    token = accounts.issue_token(db_session, OPERATOR, user, "witness")
    db_session.commit()
    return token, key, "olivia-witness"


def _cosign(client: FlaskClient, token: str, key: Ed25519PrivateKey, name: str, size: int):  # type: ignore[no-untyped-def]
    text = client.get(f"/api/v1/audit/checkpoints/{size}").get_data(as_text=True)
    body = text.split("\n\n", 1)[0] + "\n"
    return client.post(
        "/api/v1/audit/cosignatures",
        headers={"Authorization": f"Bearer {token}"},
        json={"size": size, "signature": note.sign_note(body, name, key).rstrip("\n")},
    )


def test_witness_cosigning(client: FlaskClient, db_session: Session, settings: Settings, witness) -> None:
    token, key, name = witness
    sizes = []
    for _ in range(3):
        _append(db_session, 4)
        sizes.append(checkpoints.issue(db_session, settings, "demand").size)
    db_session.commit()
    first, second, third = sizes

    response = _cosign(client, token, key, name, first)
    assert response.status_code == 201, response.get_json()
    served = client.get(f"/api/v1/audit/checkpoints/{first}").get_data(as_text=True)
    assert served.count("\u2014 ") == 2
    assert _cosign(client, token, key, name, first).status_code == 409

    assert _cosign(client, token, key, name, third).status_code == 201
    back = _cosign(client, token, key, name, second)
    assert back.status_code == 422
    assert "never goes back" in back.get_json()["error"]

    forged = _cosign(client, token, Ed25519PrivateKey.generate(), name, third)
    assert forged.status_code in (409, 422)
    sequencer.integrate(db_session)
    cosigned = [t for t in db_session.scalars(select(Entry.type)) if t == "audit.checkpoint_cosigned"]
    assert len(cosigned) == 2


def test_cosigning_with_someone_elses_key_is_forbidden(
    client: FlaskClient, db_session: Session, settings: Settings, witness, make_user
) -> None:
    _, key, name = witness
    other = make_user("oscar", "observer")
    token = accounts.issue_token(db_session, OPERATOR, other, "x")
    size = checkpoints.issue(db_session, settings, "demand").size
    db_session.commit()
    assert _cosign(client, token, key, name, size).status_code == 403


def test_clerk_cannot_cosign(
    client: FlaskClient, db_session: Session, settings: Settings, witness, make_user
) -> None:
    _, key, name = witness
    clerk = make_user("cleo", "clerk", "DE-BER-01")
    token = accounts.issue_token(db_session, OPERATOR, clerk, "x")
    size = checkpoints.issue(db_session, settings, "demand").size
    db_session.commit()
    assert _cosign(client, token, key, name, size).status_code == 403


def test_concurrent_appends_leave_no_gap(own_database: Engine) -> None:
    """Real transactions on separate connections, committing, then the sequencer: no gap."""
    factory = sessionmaker(bind=own_database)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(10):
                with factory() as session, session.begin():
                    _record(session, 2)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with factory() as session, session.begin():
        assert sequencer.integrate(session) == 80
    with factory() as session:
        seqs = list(session.scalars(select(Entry.seq).order_by(Entry.seq)))
        assert seqs == list(range(len(seqs)))
        assert service.size(session) == len(seqs)
        assert service.root(session) == merkle.root([merkle.leaf_hash(x) for x in _leaves(session)])


def test_personal_keys_follow_password_changes(db_session: Session, settings: Settings, make_user) -> None:
    user = make_user("pam", "presiding_officer", "DE-BER-01")
    key = keys.create_personal_key(
        db_session, OPERATOR, owner="pam", role="presiding_officer", password=PASSWORD, name="pam-2027"
    )
    accounts.change_password(db_session, settings, user, PASSWORD, "a brand new passphrase")
    assert keys.open_personal_key(key, "a brand new passphrase")
    with pytest.raises(SealError):
        keys.open_personal_key(key, PASSWORD)
    accounts.reset_password(db_session, settings, OPERATOR, user, "temporary password 9")
    assert key.revoked_seq is not None
    assert key.sealed_private is None
