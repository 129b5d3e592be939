"""The `ocv` command: a Flask CLI group with the operator's commands.

Each command runs in one transaction (`with db.transaction()`); domain errors print
one line naming the problem and exit with the error's code, changing nothing.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup
from werkzeug.serving import run_simple

from audit import keys as audit_keys
from audit.cli import audit_cli, keys_cli
from ocv import demo, migrate
from ocv.app import create_app
from ocv.auth import service as accounts
from ocv.console import AS_OPTION, operator
from ocv.db import database
from ocv.errors import OCVError
from ocv.settings import Settings
from polling.cli import station_cli
from tally.cli import tally_cli
from registration.cli import election_cli, voters_cli


class OCVGroup(FlaskGroup):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OCVError as error:
            click.echo(f"ocv: error: {error.message}", err=True)
            for name, messages in getattr(error, "fields", {}).items():
                for message in messages:
                    click.echo(f"ocv:   {name}: {message}", err=True)
            ctx.exit(error.exit_code)


def _app() -> Any:
    return create_app()


cli = OCVGroup(create_app=_app, add_default_commands=False, params=[AS_OPTION], help="Out-of-country voting.")
db_cli = AppGroup("db", help="Database schema.")
users_cli = AppGroup("users", help="User accounts and API tokens.")
cli.add_command(db_cli)
cli.add_command(users_cli)
for group in (audit_cli, keys_cli, election_cli, voters_cli, station_cli, tally_cli):
    cli.add_command(group)


def settings() -> Settings:
    value: Settings = current_app.config["OCV_SETTINGS"]
    return value


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema and create the audit log."""
    db = database(current_app)
    migrate.upgrade(db.engine)
    with db.transaction() as session:
        created = audit_keys.create_log(session, settings())
    click.echo("database is at the latest schema" + ("; audit log created" if created else ""))


@db_cli.command("revision")
@click.argument("message")
def db_revision(message: str) -> None:
    """Write a migration for the difference between the models and the database."""
    migrate.make_revision(database(current_app).engine, message)


def _read_password(password_stdin: bool, prompt: str = "Password") -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    value: str = click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return value


@users_cli.command("create")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    help="admin, registration_officer, presiding_officer, clerk, tally_officer or observer",
)
@click.option("--station", "station_code", help="Station code (presiding officers and clerks).")
@click.option("--full-name", default="", help="The person's name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(
    username: str, role: str, station_code: str | None, full_name: str, password_stdin: bool
) -> None:
    """Create a user; they must choose their own password at first sign-in."""
    password = _read_password(password_stdin, "Temporary password")
    with database(current_app).transaction() as session:
        user = accounts.create_user(
            session,
            settings(),
            operator(),
            username=username,
            role=role,
            password=password,
            station_code=station_code,
            full_name=full_name,
        )
        click.echo(
            f"created {user.username} ({user.role}"
            + (f", station {user.station_code})" if user.station_code else ")")
        )


@users_cli.command("token")
@click.argument("username")
@click.option("--name", default="CLI", help="What the token is for.")
def users_token(username: str, name: str) -> None:
    """Print a new API token for USERNAME (shown once; only its hash is kept)."""
    with database(current_app).transaction() as session:
        user = accounts.get_user(session, username)
        click.echo(accounts.issue_token(session, operator(), user, name))


@users_cli.command("list")
def users_list() -> None:
    """List the accounts."""
    with database(current_app).transaction() as session:
        for user in accounts.all_users(session):
            state = "active" if user.is_active else "deactivated"
            click.echo(f"{user.username:24} {user.role:22} {user.station_code or '-':10} {state}")


@users_cli.command("unlock")
@click.argument("username")
def users_unlock(username: str) -> None:
    """Clear failed sign-ins and a lockout."""
    with database(current_app).transaction() as session:
        accounts.unlock(session, operator(), accounts.get_user(session, username))
        click.echo(f"unlocked {username}")


@cli.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve(host: str, port: int) -> None:
    """Run the development server (use gunicorn in production)."""
    click.echo(f"serving on http://{host}:{port} (Ctrl+C to stop)")
    # Werkzeug directly: Flask's app.run() refuses to start from inside a CLI command.
    run_simple(host, port, current_app._get_current_object(), threaded=True)  # type: ignore[attr-defined]


@cli.command("demo")
@click.option("--voters", default=demo.VOTERS, show_default=True, help="How many sample voters to enrol.")
def demo_command(voters: int) -> None:
    """Load the sample election's officials (development only) and print their sign-ins."""
    if not settings().is_development:
        raise OCVError("The demo loads known passwords: run it with OCV_ENV=development only.")
    with database(current_app).transaction() as session:
        logins = demo.load(session, settings(), operator(), voters)
    click.echo(demo.describe(logins))


def main() -> None:
    cli.main(prog_name="ocv")
