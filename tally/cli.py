"""`ocv tally ...`: intake, checks, resolutions, results and certification from the
console, acting as the named operator (`ocv --as NAME tally ...`): two officers are two
names, and certification signs with NAME's personal tally-officer key."""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from ocv.console import operator
from ocv.db import database
from tally import service

tally_cli = AppGroup("tally", help="The tally: intake, checks, resolutions, results, certification.")


def _settings() -> Any:
    return current_app.config["OCV_SETTINGS"]


def _dump(value: Any) -> str:
    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {k: plain(x) for k, x in dataclasses.asdict(v).items()}
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [plain(x) for x in v]
        return v

    return json.dumps(plain(value), indent=2, default=str, ensure_ascii=False)


@tally_cli.command("intake")
@click.argument("election")
@click.argument("station", required=False)
def intake(election: str, station: str | None) -> None:
    """Verify and check STATION's submitted protocol (or every one not taken in yet)."""
    with database(current_app).transaction() as session:
        if station:
            outcome = {
                station.upper(): service.intake_station(session, operator(), election, station, _settings())
            }
        else:
            outcome = service.intake_all(session, operator(), election, _settings())
    for code, status in outcome.items():
        click.echo(f"{code}: {status.value}")
    if not outcome:
        click.echo("no protocol waiting")


@tally_cli.command("checks")
@click.argument("election")
@click.argument("station", required=False)
def checks(election: str, station: str | None) -> None:
    """Every check of STATION's intake, or the quarantine list with the failing figures."""
    with database(current_app).transaction() as session:
        if station:
            for c in service.station_checks(session, operator(), election, station):
                mark = "ok  " if c.holds else "FAIL"
                click.echo(f"{mark} [{c.kind}] {c.check}: {c.left} / {c.right} {c.detail}".rstrip())
            return
        items = service.quarantine(session, operator(), election)
        for item in items:
            click.echo(f"{item.station} quarantined since {item.since:%Y-%m-%d %H:%M} UTC")
            for c in item.failing:
                click.echo(f"  FAIL [{c.kind}] {c.check}: {c.left} / {c.right} {c.detail}".rstrip())
            if item.open_proposal:
                p = item.open_proposal
                click.echo(f"  proposal {p.id}: {p.action.value} by {p.proposed_by}: {p.reason}")
        if not items:
            click.echo("no station in quarantine")


@tally_cli.command("resolve")
@click.argument("election")
@click.argument("station")
@click.argument("action", type=click.Choice(["accept", "recount", "reenter", "exclude", "reject"]))
@click.option("--reason", required=True, help="Why: kept in the log.")
@click.option("--tendered", is_flag=True, help="Decide the station's tendered ballots (accept or reject).")
def resolve(election: str, station: str, action: str, reason: str, tendered: bool) -> None:
    """Propose ACTION for a quarantined STATION; a second officer approves it."""
    subject = "tendered" if tendered else "station"
    with database(current_app).transaction() as session:
        proposal = service.propose(session, operator(), election, station, action, reason, subject)
        click.echo(f"proposal {proposal.id}: {action} {station} ({subject}), waiting for a second officer")


@tally_cli.command("approve")
@click.argument("proposal", type=int)
@click.option("--reject", "rejecting", is_flag=True, help="Reject instead (a reason is required).")
@click.option("--reason", default="", help="The decision's reason.")
def approve(proposal: int, rejecting: bool, reason: str) -> None:
    """Approve (or --reject) PROPOSAL, as another officer than its proposer."""
    with database(current_app).transaction() as session:
        if rejecting:
            decided = service.reject(session, operator(), proposal, reason)
        else:
            decided = service.approve(session, operator(), proposal, reason, _settings())
        click.echo(f"proposal {decided.id} {decided.state.value} by {decided.decided_by}")


@tally_cli.command("results")
@click.argument("election")
@click.option("--json", "as_json", is_flag=True, help="Everything, as JSON.")
def results(election: str, as_json: bool) -> None:
    """The results as they stand (accepted stations only) and the progress of reporting."""
    with database(current_app).transaction() as session:
        found = service.results(session, operator(), election)
    if as_json:
        click.echo(_dump(found))
        return
    p = found.progress
    click.echo(
        f"{found.election}: {p.accepted} accepted, {p.quarantined} quarantined, {p.excluded} excluded, "
        f"{p.missing} missing of {p.expected} stations"
    )
    for contest in found.total.contests:
        click.echo(
            f"{contest.contest} ({contest.ballots} ballots, {contest.blank} blank, {contest.invalid} invalid)"
        )
        for choice, votes in sorted(contest.choices.items(), key=lambda item: -item[1]):
            click.echo(f"  {votes:8,}  {choice}")
    state = found.certification
    if state.latest:
        stale = " — figures changed since" if state.stale else ""
        click.echo(f"certified: #{state.latest.number} {state.latest.sha256}{stale}")


@tally_cli.command("certify")
@click.argument("election")
@click.option("--reason", default="", help="Required for a correction (any certification after the first).")
@click.option("--password-stdin", is_flag=True, help="Read the key's password from standard input.")
def certify(election: str, reason: str, password_stdin: bool) -> None:
    """Sign the results with your personal tally-officer key, bound to a new checkpoint."""
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else click.prompt("your key's password", hide_input=True)
    )
    with database(current_app).transaction() as session:
        done = service.certify_results(session, operator(), election, password, reason, _settings())
    click.echo(f"certification {done.number}: {done.sha256} bound to checkpoint {done.tree_size}")
