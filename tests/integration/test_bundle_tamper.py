"""Export real bundles and show that `ocv-verify` accepts them and rejects every tampering."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from audit import checkpoints, export, jcs, keys, service
from audit.models import Entry
from ocv import events
from ocv.events import EventType
from ocv.settings import Settings
from tests.factories import OPERATOR
from tests.integration.test_cli import run

VERIFY = [sys.executable, "-m", "audit.verify_cli"]


def verify(bundle: Path, vkey: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VERIFY, str(bundle), "--log-key", vkey, *extra],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def exported(app: Flask, db_session: Session, settings: Settings, make_user, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A log with sign-ins, keys, a revocation, signed documents and several checkpoints."""
    make_user("ada", "admin")
    make_user("tom", "tally_officer")
    keys.create_personal_key(
        db_session, OPERATOR, owner="tom", role="tally_officer", password="tom's password", name="tom-2027"
    )
    for i in range(30):
        service.append(db_session, "auth.logout", {"user": "ada", "role": "admin"}, {}, {"username": f"u{i}"})
        if i % 10 == 9:
            checkpoints.issue(db_session, settings, "schedule")
    keys.revoke_key(db_session, OPERATOR, "tom-2027", "left the commission")
    db_session.commit()
    result = run(app, "audit", "export", str(tmp_path / "bundle"))
    assert result.exit_code == 0, result.output
    return tmp_path / "bundle", keys.log_key(db_session).vkey


def _lines(bundle: Path) -> list[bytes]:
    return (bundle / "log.jsonl").read_bytes().split(b"\n")[:-1]


def _write(bundle: Path, lines: list[bytes]) -> None:
    (bundle / "log.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))


def test_an_honest_bundle_verifies(exported) -> None:
    bundle, vkey = exported
    result = verify(bundle, vkey)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(verify(bundle, vkey, "--json").stdout)
    assert report["ok"] is True


def test_the_tar_gz_export_verifies(app: Flask, exported, tmp_path: Path) -> None:
    _, vkey = exported
    target = tmp_path / "bundle.tar.gz"
    assert run(app, "audit", "export", str(target)).exit_code == 0
    assert verify(target, vkey).returncode == 0


def _one_byte(bundle: Path) -> None:
    lines = _lines(bundle)
    lines[5] = lines[5].replace(b'"u', b'"v', 1)
    _write(bundle, lines)


def _drop(bundle: Path) -> None:
    lines = _lines(bundle)
    del lines[7]
    _write(bundle, lines)


def _swap(bundle: Path) -> None:
    lines = _lines(bundle)
    lines[8], lines[9] = lines[9], lines[8]
    _write(bundle, lines)


def _truncate(bundle: Path) -> None:
    _write(bundle, _lines(bundle)[:-3])


def _forged_append(bundle: Path) -> None:
    lines = _lines(bundle)
    last = json.loads(lines[-1])
    forged = {**last, "seq": last["seq"] + 1, "type": "auth.login", "payload": {"username": "mallory"}}
    lines.append(json.dumps(forged, separators=(",", ":"), sort_keys=True).encode())
    _write(bundle, lines)


def _checkpoint_root(bundle: Path) -> None:
    path = sorted((bundle / "checkpoints").iterdir())[0]
    text = path.read_text().split("\n")
    text[2] = "A" * 43 + "="
    path.write_text("\n".join(text))


def _checkpoint_signature(bundle: Path) -> None:
    path = sorted((bundle / "checkpoints").iterdir())[-1]
    text = path.read_text()
    head, sig = text.rstrip("\n").rsplit(" ", 1)
    sig = ("B" if sig[0] == "A" else "A") + sig[1:]
    path.write_text(head + " " + sig + "\n")


def _keys_json(bundle: Path) -> None:
    data = json.loads((bundle / "keys.json").read_text())
    data["keys"][0]["revoked_seq"] = None
    (bundle / "keys.json").write_text(json.dumps(data))


TAMPERINGS = {
    "one byte of an entry": _one_byte,
    "an entry dropped": _drop,
    "two entries swapped": _swap,
    "the log truncated": _truncate,
    "a forged entry appended": _forged_append,
    "a checkpoint root changed": _checkpoint_root,
    "a checkpoint signature changed": _checkpoint_signature,
    "keys.json disagreeing with the log": _keys_json,
}


@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_every_tampering_is_rejected(exported, tmp_path: Path, tamper) -> None:  # type: ignore[no-untyped-def]
    bundle, vkey = exported
    copy = tmp_path / "tampered"
    shutil.copytree(bundle, copy)
    tamper(copy)
    result = verify(copy, vkey)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL" in result.stdout or "fail" in result.stdout.lower()


SIGNED = EventType("test.signed_document", "A signed document (tests only).", ("document", "signatures"))


def _signed_payload(key_name: str, private: Ed25519PrivateKey) -> dict[str, object]:
    document = {"station": "DE-BER-01", "ballots": 412}
    sig = base64.b64encode(private.sign(jcs.canonical_bytes(document))).decode()
    return {"document": document, "signatures": [{"key": key_name, "sig": sig}]}


@pytest.mark.parametrize("revoked", [False, True], ids=["active key", "revoked key"])
def test_document_signatures_count_only_from_active_keys(
    app: Flask, db_session: Session, settings: Settings, make_user, tmp_path: Path, revoked: bool
) -> None:
    events.register(SIGNED)
    make_user("pia", "presiding_officer", "DE-BER-01")
    key = keys.create_personal_key(
        db_session,
        OPERATOR,
        owner="pia",
        role="presiding_officer",
        password="pia's password",
        name="pia-2027",
    )
    private = keys.open_personal_key(key, "pia's password")
    if revoked:
        keys.revoke_key(db_session, OPERATOR, "pia-2027", "laptop stolen")
    service.append(db_session, "test.signed_document", None, {}, _signed_payload("pia-2027", private))
    db_session.commit()
    target = tmp_path / "bundle"
    assert run(app, "audit", "export", str(target)).exit_code == 0
    result = verify(target, keys.log_key(db_session).vkey)
    assert result.returncode == (1 if revoked else 0), result.stdout + result.stderr
    if revoked:
        assert "pia-2027" in result.stdout


def test_a_row_edited_behind_the_logs_back_is_caught(
    app: Flask, db_session: Session, exported, tmp_path: Path
) -> None:
    _, vkey = exported
    seq = db_session.scalars(
        select(Entry.seq).where(Entry.type == "auth.logout").order_by(Entry.seq.desc())
    ).first()
    assert seq is not None
    leaf = service.entry(db_session, seq)
    assert b'"ada"' in leaf
    db_session.execute(update(Entry).where(Entry.seq == seq).values(leaf=leaf.replace(b'"ada"', b'"eve"')))
    db_session.commit()
    target = tmp_path / "after-edit"
    assert run(app, "audit", "export", str(target)).exit_code == 0
    result = verify(target, vkey)
    assert result.returncode == 1
    assert str(seq) in result.stdout


def test_the_wrong_log_key_is_rejected(exported) -> None:
    bundle, _ = exported
    other = "someone.else/log+01234567+AQ" + "A" * 42 + "="
    result = verify(bundle, other)
    assert result.returncode in (1, 2)


def test_export_refuses_an_existing_path(app: Flask, exported) -> None:
    bundle, _ = exported
    result = run(app, "audit", "export", str(bundle))
    assert result.exit_code == 65
    assert "exists" in result.output


def test_repeated_exports_do_not_grow_the_log(
    app: Flask, db_session: Session, settings: Settings, exported
) -> None:
    first, _ = export.prepare(db_session, settings)
    second, _ = export.prepare(db_session, settings)
    assert first == second == service.size(db_session)


def test_the_verifier_names_the_entry_and_words_its_failures_plainly(exported, tmp_path: Path) -> None:
    bundle, vkey = exported
    changed = tmp_path / "changed"
    shutil.copytree(bundle, changed)
    lines = _lines(changed)
    lines[12] = lines[12].replace(b'"username":"u', b'"username":"x', 1)  # still a valid entry
    _write(changed, lines)
    result = verify(changed, vkey)
    assert result.returncode == 1
    assert "FAIL: entry 12: changed since it was logged" in result.stdout  # the entry, not a range

    swapped = tmp_path / "swapped"
    shutil.copytree(bundle, swapped)
    _swap(swapped)
    result = verify(swapped, vkey)
    assert result.returncode == 1
    assert "to None" not in result.stdout  # the header says how far the log was read
    assert "line number" not in result.stdout  # entries are numbered by seq
    assert "FAIL: entry 8: seq is 9, expected 8" in result.stdout
