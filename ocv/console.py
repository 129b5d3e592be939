"""The person at the console: every `ocv` command acts as a named operator, recorded in
the log as such (`ocv --as NAME`, else $OCV_OPERATOR, else the OS user)."""

from __future__ import annotations

import click

from ocv.acting import Actor

_KEY = "ocv.operator"


def _remember(ctx: click.Context, _param: click.Parameter, name: str | None) -> None:
    if name is not None and not name.strip():
        raise click.BadParameter("give a name", ctx, _param)
    ctx.meta[_KEY] = name


AS_OPTION = click.Option(
    ["--as", "operator_name"],
    envvar="OCV_OPERATOR",
    metavar="NAME",
    expose_value=False,
    is_eager=True,
    callback=_remember,
    help="The operator's name in the audit log (default: the OS user).",
)


def operator() -> Actor:
    """The actor of the running `ocv` command."""
    ctx = click.get_current_context(silent=True)
    return Actor.operator(ctx.meta.get(_KEY) if ctx else None)
