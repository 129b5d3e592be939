"""`ocv election ...` and `ocv voters ...`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from tqdm import tqdm

from ocv.console import operator
from ocv.db import database
from ocv.errors import ValidationError
from ocv.web import parse_json
from registration import regno, service
from registration.imports import service as imports

election_cli = AppGroup("election", help="Election setup and lifecycle.")
voters_cli = AppGroup("voters", help="The voter registry.")

PHASES = {"open": "registration_open", "exhibit": "exhibition", "freeze": "frozen"}


@election_cli.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--code", help="Load it under this election code instead of the file's (to try a copy).")
def load(file: Path, code: str | None) -> None:
    """Load an election definition (JSON; see docs/election-file.md)."""
    try:
        data = parse_json(file.read_bytes())  # orjson: UTF-8 only, nesting bounded
    except ValueError as error:
        raise ValidationError(f"{file} is not JSON: {error}") from None
    if code is not None and isinstance(data, dict):
        data["code"] = code  # checked as the file's own would be
    with database(current_app).transaction() as session:
        election = service.load_election(session, operator(), data)
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
        election = service.advance(session, operator(), service.get_election(session, code), PHASES[phase])
        suffix = f"; list digest {election.frozen_digest}" if election.frozen_digest else ""
        click.echo(f"{election.code} is now in its {election.status.replace('_', ' ')} phase{suffix}")


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
        voters = service.station_list(session, operator(), service.get_station(session, election, station))
        for v in voters:
            click.echo(f"{regno.format(v.reg_no)}  {v.family_name}, {v.given_name}  {v.date_of_birth}")
        click.echo(f"{len(voters)} voters; list digest {service.list_digest(voters)}")


@voters_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--election", "code", required=True, help="The election's code.")
@click.option("--dry-run", is_flag=True, help="Check every row and report; change nothing.")
@click.option("--skip-invalid", is_flag=True, help="Import the good rows even if others are rejected.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the rejected rows as CSV (default: FILE.rejected.csv, if any).",
)
def import_voters(file: Path, code: str, dry_run: bool, skip_invalid: bool, report_path: Path | None) -> None:
    """Import voters from a CSV file (docs/voter-import.md). Exit 65 if rows are rejected."""
    bar = tqdm(total=0, unit=" rows", file=sys.stderr, disable=not sys.stderr.isatty(), dynamic_ncols=True)

    def progress(done: int, expected: int) -> None:
        bar.total = expected
        bar.update(done - bar.n)

    rejected = None
    try:
        with database(current_app).transaction() as session, file.open("rb") as stream:
            election = service.get_election(session, code)
            report = imports.import_voters(
                session,
                current_app.config["OCV_SETTINGS"],
                operator(),
                election,
                stream,
                filename=file.name,
                dry_run=dry_run,
                skip_invalid=skip_invalid,
                progress=progress,
            )
    except imports.ImportRejected as error:
        rejected, report = error, error.report
    finally:
        bar.close()
    if report.committed:
        outcome = f"imported {report.imported}"
    elif dry_run:
        outcome = f"would import {report.imported}"
    else:
        outcome = f"imported nothing ({report.imported} good rows)"
    click.echo(
        f"{file.name}: {report.rows} rows; {outcome}; rejected {report.rejected_rows}; "
        f"likely duplicates for review {report.flagged}"
    )
    for station, count in sorted(report.by_station.items()):
        click.echo(f"  {station:16} {count:>9}")
    if report.records_root:
        click.echo(f"sha256 {report.file_sha256}; records root {report.records_root}")
    if report.rejected or report_path:
        target = report_path or file.with_name(file.name + ".rejected.csv")
        target.write_text(report.rejected_csv(), encoding="utf-8")
        click.echo(f"rejected rows: {target}", err=True)
    if rejected is not None:
        click.echo(f"ocv: error: {rejected.message}", err=True)
        raise click.exceptions.Exit(65)
    if report.rejected:
        click.echo(f"ocv: warning: {report.rejected_rows} rejected rows were skipped.", err=True)
