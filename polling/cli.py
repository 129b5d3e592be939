"""`ocv station ...`: what an operator scripts at a station (as the named operator)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from ocv.console import operator
from ocv.db import database
from ocv.errors import ValidationError
from polling import service
from registration import service as registry

station_cli = AppGroup("station", help="Polling stations: open, close, count, protocol.")


def _json(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationError(f"{file} is not JSON: {error}") from None


@contextmanager
def _at_station(station: str, election: str | None) -> Iterator[tuple[Any, str]]:
    """A transaction, and the code of the election that holds the station (`--election`
    chooses when several do)."""
    with database(current_app).transaction() as session:
        yield session, registry.election_of_station(session, station, election)


def _record_from_file(
    change: Callable[..., object], station: str, file: Path, election: str | None, done: str
) -> None:
    """Open or close the station (`change`) with the record in FILE, and say it is `done`."""
    with _at_station(station, election) as (session, code):
        change(session, operator(), code, station, _json(file))
        click.echo(done)


ELECTION = click.option("--election", help="The election's code (when several hold the station).")
FILE = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))


@station_cli.command("status")
@click.argument("station")
@ELECTION
def status(station: str, election: str | None) -> None:
    """Print the station's state and accounts as JSON."""
    with _at_station(station, election) as (session, code):
        click.echo(json.dumps(service.station_status(session, operator(), code, station), indent=2))


@station_cli.command("open")
@click.argument("station")
@FILE
@ELECTION
def open_station(station: str, file: Path, election: str | None) -> None:
    """Open STATION from FILE: {"ballots": {style: n}, "seals": [...], "officials": [...]}."""
    _record_from_file(service.open_station, station, file, election, f"{station} is open for polling")


@station_cli.command("close")
@click.argument("station")
@FILE
@ELECTION
def close_station(station: str, file: Path, election: str | None) -> None:
    """Close STATION from FILE: {"unused": {style: n}, "seals": [...]}."""
    _record_from_file(
        service.close_station, station, file, election, f"{station} is closed: count the ballots"
    )


@station_cli.command("cvrs")
@click.argument("station")
@FILE
@ELECTION
def import_cvrs(station: str, file: Path, election: str | None) -> None:
    """Import cast-vote records: {"cvrs": [...]} or a NIST SP 1500-103 CVR report."""
    data = _json(file)
    with _at_station(station, election) as (session, code):
        accepted = service.add_cvrs(session, operator(), code, station, data)
        click.echo(f"{accepted} cast-vote records stored for {station}")


@station_cli.command("protocol")
@click.argument("station")
@ELECTION
def protocol(station: str, election: str | None) -> None:
    """Print the station's results protocol and its checks."""
    with _at_station(station, election) as (session, code):
        found = service.station_protocol(session, operator(), code, station)
    document = found["document"]
    click.echo(f"Results protocol {document['election']} {document['station']} ({found['state']})")
    for name, value in document["figures"].items():
        click.echo(f"  {name.replace('_', ' '):20} {value:>8}")
    for contest, result in document["contests"].items():
        click.echo(f"{contest}")
        for choice, votes in result["choices"].items():
            click.echo(f"  {choice:30} {votes:>8}")
        click.echo(f"  {'blank':30} {result['blank']:>8}\n  {'invalid':30} {result['invalid']:>8}")
    for check in document["checks"]:
        click.echo(
            f"{'ok  ' if check['holds'] else 'FAIL'} {check['check']}: {check['left']} / {check['right']}"
        )
    if found.get("sha256"):
        click.echo(f"sha256 {found['sha256']}; signed by {', '.join(s['key'] for s in found['signatures'])}")
