"""`ocv election ...` and `ocv voters ...`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ocv.db import database
from ocv.errors import ValidationError
from registration import lists, regno, service

election_cli = AppGroup("election", help="Election setup and lifecycle.")
voters_cli = AppGroup("voters", help="The voter registry.")

PHASES = {"open": "registration_open", "exhibit": "exhibition", "freeze": "frozen"}


@election_cli.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load(file: Path) -> None:
    """Load an election definition (JSON; see docs/election-file.md)."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationError(f"{file} is not JSON: {error}") from None
    with database(current_app).transaction() as session:
        election = service.load_election(session, None, data)
        click.echo(
            f"loaded {election.code}: {len(election.constituencies)} constituencies, "
            f"{len(election.contests)} contests, {len(election.countries)} host countries, "
            f"{len(election.stations)} stations"
        )


@election_cli.command("advance")
@click.argument("code")
@click.argument("phase", type=click.Choice(sorted(PHASES)))
def advance(code: str, phase: str) -> None:
    """Open registration, start the exhibition period, or freeze the list."""
    with database(current_app).transaction() as session:
        election = service.advance(session, None, service.get_election(session, code), PHASES[phase])
        suffix = f"; list digest {election.frozen_digest}" if election.frozen_digest else ""
        click.echo(f"{election.code} is now {election.status}{suffix}")


@election_cli.command("show")
@click.argument("code")
def show(code: str) -> None:
    """Print an election's description as JSON."""
    with database(current_app).transaction() as session:
        click.echo(
            json.dumps(service.describe(service.get_election(session, code)), indent=1, ensure_ascii=False)
        )


@voters_cli.command("list")
@click.argument("code")
@click.option("--station", required=True)
def station_list(code: str, station: str) -> None:
    """Print a station's voter list (sorted by name) and its digest."""
    with database(current_app).transaction() as session:
        election = service.get_election(session, code)
        voters = service.station_list(session, service.get_station(session, election, station))
        for v in voters:
            click.echo(f"{regno.format(v.reg_no)}  {v.family_name}, {v.given_name}  {v.date_of_birth}")
        click.echo(f"{len(voters)} voters; list digest {lists.list_digest(voters)}")
