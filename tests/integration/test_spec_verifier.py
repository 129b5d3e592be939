"""A verifier written from docs/specs/audit-log-format.md alone accepts the bundle `ocv audit
export` writes, and rejects every tampering with a line naming what is wrong."""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from audit import checkpoints, keys
from audit.models import Entry
from ocv.auth import service as accounts
from ocv.settings import Settings
from tests.factories import OPERATOR
from tests.integration.test_cli import run
from tests.integration.test_polling import (
    BALLOTS_CAST,
    KEY_PASSWORD,
    _count_and_sign,
    _post,
    day,  # noqa: F401 (the fixture)
)
from tests.spec_verifier import verifier

VERIFIER = Path(verifier.__file__)


def spec_verify(bundle: Path, vkey: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(VERIFIER), str(bundle), "--log-key", vkey],  # a script, outside the project
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def exported(  # type: ignore[no-untyped-def]
    app: Flask,
    client: FlaskClient,
    day,  # noqa: F811 (the fixture)
    db_session: Session,
    settings: Settings,
    tmp_path: Path,
):
    """Polling day at one station: enrolments, keys, check-ins, the protocol signed and
    countersigned, a checkpoint cosigned by an observer, a key revoked, and the export's
    own checkpoint; a state digest before polling, and the export's own."""
    assert run(app, "audit", "digest").exit_code == 0
    assert _count_and_sign(client, day, BALLOTS_CAST).status_code == 200
    checkpoints.issue(db_session, settings, "schedule")
    _cosign(client, db_session, day["observer"])
    assert (
        _post(client, "/protocol/countersign", day["observer"], {"password": KEY_PASSWORD}).status_code == 200
    )
    keys.revoke_key(db_session, OPERATOR, "olivia-1", "left the mission")
    db_session.commit()
    bundle = tmp_path / "bundle"
    result = run(app, "audit", "export", str(bundle))
    assert result.exit_code == 0, result.output
    return bundle, keys.log_key(db_session).vkey


def _cosign(client: FlaskClient, db_session: Session, token: dict[str, str]) -> None:
    """The observer cosigns the latest checkpoint with a witness key of theirs."""
    witness = keys.create_personal_key(
        db_session, OPERATOR, owner="olivia", role="observer", password=KEY_PASSWORD, name="olivia-witness"
    )
    db_session.commit()
    private = keys.open_personal_key(witness, KEY_PASSWORD)
    note = client.get("/api/v1/audit/checkpoint").get_data(as_text=True)
    body = note.split("\n\n")[0] + "\n"
    key_id = bytes.fromhex(witness.vkey.split("+")[1])
    line = f"\u2014 olivia-witness {base64.b64encode(key_id + private.sign(body.encode())).decode()}"
    size = int(body.split("\n")[1])
    response = client.post(
        "/api/v1/audit/cosignatures", json={"size": size, "signature": line}, headers=token
    )
    assert response.status_code == 201, response.get_data(as_text=True)


def test_the_verifier_needs_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(VERIFIER.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    outside = {name for name in imported if name.split(".")[0] not in sys.stdlib_module_names}
    assert outside, imported
    assert all(name.startswith("cryptography") for name in outside), outside


def test_an_exported_bundle_verifies(exported) -> None:  # type: ignore[no-untyped-def]
    bundle, vkey = exported
    result = spec_verify(bundle, vkey)
    assert result.returncode == 0, result.stdout + result.stderr
    checkpoint_count = len(list((bundle / "checkpoints").iterdir()))
    assert checkpoint_count >= 2
    digests = sum(1 for line in _lines(bundle) if b'"type":"audit.state_digest"' in line)
    assert digests >= 2
    summary = (
        f"{checkpoint_count} checkpoints, 3 keys, 1 cosignatures, 3 voters marked, 1 protocols, "
        f"{digests} state digests replayed"
    )
    assert summary in result.stdout


def test_reading_a_station_nobody_opened_changes_no_state(  # type: ignore[no-untyped-def]
    app: Flask, client: FlaskClient, exported, tmp_path: Path
) -> None:
    """An anonymous look at a station still in setup leaves the state a digest commits to as
    the entries replay it."""
    _, vkey = exported
    assert client.get("/api/v1/stations/FR-PAR-01").status_code == 200
    assert run(app, "audit", "digest").exit_code == 0
    again = tmp_path / "again"
    assert run(app, "audit", "export", str(again)).exit_code == 0
    result = spec_verify(again, vkey)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 state digests replayed" in result.stdout  # the fixture's export's, ours, the export's


def test_the_tar_gz_export_verifies(app: Flask, exported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, vkey = exported
    target = tmp_path / "bundle.tar.gz"
    assert run(app, "audit", "export", str(target)).exit_code == 0
    result = spec_verify(target, vkey)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_bundle_the_api_serves_verifies(  # type: ignore[no-untyped-def]
    client: FlaskClient, exported, db_session: Session, settings: Settings, tmp_path: Path
) -> None:
    """Also once the state has moved past the export's digest: the API serves no state/, so
    nothing it serves can disagree with the digests in its log."""
    _, vkey = exported
    accounts.create_user(
        db_session, settings, OPERATOR, username="newbie", role="observer", password="long enough password 1"
    )
    checkpoints.issue(db_session, settings, "demand")
    db_session.commit()
    response = client.get("/api/v1/audit/bundle")
    assert response.status_code == 200
    target = tmp_path / "from-the-api.tar.gz"
    target.write_bytes(response.data)
    with tarfile.open(target) as tar:
        assert not [name for name in tar.getnames() if name.startswith("bundle/state")]
    result = spec_verify(target, vkey)
    assert result.returncode == 0, result.stdout + result.stderr
    ours = subprocess.run(  # noqa: S603 (our own verifier)
        [str(Path(sys.executable).parent / "ocv-verify"), str(target), "--log-key", vkey],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert ours.returncode == 0, ours.stdout + ours.stderr


def test_another_log_key_is_refused(exported) -> None:  # type: ignore[no-untyped-def]
    bundle, vkey = exported
    other = _vkey(vkey.split("+")[0], Ed25519PrivateKey.generate())
    result = spec_verify(bundle, other)
    assert result.returncode == 1
    assert "entry 0: the log key" in result.stdout
    assert "has no valid signature by the log key" not in result.stdout  # checkpoints check the given key


# Tamperings of a copy of the bundle: each returns the lines the verifier must print.


def _lines(bundle: Path) -> list[bytes]:
    return (bundle / "log.jsonl").read_bytes().split(b"\n")[:-1]


def _write(bundle: Path, lines: list[bytes]) -> None:
    (bundle / "log.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))


def _seq_of(bundle: Path, kind: str) -> int:
    return next(i for i, line in enumerate(_lines(bundle)) if json.loads(line)["type"] == kind)


def _one_payload_byte(bundle: Path) -> list[str]:
    lines = _lines(bundle)
    seq = _seq_of(bundle, "polling.voter_checked_in")
    reg_no = json.loads(lines[seq])["payload"]["reg_no"].encode()
    changed = reg_no[:-1] + (b"X" if reg_no[-1:] != b"X" else b"Y")
    lines[seq] = lines[seq].replace(b'"reg_no":"' + reg_no, b'"reg_no":"' + changed)
    _write(bundle, lines)
    return [
        f"entry {seq}: its bytes do not hash to the leaf hash the log stored when it was appended",
        f"root hash is not the Merkle root of entries 0 to {len(lines) - 1}",
    ]


def _entry_dropped(bundle: Path) -> list[str]:
    lines = _lines(bundle)
    seq = _seq_of(bundle, "polling.voter_checked_in")
    del lines[seq]
    _write(bundle, lines)
    return [
        f"entry {seq}: line {seq + 1} of log.jsonl has seq {seq + 1}, expected {seq}",
        f"covers {len(lines) + 1} entries but log.jsonl holds {len(lines)}",
    ]


def _entries_swapped(bundle: Path) -> list[str]:
    lines = _lines(bundle)
    seq = _seq_of(bundle, "polling.voter_checked_in")
    lines[seq], lines[seq + 1] = lines[seq + 1], lines[seq]
    _write(bundle, lines)
    return [
        f"entry {seq}: line {seq + 1} of log.jsonl has seq {seq + 1}, expected {seq}",
        f"entry {seq + 1}: line {seq + 2} of log.jsonl has seq {seq}, expected {seq + 1}",
        f"entry {seq}: its bytes do not hash to the leaf hash the log stored",
    ]


def _checkpoint_signature(bundle: Path) -> list[str]:
    path = max((bundle / "checkpoints").iterdir(), key=lambda p: int(p.stem))
    head, signature = path.read_text().rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(signature))
    raw[10] ^= 0x01  # inside the Ed25519 signature, past the key id
    path.write_text(f"{head} {base64.b64encode(bytes(raw)).decode()}\n")
    return [f"checkpoint {path.name}: has no valid signature by the log key"]


def _checkpoint_root(bundle: Path) -> list[str]:
    path = min((bundle / "checkpoints").iterdir(), key=lambda p: int(p.stem))
    lines = path.read_text().split("\n")
    lines[2] = base64.b64encode(hashlib.sha256(b"another tree").digest()).decode()
    path.write_text("\n".join(lines))
    return [f"checkpoint {path.name}: has no valid signature by the log key"]


def _cosignature(bundle: Path) -> list[str]:
    path = next(p for p in (bundle / "checkpoints").iterdir() if "olivia-witness" in p.read_text())
    lines = path.read_text().split("\n")
    at = next(i for i, line in enumerate(lines) if "olivia-witness" in line)
    head, signature = lines[at].rsplit(" ", 1)
    raw = bytearray(base64.b64decode(signature))
    raw[-1] ^= 0x01
    lines[at] = f"{head} {base64.b64encode(bytes(raw)).decode()}"
    path.write_text("\n".join(lines))
    return [f"checkpoint {path.name}: cosignature by 'olivia-witness' does not verify"]


def _keys_json(bundle: Path) -> list[str]:
    data = json.loads((bundle / "keys.json").read_text())
    revoked = next(key for key in data["keys"] if key["revoked_seq"] is not None)
    data["keys"] = [{**key, "revoked_seq": None} for key in data["keys"]]
    (bundle / "keys.json").write_text(json.dumps(data))
    return [f"keys.json: key {revoked['name']!r} has revoked_seq None, the log says {revoked['revoked_seq']}"]


def _last_seq_of(bundle: Path, kind: str) -> int:
    return max(i for i, line in enumerate(_lines(bundle)) if json.loads(line)["type"] == kind)


def _state_digest_count(bundle: Path) -> list[str]:
    lines = _lines(bundle)
    seq = _last_seq_of(bundle, "audit.state_digest")
    entry = json.loads(lines[seq])
    entry["payload"]["entries_by_type"]["polling.voter_checked_in"] -= 1
    lines[seq] = verifier.jcs(entry)
    _write(bundle, lines)
    return [f"entry {seq}: state digest miscounts the entries before it: polling.voter_checked_in 2 ≠ 3"]


def _time_goes_back(bundle: Path) -> list[str]:
    lines = _lines(bundle)
    seq = _seq_of(bundle, "polling.station_closed")
    entry = json.loads(lines[seq])
    entry["time"] = "2000-01-01T00:00:00.000000Z"
    lines[seq] = verifier.jcs(entry)
    _write(bundle, lines)
    return [f"entry {seq}: time 2000-01-01T00:00:00.000000Z is before the previous entry's"]


def _not_canonical(bundle: Path) -> list[str]:
    lines = _lines(bundle)
    lines[3] = json.dumps(json.loads(lines[3]), sort_keys=True).encode()  # with spaces
    _write(bundle, lines)
    return ["entry 3: its bytes are not the JCS serialization of the entry"]


def _duplicate_member(bundle: Path) -> list[str]:
    lines = _lines(bundle)
    lines[3] = lines[3][:-1] + b',"v":1}'
    _write(bundle, lines)
    return ["entry 3: duplicate member name 'v'"]


def _floating_point(bundle: Path) -> list[str]:
    lines = _lines(bundle)
    lines[3] = lines[3].replace(b'"v":1}', b'"v":1.0}')
    _write(bundle, lines)
    return ["entry 3: floating-point number 1.0"]


def _not_nfc(bundle: Path) -> list[str]:
    lines = _lines(bundle)
    seq = _seq_of(bundle, "polling.station_opened")
    entry = json.loads(lines[seq])
    entry["payload"]["officials"][0] = "Ame\u0301lie Oster"  # é as e and a combining accent
    lines[seq] = verifier.jcs(entry)
    _write(bundle, lines)
    return [f"entry {seq}: string 'Ame\u0301lie Oster' is not NFC-normalized"]


def _protocol_signature(bundle: Path) -> list[str]:
    lines = _lines(bundle)
    seq = _seq_of(bundle, "polling.protocol_signed")
    entry = json.loads(lines[seq])
    raw = bytearray(base64.b64decode(entry["payload"]["signatures"][0]["sig"]))
    raw[0] ^= 0x01
    entry["payload"]["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
    lines[seq] = verifier.jcs(entry)
    _write(bundle, lines)
    return [f"entry {seq}: signature by key 'po-ber' does not verify over JCS(document)"]


TAMPERINGS: dict[str, Callable[[Path], list[str]]] = {
    "one payload byte changed": _one_payload_byte,
    "an entry dropped": _entry_dropped,
    "two entries swapped": _entries_swapped,
    "a checkpoint signature altered": _checkpoint_signature,
    "a checkpoint root changed": _checkpoint_root,
    "a cosignature altered": _cosignature,
    "keys.json disagreeing with the log": _keys_json,
    "a state digest miscounting": _state_digest_count,
    "time going back": _time_goes_back,
    "an entry not in JCS": _not_canonical,
    "a protocol signature altered": _protocol_signature,
    "a duplicate member name": _duplicate_member,
    "a floating-point number": _floating_point,
    "a string not in NFC": _not_nfc,
}


def test_every_tampering_is_named(exported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Each tampering of a copy of one export: rejected, with the lines naming it."""
    bundle, vkey = exported
    unnamed = {}
    for name, tamper in TAMPERINGS.items():
        copy = tmp_path / name.replace(" ", "-")
        shutil.copytree(bundle, copy)
        expected = tamper(copy)
        result = spec_verify(copy, vkey)
        missing = [line for line in expected if line not in result.stdout]
        if result.returncode != 1 or missing:
            unnamed[name] = (result.returncode, missing, result.stdout + result.stderr)
    assert unnamed == {}


# A checkpoint whose root is wrong yet validly signed: only a forger of the whole trust root
# can make one, and the verifier given the forger's key must still find the root wrong.


def _vkey(name: str, private: Ed25519PrivateKey) -> str:
    public = private.public_key().public_bytes_raw()
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    encoded = base64.b64encode(b"\x01" + public).decode()
    return f"{name}+{key_id.hex()}+{encoded}"


def _sign_note(origin: str, size: int, root: bytes, private: Ed25519PrivateKey, vkey: str) -> str:
    body = f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"
    key_id = bytes.fromhex(vkey.split("+")[1])
    signature = base64.b64encode(key_id + private.sign(body.encode())).decode()
    return f"{body}\n\u2014 {origin} {signature}\n"


def test_a_validly_signed_checkpoint_with_a_wrong_root_is_named(exported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bundle, _ = exported
    copy = tmp_path / "forged"
    shutil.copytree(bundle, copy)
    lines = _lines(copy)
    root_entry = json.loads(lines[0])
    origin = root_entry["payload"]["origin"]
    private = Ed25519PrivateKey.generate()
    forged_key = _vkey(origin, private)
    root_entry["payload"]["vkey"] = forged_key
    lines[0] = verifier.jcs(root_entry)
    _write(copy, lines)
    leaves = [verifier.leaf_hash(line) for line in lines]
    (copy / "leaf-hashes.bin").write_bytes(b"".join(leaves))
    keys_json = json.loads((copy / "keys.json").read_text())
    (copy / "keys.json").write_text(json.dumps({**keys_json, "log": forged_key}))
    sizes = sorted(int(p.stem) for p in (copy / "checkpoints").iterdir())
    for size in sizes:
        root = verifier.merkle_root(leaves[:size])
        if size == sizes[0]:
            root = hashlib.sha256(b"another tree").digest()
        (copy / "checkpoints" / f"{size}.txt").write_text(_sign_note(origin, size, root, private, forged_key))
    result = spec_verify(copy, forged_key)
    assert result.returncode == 1, result.stdout + result.stderr
    expected = f"checkpoint {sizes[0]}.txt: root hash is not the Merkle root of entries 0 to {sizes[0] - 1}"
    assert result.stdout.splitlines() == [expected]


def test_an_entry_edited_in_the_database_is_named_by_the_stored_leaf_hashes(  # type: ignore[no-untyped-def]
    app: Flask, db_session: Session, exported, tmp_path: Path
) -> None:
    bundle, vkey = exported
    seq = _seq_of(bundle, "polling.voter_checked_in")
    leaf = _lines(bundle)[seq]
    edited = leaf.replace(b'"ballot_style":"BS-EU"', b'"ballot_style":"BS-ME"')
    assert edited != leaf
    db_session.execute(update(Entry).where(Entry.seq == seq).values(leaf=edited))
    db_session.commit()
    target = tmp_path / "edited"
    assert run(app, "audit", "export", str(target)).exit_code == 0
    result = spec_verify(target, vkey)
    assert result.returncode == 1, result.stdout
    assert f"entry {seq}: its bytes do not hash to the leaf hash the log stored" in result.stdout


def _forge_trust_root(bundle: Path, lines: list[bytes]) -> str:
    """Write `lines` as the log and sign it anew under a forged log key, consistently:
    entry 0, leaf-hashes.bin, keys.json and every checkpoint. The forged key's vkey."""
    root_entry = json.loads(lines[0])
    origin = root_entry["payload"]["origin"]
    private = Ed25519PrivateKey.generate()
    forged_key = _vkey(origin, private)
    root_entry["payload"]["vkey"] = forged_key
    lines[0] = verifier.jcs(root_entry)
    _write(bundle, lines)
    leaves = [verifier.leaf_hash(line) for line in lines]
    (bundle / "leaf-hashes.bin").write_bytes(b"".join(leaves))
    keys_json = json.loads((bundle / "keys.json").read_text())
    (bundle / "keys.json").write_text(json.dumps({**keys_json, "log": forged_key}))
    for path in (bundle / "checkpoints").iterdir():
        size = int(path.stem)
        path.write_text(_sign_note(origin, size, verifier.merkle_root(leaves[:size]), private, forged_key))
    return forged_key


def test_a_state_digest_the_entries_do_not_replay_to_is_named(exported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The last digest and state/ agree with each other and the log is signed consistently,
    but the state they claim (an account the entries never deactivated shown inactive) is not
    the one the entries before the digest replay to."""
    bundle, _ = exported
    copy = tmp_path / "claims-another-state"
    shutil.copytree(bundle, copy)
    lines = _lines(copy)
    seq = _last_seq_of(copy, "audit.state_digest")
    state = json.loads((copy / "state" / "accounts.json").read_text())
    assert state["olivia"]["active"] is True
    state["olivia"]["active"] = False
    (copy / "state" / "accounts.json").write_bytes(verifier.jcs(state))
    entry = json.loads(lines[seq])
    entry["payload"]["state"]["accounts"] = hashlib.sha256(verifier.jcs(state)).hexdigest()
    lines[seq] = verifier.jcs(entry)
    forged_key = _forge_trust_root(copy, lines)
    result = spec_verify(copy, forged_key)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"entry {seq}: state.accounts is not the state the entries before it replay to"
    ]


def _digest_read_ahead(bundle: Path, polling_day: str) -> tuple[int, str]:
    """The digest before polling claims the polling stations as they are once the entry just
    after it, the station's opening, took effect, on day `polling_day`; signed anew under a forged
    log key. The digest's seq and the forged key."""
    lines = _lines(bundle)
    seq = _seq_of(bundle, "audit.state_digest")
    opened = json.loads(lines[seq + 1])
    assert opened["type"] == "polling.station_opened"
    ahead = {
        f"{opened['scope']['election']}/{opened['payload']['station']}": {
            "state": "polling",
            "day": polling_day,
        }
    }
    entry = json.loads(lines[seq])
    entry["payload"]["state"]["polling_stations"] = hashlib.sha256(verifier.jcs(ahead)).hexdigest()
    lines[seq] = verifier.jcs(entry)
    return seq, _forge_trust_root(bundle, lines)


def test_a_state_digest_read_while_an_entry_was_pending_verifies(exported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The server reads the state just after writing the digest: it may hold the change of an
    entry sequenced after the digest, which the replay reaches before the next digest."""
    bundle, _ = exported
    copy = tmp_path / "read-ahead"
    shutil.copytree(bundle, copy)
    _seq, forged_key = _digest_read_ahead(copy, "1")
    result = spec_verify(copy, forged_key)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_state_digest_no_later_entry_replays_to_is_named(exported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bundle, _ = exported
    copy = tmp_path / "never-reached"
    shutil.copytree(bundle, copy)
    seq, forged_key = _digest_read_ahead(copy, "2")  # the log never opens a second day
    result = spec_verify(copy, forged_key)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"entry {seq}: state.polling_stations is not the state the entries before it replay to"
    ]
