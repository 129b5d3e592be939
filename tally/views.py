"""Tally pages: the tally officers' dashboard (progress, the quarantine queue with its
failing figures, proposals to approve, certification) and the public results site (by
contest, constituency, host country and station, each station's protocol with its
signatures and how to check them). Every figure comes from tally.service; every write goes
through it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from ocv.acting import Actor, authorize, may
from ocv.auth.permissions import Permission
from ocv.db import mark_for_rollback, request_session
from ocv.errors import OCVError, ValidationError
from ocv.i18n import text_direction
from ocv.web import current_settings, signed_in_actor, signed_in_user
from polling import service as polling
from registration import service as registry
from tally import charts, forms
from tally import service as tally
from tally.errors import Embargoed

bp = Blueprint("tally", __name__, template_folder="templates")
REFRESH_SECONDS = 30  # the dashboard reloads itself (ocv.js) while nobody is typing


def _reader() -> Actor | None:
    user = signed_in_user()
    return Actor.of(user) if user else None


def _insider(actor: Actor | None) -> bool:
    return actor is not None and (may(actor, Permission.TALLY) or may(actor, Permission.OBSERVE))


def _labels() -> dict[str, str]:
    return {
        "accepted": _("Accepted"),
        "quarantined": _("Quarantined"),
        "excluded": _("Excluded"),
        "missing": _("Missing"),
    }


def _progress_chart(progress: tally.Progress) -> Any:
    counts = {
        "accepted": progress.accepted,
        "quarantined": progress.quarantined,
        "excluded": progress.excluded,
        "missing": progress.missing,
    }
    return charts.progress(_("Stations reporting"), counts, _labels(), rtl=text_direction() == "rtl")


def _contest_chart(contest: tally.ContestResult) -> Any:
    return charts.bars(contest.name, list(contest.choices.items()), rtl=text_direction() == "rtl")


def _helpers() -> dict[str, Any]:
    return {
        "progress_chart": _progress_chart,
        "contest_chart": _contest_chart,
        "status_labels": _labels(),
        "percent": lambda x: "–" if x is None else f"{100 * x:.1f}%",
    }


# --- the public results site -------------------------------------------------------------


def _results(code: str) -> tuple[tally.Results | None, tally.Embargo, str]:
    """The results this reader may see (None under embargo), the embargo, the code."""
    session = request_session()
    code = registry.get_election(session, code).code
    actor = _reader()
    embargo = tally.embargo_of(session, code)
    if _insider(actor):
        assert actor is not None
        return tally.results(session, actor, code), embargo, code
    try:
        return tally.public_results(session, code), embargo, code
    except Embargoed:
        return None, embargo, code


def _embargoed(code: str, embargo: tally.Embargo) -> tuple[str, int]:
    progress = tally.progress(request_session(), code)
    return render_template(
        "tally/embargo.html", code=code, embargo=embargo, progress=progress, **_helpers()
    ), 200


@bp.get("/results/<code>")
def results(code: str) -> tuple[str, int]:
    found, embargo, code = _results(code)
    if found is None:
        return _embargoed(code, embargo)
    return render_template("tally/results.html", results=found, area=found.total, **_helpers()), 200


def _area_page(code: str, level: str, area_code: str) -> tuple[str, int]:
    found, embargo, code = _results(code)
    if found is None:
        return _embargoed(code, embargo)
    areas = found.by_constituency if level == "constituency" else found.by_country
    area = next((a for a in areas if a.code == area_code), None)
    if area is None:
        abort(404)
    stations = [s for s in found.stations if level != "country" or s.country == area.code]
    if level == "constituency":
        stations = [s for s in found.stations if area.code in s.by_constituency]
    return render_template(
        "tally/area.html", results=found, area=area, level=level, stations=stations, **_helpers()
    ), 200


@bp.get("/results/<code>/constituencies/<area>")
def constituency(code: str, area: str) -> tuple[str, int]:
    return _area_page(code, "constituency", area)


@bp.get("/results/<code>/countries/<area>")
def country(code: str, area: str) -> tuple[str, int]:
    return _area_page(code, "country", area)


@bp.get("/results/<code>/stations/<station>")
def station(code: str, station: str) -> tuple[str, int]:
    session = request_session()
    code = registry.get_election(session, code).code
    actor = _reader()
    found, embargo, code = _results(code)
    protocol = None
    if _insider(actor) or tally.protocol_is_public(session, code, station):
        try:
            protocol = polling.station_protocol(session, actor, code, station)
        except OCVError:
            protocol = None  # not submitted yet
    result = next((s for s in found.stations if s.station == station), None) if found else None
    if found is not None and result is None:
        abort(404)
    return render_template(
        "tally/station.html",
        code=code,
        station=station,
        results=found,
        embargo=embargo,
        result=result,
        protocol=protocol if protocol and protocol.get("sha256") else None,
        **_helpers(),
    ), 200


# --- the tally officers' dashboard -------------------------------------------------------


def _dashboard(code: str, status: int = 200, **given: Any) -> tuple[str, int]:
    session, actor = request_session(), signed_in_actor()
    authorize(actor, Permission.OBSERVE)
    found = tally.results(session, actor, code)
    queue = tally.quarantine(session, actor, code)
    proposals = tally.proposals(session, actor, code)
    can_act = may(actor, Permission.TALLY)
    propose_forms = {
        item.station: given.get(f"propose:{item.station}")
        or forms.ProposeForm(formdata=None, prefix=_prefix(item.station))
        for item in queue
        if item.open_proposal is None
    }
    decide_forms = {
        p.id: given.get(f"decide:{p.id}") or forms.DecideForm(formdata=None, prefix=f"p{p.id}")
        for p in proposals
        if p.state is tally.ProposalState.PROPOSED
    }
    return render_template(
        "tally/dashboard.html",
        results=found,
        queue=queue,
        proposals=proposals,
        can_act=can_act,
        me=actor.name,
        intake_form=forms.IntakeForm(formdata=None),
        propose_forms=propose_forms,
        decide_forms=decide_forms,
        certify_form=given.get("certify") or forms.CertifyForm(formdata=None),
        refresh=REFRESH_SECONDS,
        **_helpers(),
    ), status


def _prefix(station: str) -> str:
    return "s-" + station.lower()


def _election(code: str) -> str:
    return registry.get_election(request_session(), code).code


@bp.get("/tally/<code>")
@login_required
def dashboard(code: str) -> tuple[str, int]:
    return _dashboard(_election(code))


def _act(code: str, form: Any, key: str, act: Any, done: str) -> Any:
    """One write of the dashboard: a refusal shows the dashboard again with its reason."""
    authorize(signed_in_actor(), Permission.TALLY)
    if not form.validate_on_submit():
        problems = "; ".join(
            f"{form[k].label.text}: {' '.join(v)}" for k, v in form.errors.items() if k in form
        )
        flash(problems or _("Fill in the form."), "error")
        return _dashboard(code, 422, **{key: form})
    try:
        act(signed_in_actor())
    except ValidationError as error:
        mark_for_rollback()
        details = [m for messages in error.fields.values() for m in messages if m != error.message]
        flash(" ".join([error.message, *details[:5]]), "error")
        return _dashboard(code, error.http_status, **{key: form})
    except OCVError as error:
        mark_for_rollback()
        flash(error.message, "error")
        return _dashboard(code, error.http_status, **{key: form})
    if done:
        flash(done, "success")
    return redirect(url_for("tally.dashboard", code=code), 303)


@bp.post("/tally/<code>/intake")
@login_required
def intake(code: str) -> Any:
    code = _election(code)
    form = forms.IntakeForm()

    def act(actor: Actor) -> None:
        taken = tally.intake_all(request_session(), actor, code, current_settings())
        flash(_("%(n)s protocols taken in.", n=len(taken)), "success")

    return _act(code, form, "intake", act, "")


@bp.post("/tally/<code>/stations/<station>/propose")
@login_required
def propose(code: str, station: str) -> Any:
    code = _election(code)
    form = forms.ProposeForm(prefix=_prefix(station))
    return _act(
        code,
        form,
        f"propose:{station}",
        lambda actor: tally.propose(
            request_session(), actor, code, station, form.action.data or "", form.reason.data or ""
        ),
        _("Proposed: a second tally officer must approve it."),
    )


@bp.post("/tally/<code>/proposals/<int:proposal>/decide")
@login_required
def decide(code: str, proposal: int) -> Any:
    code = _election(code)
    form = forms.DecideForm(prefix=f"p{proposal}")

    def act(actor: Actor) -> None:
        if form.reject.data:
            tally.reject(request_session(), actor, proposal, form.reason.data or "")
            flash(_("Rejected: nothing changes."), "success")
        else:
            tally.approve(request_session(), actor, proposal, form.reason.data or "", current_settings())
            flash(_("Approved: the proposal takes effect."), "success")

    return _act(code, form, f"decide:{proposal}", act, "")


@bp.post("/tally/<code>/certify")
@login_required
def certify(code: str) -> Any:
    code = _election(code)
    form = forms.CertifyForm()
    return _act(
        code,
        form,
        "certify",
        lambda actor: tally.certify_results(
            request_session(),
            actor,
            code,
            form.password.data or "",
            form.reason.data or "",
            current_settings(),
        ),
        _("The results are certified: the signed document is in the audit log."),
    )
