"""`ocv audit ...` and `ocv keys ...`: export, checkpoints, digests and signing keys."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from audit import checkpoints, export, keys, sequencer
from audit.events import registry_markdown
from audit.state import append_digest
from ocv import events
from ocv.auth import service as accounts
from ocv.console import operator
from ocv.db import database
from ocv.errors import ValidationError
from ocv.settings import Settings

audit_cli = AppGroup("audit", help="The signed audit log.")
keys_cli = AppGroup("keys", help="Signing keys (their registration and revocation are log entries).")


def _settings() -> Settings:
    value: Settings = current_app.config["OCV_SETTINGS"]
    return value


@audit_cli.command("export")
@click.argument("path", type=click.Path(path_type=Path))
def export_command(path: Path) -> None:
    """Write a verification bundle to PATH (a directory, or a .tar.gz file)."""
    if path.exists() and not (path.is_dir() and not any(path.iterdir())):
        raise ValidationError(f"{path} exists; give a new path or an empty directory.")
    db = database(current_app)
    with db.transaction() as session:  # short: it holds the sequencer's lock
        size, state = export.prepare(session, _settings())
    with db.transaction() as session:
        if path.name.endswith(".tar.gz"):
            path.write_bytes(export.bundle_tar_gz(session, size, state))
        else:
            with tempfile.TemporaryDirectory(dir=path.parent if path.parent.exists() else None) as tmp:
                export.write_bundle(session, Path(tmp) / "bundle", size, state)
                shutil.move(str(Path(tmp) / "bundle"), path)
    click.echo(f"exported {size} entries to {path}")


@audit_cli.command("log-key")
def log_key_command() -> None:
    """Print the log's verifier key (for ocv-verify --log-key)."""
    with database(current_app).transaction() as session:
        click.echo(keys.log_key(session).vkey)


@audit_cli.command("checkpoint")
@click.option("--reason", default="demand", type=click.Choice(checkpoints.REASONS))
def checkpoint_command(reason: str) -> None:
    """Sign a checkpoint of the log as it is now, and print it."""
    with database(current_app).transaction() as session:
        click.echo(checkpoints.full_text(checkpoints.issue(session, _settings(), reason)), nl=False)


@audit_cli.command("schedule")
@click.option("--every", default=300, show_default=True, help="Seconds between checkpoints.")
@click.option("--count", default=0, help="Stop after this many (0: run until stopped).")
def schedule_command(every: int, count: int) -> None:
    """Issue checkpoints on fixed wall-clock boundaries, so witnesses see the same ones."""
    done = 0
    while count == 0 or done < count:
        time.sleep(every - time.time() % every)
        with database(current_app).transaction() as session:
            checkpoint = checkpoints.issue(session, _settings(), "schedule")
        click.echo(f"checkpoint {checkpoint.size}")
        done += 1


@audit_cli.command("sequencer")
@click.option("--idle", default=0.05, show_default=True, help="Seconds to wait when the queue is empty.")
@click.option("--batch", default=20_000, show_default=True, help="Entries per transaction, at most.")
def sequencer_command(idle: float, batch: int) -> None:
    """Integrate pending entries into the log until stopped (production: one per database,
    beside gunicorn; a second one only waits for the first's lock)."""
    db = database(current_app)
    click.echo("integrating audit entries (Ctrl+C to stop)")
    try:
        sequencer.run(db.sessionmaker, idle=idle, batch=batch)
    except KeyboardInterrupt:
        click.echo("stopped")


@audit_cli.command("digest")
def digest_command() -> None:
    """Append a state digest: the server commits to the state it holds."""
    with database(current_app).transaction() as session:
        seq, state = append_digest(session, operator())
    click.echo(f"state digest at entry {seq} ({', '.join(state) or 'no state yet'})")


def _owner_password(session: Session, username: str, password_stdin: bool) -> str:
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else click.prompt(f"{username}'s password", hide_input=True)
    )
    accounts.check_password(session, _settings(), accounts.get_user(session, username), password)
    return str(password)


@keys_cli.command("create")
@click.argument("name")
@click.option("--owner", required=True, help="The user who will sign with it.")
@click.option("--role", required=True, type=click.Choice(keys.SIGNER_ROLES))
@click.option("--password-stdin", is_flag=True, help="Read the owner's password from standard input.")
def keys_create(name: str, owner: str, role: str, password_stdin: bool) -> None:
    """Create a personal key, sealed with its owner's password, and register it in the log."""
    with database(current_app).transaction() as session:
        password = _owner_password(session, owner, password_stdin)
        key = keys.create_personal_key(
            session, operator(), owner=owner, role=role, password=password, name=name
        )
        click.echo(key.vkey)


@keys_cli.command("register")
@click.argument("vkey")
@click.option("--owner", required=True)
@click.option("--role", required=True, type=click.Choice(keys.SIGNER_ROLES))
def keys_register(vkey: str, owner: str, role: str) -> None:
    """Register a public key whose private half its owner keeps (an observer's witness key)."""
    with database(current_app).transaction() as session:
        accounts.get_user(session, owner)
        key = keys.register_verifier_key(session, operator(), owner=owner, role=role, vkey=vkey)
        click.echo(f"registered {key.name} at entry {key.registered_seq}")


@keys_cli.command("list")
def keys_list() -> None:
    """List every key, revoked ones included."""
    with database(current_app).transaction() as session:
        for key in keys.list_keys(session):
            state = "active" if key.is_active else f"revoked at {key.revoked_seq}"
            click.echo(f"{key.name:32} {key.role:18} {key.owner:20} {state}")


@keys_cli.command("rotate")
@click.argument("name")
@click.option("--new-name", required=True)
@click.option("--password-stdin", is_flag=True)
def keys_rotate(name: str, new_name: str, password_stdin: bool) -> None:
    """Replace a personal key with a new one for the same owner and role."""
    with database(current_app).transaction() as session:
        old = keys.get_key(session, name)
        password = _owner_password(session, old.owner, password_stdin)
        new = keys.rotate_key(session, operator(), name, new_name, password)
        click.echo(new.vkey)


@keys_cli.command("revoke")
@click.argument("name")
@click.option("--reason", required=True)
def keys_revoke(name: str, reason: str) -> None:
    """Revoke a key: signatures made with it after this entry do not count."""
    with database(current_app).transaction() as session:
        key = keys.revoke_key(session, operator(), name, reason)
        click.echo(f"revoked {key.name} at entry {key.revoked_seq}")


@keys_cli.command("vkey")
@click.argument("name")
def keys_vkey(name: str) -> None:
    """Print a key's verifier key."""
    with database(current_app).transaction() as session:
        click.echo(keys.get_key(session, name).vkey)


@audit_cli.command("event-types")
def event_types_command() -> None:
    """Print the registry of event types as Markdown (docs/audit-events.md)."""
    click.echo(registry_markdown(events.REGISTRY), nl=False)
