"""Polling pages: the station's desk and its presiding officer's page (one page whose
parts follow the station's state and who looks), and the printable results protocol."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any

import segno
from flask import Blueprint, flash, has_request_context, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from ocv.acting import Actor, authorize, may
from ocv.auth.permissions import Permission
from ocv.db import request_session
from ocv.errors import OCVError, ValidationError
from ocv.i18n import translate
from ocv.web import signed_in_actor, signed_in_user
from polling import forms, messages, service, wording
from polling.errors import AlreadyVoted, OtherElectionCard, WrongStationState
from registration import service as registry

bp = Blueprint("polling", __name__, template_folder="templates")
wording.register(bp)
messages.register()


@bp.url_defaults
def _same_election(endpoint: str, values: dict[str, Any]) -> None:
    """Every link and form of a station's pages stays in the election the page is of: a
    station code may be in several elections (`?election=`)."""
    chosen = request.args.get("election") if has_request_context() else None
    if chosen and "election" not in values:
        values["election"] = chosen


def _shown(reg_no: str) -> str:
    """A stored registration number as people read it aloud (`K7M-4QX-9T2`)."""
    return "-".join(reg_no[i : i + 3] for i in range(0, len(reg_no), 3))


def _station_time(session: Any, election: str, station: str, at: dt.datetime) -> str:
    """A time as the station's clock showed it, its zone named (`2027-04-18 14:05 CEST`)."""
    zone = zoneinfo.ZoneInfo(
        registry.get_station(session, registry.get_election(session, election), station).time_zone
    )
    return at.replace(tzinfo=at.tzinfo or dt.UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _desk_error(error: OCVError, election: str, query: str = "") -> str:
    """What the desk reads when a search or a check-in is refused, in its language."""
    if isinstance(error, registry.MistypedRegNo):
        if error.reason == "check":
            return _("Check the number: one of its characters is wrong.")
        return _("This is not a registration number. Check what you typed.")
    if isinstance(error, OtherElectionCard):
        return _("This card is for %(card)s, not %(election)s.", card=error.election, election=election)
    if isinstance(error, AlreadyVoted):
        return translate(error.message)  # worded by `check_in` below, where the voter is known
    if isinstance(error, WrongStationState):
        return _("This cannot be done now: the station is %(state)s.", state=_state_now(election))
    if error.http_status == 404 and query:
        return _("No voter with this number is on the list of %(election)s.", election=election)
    return translate(error.message)


def _state_now(election: str) -> str:
    station = request.view_args.get("station", "") if request.view_args else ""
    state = service.station_status(request_session(), None, election, station)["state"]
    return wording.state_name(state)


def _election(station: str) -> str:
    return registry.election_of_station(request_session(), station, request.args.get("election"))


def _page(station: str, status: int = 200, **forms_given: FlaskForm) -> tuple[str, int]:
    session, actor = request_session(), signed_in_actor()
    election = _election(station)
    state = service.station_status(session, actor, election, station)
    described = registry.describe(registry.get_election(session, election))
    styles = [s["code"] for s in described["ballot_styles"]]
    contests = {c.code: c for c in registry.get_election(session, election).contests}
    style = request.args.get("style") or (styles[0] if styles else "")
    query = forms.SearchForm(request.args)
    found: list[Any] = []
    search_error = None
    voted: dict[str, str] = {}
    if query.q.data and state["state"] == "polling" and may(actor, Permission.CHECK_IN_VOTERS, station):
        try:
            found = service.find_voters(session, actor, election, station, query.q.data)
        except OCVError as error:
            search_error = _desk_error(error, election, query.q.data)
        marks = service.marks_of(session, actor, election, station, [v.reg_no for v in found])
        voted = {
            reg_no: _(
                "already voted at %(station)s on %(time)s",
                station=m.station_code,
                time=_station_time(session, election, m.station_code, m.at),
            )
            for reg_no, m in marks.items()
        }
    zone = zoneinfo.ZoneInfo(
        registry.get_station(session, registry.get_election(session, election), station).time_zone
    )
    turnout = [
        (hour.astimezone(zone).strftime("%H:00"), n)
        for hour, n in service.turnout_by_hour(session, election, station)
    ]
    tendered = forms.TenderedForm(prefix="tendered")
    tendered.ballot_style.choices = [SelectChoice(s, s) for s in styles]
    move = forms.MoveForm(prefix="move")
    move.ballot_style.choices = [SelectChoice(s, s) for s in styles]
    style_contests = [
        contests[c] for s in described["ballot_styles"] if s["code"] == style for c in s["contests"]
    ]
    counting = described.get("counting", "cvr")
    tally: dict[str, Any] = {}
    if (
        counting == "tally_sheet"
        and state["state"] == "closed"
        and may(actor, Permission.CHECK_IN_VOTERS, station)
    ):
        tally = _tally(session, actor, election, station)
    context = {
        "election": election,
        "station": station,
        "status": state,
        "styles": styles,
        "counting": counting,
        "voted": voted,
        "tally": tally,
        "tally_form": tally.get("form"),
        "can_run": may(actor, Permission.RUN_STATION, station),
        "can_desk": may(actor, Permission.CHECK_IN_VOTERS, station),
        "can_observe": may(actor, Permission.OBSERVE),
        "query": query,
        "found": found,
        "search_error": search_error,
        "turnout": turnout,
        "alert": service.RUN_OUT_ALERT,
        "run_out": service.run_out_hours,
        "checkin_form": forms.CheckInForm(formdata=None),
        "spoil_form": forms.SpoilForm(formdata=None, prefix="spoil"),
        "undo_form": forms.UndoForm(formdata=None, prefix="undo"),
        "tendered_form": tendered,
        "move_form": move,
        "open_form": forms.for_styles(styles, opening=True, reopening=state["state"] == "paused"),
        "close_form": forms.for_styles(styles, opening=False),
        "ballot_style": style,
        "ballot_form": forms.ballot_form(style, style_contests) if style else None,
        "sign_form": forms.SignForm(formdata=None),
        "countersign_form": forms.CountersignForm(formdata=None, prefix="countersign"),
        "action_form": forms.ActionForm(),
        **forms_given,
    }
    return render_template("polling/station.html", **context), status


@bp.get("/stations/<station>")
@login_required
def station_page(station: str) -> tuple[str, int]:
    return _page(station)


# Who may send each form: refused before its content is looked at (the service decides again).
_SENDERS = {
    **dict.fromkeys(
        ("checkin_form", "spoil_form", "tendered_form", "ballot_form"), Permission.CHECK_IN_VOTERS
    ),
    **dict.fromkeys(
        ("undo_form", "move_form", "open_form", "close_form", "action_form"), Permission.RUN_STATION
    ),
    "sign_form": Permission.RUN_STATION,
    "countersign_form": Permission.OBSERVE,
}


def _act(
    station: str, form: FlaskForm, name: str, act: Callable[[Actor, str], object], done: str | None
) -> Any:
    """Run one action of the page; a refusal shows the page again with its reason and the
    status it deserves, and changes nothing."""
    permission = _SENDERS[name]
    authorize(signed_in_actor(), permission, None if permission is Permission.OBSERVE else station)
    if not form.validate_on_submit():
        problems = "; ".join(
            f"{form[k].label.text}: {' '.join(v)}" for k, v in form.errors.items() if k in form
        )
        flash(problems or _("Fill in the form."), "error")
        return _page(station, 422, **{name: form})
    try:
        act(signed_in_actor(), _election(station))
    except ValidationError as error:
        flash(messages.shown(error), "error")
        return _page(station, error.http_status, **{name: form})
    except OCVError as error:
        flash(_desk_error(error, _election(station)), "error")
        return _page(station, error.http_status, **{name: form})
    if done:
        flash(done, "success")
    return redirect(url_for("polling.station_page", station=station, style=request.args.get("style")), 303)


def _by_service(
    operation: Callable[..., object], station: str, *args: object
) -> Callable[[Actor, str], object]:
    """The action (for `_act`) that runs `operation` of the polling service at the station,
    with `args` after the station."""
    return lambda actor, election: operation(request_session(), actor, election, station, *args)


@bp.post("/stations/<station>/checkin")
@login_required
def check_in(station: str) -> Any:
    form = forms.CheckInForm()
    session = request_session()

    def act(actor: Actor, election: str) -> None:
        reg_no = form.reg_no.data or ""
        try:
            mark = service.check_in(session, actor, election, station, reg_no)
        except AlreadyVoted as refused:
            earlier = next(iter(service.marks_of(session, actor, election, station, [reg_no]).values()), None)
            if earlier is None:  # the number as typed differs from the stored one
                raise
            said = _(
                "%(voter)s already voted at %(station)s on %(time)s: no second ballot.",
                voter=_shown(earlier.reg_no),
                station=earlier.station_code,
                time=_station_time(session, election, earlier.station_code, earlier.at),
            )
            raise AlreadyVoted(said, earlier.station_code, str(refused.details["time"])) from None
        flash(
            _(
                "%(voter)s is checked in: hand out a ballot of style %(style)s.",
                voter=_shown(mark.reg_no),
                style=mark.ballot_style,
            ),
            "success",
        )

    return _act(station, form, "checkin_form", act, None)


@bp.post("/stations/<station>/spoil")
@login_required
def spoil(station: str) -> Any:
    form = forms.SpoilForm(prefix="spoil")
    act = _by_service(service.spoil, station, form.reg_no.data or "")
    return _act(station, form, "spoil_form", act, _("Spoiled ballot recorded: hand out its replacement."))


@bp.post("/stations/<station>/undo")
@login_required
def undo(station: str) -> Any:
    form = forms.UndoForm(prefix="undo")
    act = _by_service(service.undo_check_in, station, form.reg_no.data or "", form.reason.data or "")
    return _act(station, form, "undo_form", act, _("The check-in is undone."))


@bp.post("/stations/<station>/tendered")
@login_required
def tendered(station: str) -> Any:
    form = forms.TenderedForm(prefix="tendered")
    form.ballot_style.choices = [SelectChoice(form.ballot_style.data or "", "")]
    act = _by_service(service.tendered, station, form.ballot_style.data or "", form.claim.data or "")
    return _act(
        station, form, "tendered_form", act, _("Tendered ballot recorded: seal it in its envelope, apart.")
    )


@bp.post("/stations/<station>/move")
@login_required
def move(station: str) -> Any:
    form = forms.MoveForm(prefix="move")
    form.ballot_style.choices = [SelectChoice(form.ballot_style.data or "", "")]
    body = {"ballot_style": form.ballot_style.data, "count": form.count.data, "reason": form.reason.data}
    moving = service.resupply if form.kind.data == "resupplied" else service.transfer_out
    return _act(station, form, "move_form", _by_service(moving, station, body), _("Ballot papers recorded."))


def _styles(station: str) -> list[str]:
    election = registry.get_election(request_session(), _election(station))
    return [s.code for s in election.ballot_styles]


@bp.post("/stations/<station>/open")
@login_required
def open_station(station: str) -> Any:
    styles = _styles(station)
    form = forms.for_styles(styles, opening=True, reopening=True)

    def act(actor: Actor, election: str) -> None:
        body = {
            "ballots": forms.per_style(form, styles),
            "seals": forms.lines(form["seals"].data),
            "officials": forms.lines(form["officials"].data),
            "explanation": form.data.get("explanation") or "",
        }
        service.open_station(request_session(), actor, election, station, body)

    return _act(station, form, "open_form", act, _("The station is open."))


@bp.post("/stations/<station>/<any(close, pause):how>")
@login_required
def close(station: str, how: str) -> Any:
    styles = _styles(station)
    form = forms.for_styles(styles, opening=False)

    def act(actor: Actor, election: str) -> None:
        body = {"unused": forms.per_style(form, styles), "seals": forms.lines(form["seals"].data)}
        closing = service.close_station if how == "close" else service.pause_station
        closing(request_session(), actor, election, station, body)

    done = _("Polling is closed: count the ballots.") if how == "close" else _("Closed for the night.")
    return _act(station, form, "close_form", act, done)


@bp.post("/stations/<station>/ballot")
@login_required
def ballot(station: str) -> Any:
    session = request_session()
    election_code = _election(station)
    election = registry.get_election(session, election_code)
    style = request.args.get("style", "")
    carried = next((s.contest_codes for s in election.ballot_styles if s.code == style), [])
    contests = [c for c in election.contests if c.code in carried]
    form = forms.ballot_form(style, contests)
    return _act(
        station,
        form,
        "ballot_form",
        lambda actor, code: service.add_cvrs(
            session, actor, code, station, [forms.cvr_of(form, style, contests)]
        ),
        _("Ballot recorded."),
    )


@bp.post("/stations/<station>/<any(finish, submit):step>")
@login_required
def step(station: str, step: str) -> Any:
    form = forms.ActionForm()
    act = _by_service(service.finish_count if step == "finish" else service.submit_protocol, station)
    done = (
        _("The count is finished: check the protocol and sign it.") if step == "finish" else _("Submitted.")
    )
    return _act(station, form, "action_form", act, done)


@bp.post("/stations/<station>/sign")
@login_required
def sign(station: str) -> Any:
    form = forms.SignForm()
    act = _by_service(service.sign_protocol, station, form.password.data or "", form.explanation.data or "")
    return _act(station, form, "sign_form", act, _("The protocol is signed."))


@bp.post("/stations/<station>/countersign")
@login_required
def countersign(station: str) -> Any:
    form = forms.CountersignForm(prefix="countersign")
    act = _by_service(service.countersign_protocol, station, form.password.data or "")
    return _act(station, form, "countersign_form", act, _("Countersigned."))


def _carried(session: Any, election: str, station: str) -> list[Any]:
    """The contests of the station's ballot styles, in the election file's order."""
    registered = registry.get_election(session, election)
    carried = {c for s in registered.ballot_styles for c in s.contest_codes}
    return [c for c in registered.contests if c.code in carried]


def _tally(
    session: Any, actor: Actor, election: str, station: str, form: FlaskForm | None = None
) -> dict[str, Any]:
    """The tally sheet's part of the page: this clerk's form, the entries in, and where two
    entries differ, field by field (shown once both are in, so neither copies the other)."""
    contests = _carried(session, election, station)
    sheets = service.tally_sheets(session, actor, election, station)
    mine = sheets.get(actor.name)
    others = {clerk: sheet for clerk, sheet in sheets.items() if clerk != actor.name}
    differences = []
    clerks = list(sheets)
    if len(clerks) >= 2:
        first, second = sheets[clerks[0]], sheets[clerks[1]]
        names = {c.code: c.name for c in contests}
        for name, label, path in forms.sheet_fields(contests):
            a, b = forms.figure(first, path), forms.figure(second, path)
            if a != b:
                where = names.get(path[1], "") if len(path) > 1 else ""
                differences.append({"field": name, "contest": where, "label": str(label), "values": (a, b)})
    return {
        "form": form or forms.tally_form(contests, mine),
        "contests": contests,
        "fields": {c.code: [f for f in forms.sheet_fields([c])] for c in contests},
        "clerks": clerks,
        "mine": mine is not None,
        "others": list(others),
        "differences": differences,
        "differing": {d["field"] for d in differences},
    }


@bp.post("/stations/<station>/tally-sheet")
@login_required
def tally_sheet(station: str) -> Any:
    session = request_session()
    contests = _carried(session, _election(station), station)
    form = forms.tally_form(contests)
    authorize(signed_in_actor(), Permission.CHECK_IN_VOTERS, station)
    if not form.validate_on_submit():
        flash(_("Fill in every box of the tally sheet with a whole number."), "error")
        tally = _tally(session, signed_in_actor(), _election(station), station, form)
        return _page(station, 422, tally_form=form, tally=tally)
    try:
        service.enter_tally_sheet(
            session, signed_in_actor(), _election(station), station, forms.sheet_of(form, contests)
        )
    except OCVError as error:
        flash(_desk_error(error, _election(station)), "error")
        tally = _tally(session, signed_in_actor(), _election(station), station, form)
        return _page(station, error.http_status, tally_form=form, tally=tally)
    sheets = service.tally_sheets(session, signed_in_actor(), _election(station), station)
    if len(sheets) < 2:
        flash(_("Your entry is in: a second clerk enters the count too."), "success")
    elif len({repr(s) for s in sheets.values()}) == 1:
        flash(_("Both entries agree: the presiding officer can finish the count."), "success")
    else:
        flash(_("The entries differ: count the boxes marked again."), "error")
    return redirect(url_for("polling.station_page", station=station), 303)


@bp.get("/stations/<station>/protocol")
def protocol(station: str) -> str:
    """The form to print and post at the door: public once submitted."""
    user = signed_in_user()
    protocol = service.station_protocol(
        request_session(), Actor.of(user) if user else None, _election(station), station
    )
    election = registry.get_election(request_session(), _election(station))
    contest_names = {c.code: c.name for c in election.contests}
    digest = protocol.get("sha256")
    qr = segno.make(f"sha256:{digest}", error="m").svg_inline(scale=3, dark="#111") if digest else None
    printed = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return render_template(
        "polling/protocol.html",
        station=station,
        protocol=protocol,
        qr=qr,
        printed=printed,
        contest_names=contest_names,
        station_name=registry.get_station(request_session(), election, station).name,
    )
