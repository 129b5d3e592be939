"""Registration pages: elections, fast enrolment, voter records, reviews, objections,
printable lists and cards (officers and admins), and the public self-check."""

from __future__ import annotations

import segno
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ocv.acting import Actor, authorize, may
from ocv.auth.forms import ActionForm
from ocv.auth.permissions import Permission
from ocv.bounds import INT64_MAX
from ocv.db import request_session
from ocv.errors import NotFound, OCVError, ValidationError
from ocv.i18n import register_messages, translate
from ocv.text import TextError, clean
from ocv.web import current_settings, parse_json, show_errors, signed_in_actor
from registration import messages, regno, self_check_limits, service
from registration.errors import MistypedRegNo
from registration.forms import (
    ElectionFileForm,
    EnrolForm,
    ObjectionForm,
    ObjectionStepForm,
    ReasonForm,
    ReviewForm,
    SelfCheckForm,
    TransferForm,
)
from registration.history import history_of
from registration.models import Election, ElectionStatus, Objection, Voter
from registration.vocabulary import CHOOSE, SEXES, closed_notice, phase_name, term

bp = Blueprint("registration", __name__, template_folder="templates")
bp.add_app_template_filter(phase_name, "phase")
bp.add_app_template_filter(term, "term")
register_messages(messages.TEMPLATES, messages.words(phase_name, term))


@bp.app_template_filter("regno")
def regno_display(reg_no: str) -> str:
    """A registration number as people read it aloud, ``K7M-4QX-9T2``; one that fails its
    check (never stored by the registry) is shown as it is, not dressed up."""
    try:
        return regno.format(reg_no)
    except regno.InvalidRegNo:
        return reg_no


def _officer() -> Actor:
    """The signed-in registration officer or admin; 403 for anyone else."""
    return authorize(signed_in_actor(), Permission.REGISTER_VOTERS)


def _election(code: str) -> Election:
    return service.get_election(request_session(), code)


# --- public self-check ---------------------------------------------------------------------


@bp.route("/check", methods=["GET", "POST"])
@self_check_limits.limited(methods=["POST"])
def self_check() -> str:
    form = SelfCheckForm()
    result = error = None
    if form.validate_on_submit():
        try:
            result = service.self_check(request_session(), form.reg_no.data or "", form.date_of_birth.data)
        except MistypedRegNo as invalid:
            error = (
                _("Check the number: one of its characters is wrong.")
                if invalid.reason == "check"
                else _("This is not a registration number. Check what you typed.")
            )
        except NotFound:
            error = _("No registration matches this number and date of birth.")
    return render_template("registration/self_check.html", form=form, result=result, error=error)


# --- elections -----------------------------------------------------------------------------


@bp.get("/elections")
@login_required
def elections() -> str:
    user = _officer()
    session = request_session()
    rows = [(e, service.voter_count(session, e)) for e in service.list_elections(session)]
    # The form only for those the service would let load a file.
    load_form = ElectionFileForm() if may(user, Permission.MANAGE_ELECTION) else None
    return render_template("registration/elections.html", rows=rows, load_form=load_form)


@bp.post("/elections/load")
@login_required
def load_election() -> Response:
    user = signed_in_actor()
    form = ElectionFileForm()
    if form.validate_on_submit():
        try:
            data = parse_json(form.file.data.read())
        except ValueError:
            flash(_("The file is not JSON."), "error")
            return redirect(url_for("registration.elections"))
        try:
            election = service.load_election(request_session(), user, data)
        except ValidationError as error:
            problems = "; ".join(f"{k}: {', '.join(v)}" for k, v in list(error.fields.items())[:10])
            flash(f"{error.message} {problems}", "error")
            raise
        flash(_("Election %(code)s loaded.", code=election.code), "success")
        return redirect(url_for("registration.election", code=election.code))
    authorize(user, Permission.MANAGE_ELECTION)
    flash(_("Choose a file."), "error")
    return redirect(url_for("registration.elections"))


@bp.get("/elections/<code>")
@login_required
def election(code: str) -> str:
    user = _officer()
    e = _election(code)
    return render_template(
        "registration/election.html",
        election=e,
        count=service.voter_count(request_session(), e),
        can_manage=may(user, Permission.MANAGE_ELECTION),
        can_enrol=may(user, Permission.REGISTER_VOTERS),
        action_form=ActionForm(),
    )


@bp.post("/elections/<code>/advance/<any(registration_open, exhibition, frozen):phase>")
@login_required
def advance(code: str, phase: str) -> Response:
    user = signed_in_actor()
    authorize(user, Permission.MANAGE_ELECTION)
    if ActionForm().validate_on_submit():
        e = service.advance(request_session(), user, _election(code), phase)
        flash(_("The election's phase is now: %(phase)s.", phase=phase_name(e.status)), "success")
    return redirect(url_for("registration.election", code=code))


# --- enrolment and records -----------------------------------------------------------------


def _enrol_form(e: Election) -> EnrolForm:
    form = EnrolForm()
    form.sex.choices = SEXES
    form.constituency.choices = [
        SelectChoice("", str(CHOOSE)),
        *(SelectChoice(c.code, f"{c.name} ({c.code})") for c in e.constituencies),
    ]
    form.host_country.choices = [
        SelectChoice("", str(CHOOSE)),
        *(SelectChoice(c.code, f"{c.name} ({c.code})") for c in e.countries),
    ]
    form.station.choices = [
        SelectChoice("", "—"),
        *(SelectChoice(s.code, f"{s.code} · {s.city}") for s in e.stations),
    ]
    documents = [SelectChoice(d, term(d)) for d in e.accepted_documents]
    form.doc1_type.choices = documents
    form.doc2_type.choices = [SelectChoice("", "—"), *documents]
    return form


@bp.route("/elections/<code>/enrol", methods=["GET", "POST"])
@login_required
def enrol(code: str) -> Response | str | tuple[str, int]:
    user = _officer()
    e = _election(code)
    form = _enrol_form(e)
    duplicate_of = None
    closed = closed_notice(e, ElectionStatus.REGISTRATION_OPEN)
    status = 200
    if closed is None and form.validate_on_submit():
        try:
            voter = service.enrol(request_session(), current_settings(), user, e, form.voter_data())
        except service.DuplicateDocument as error:
            duplicate_of = error.duplicate_of
            form.doc1_number.errors = [
                _("This document is registered already, to %(reg_no)s.", reg_no=regno_display(duplicate_of))
            ]
            flash(
                _(
                    "This document is registered already, to %(reg_no)s.",
                    reg_no=regno_display(error.duplicate_of),
                ),
                "error",
            )
        except ValidationError as error:
            form.show_errors(error)
            status = 422
        except OCVError as error:  # a phase changed meanwhile, a full station: said on the form
            flash(translate(error.message), "error")
            status = error.http_status
        else:
            reviews = service.open_reviews_of(request_session(), user, voter)
            flash(
                _(
                    "Enrolled %(name)s: %(reg_no)s at %(station)s.",
                    name=f"{voter.given_name} {voter.family_name}",
                    reg_no=regno.format(voter.reg_no),
                    station=voter.station.code,
                ),
                "success",
            )
            if reviews:
                flash(
                    _(
                        "This voter looks like %(others)s: a duplicate review was opened.",
                        others=", ".join(regno.format(r.candidate.reg_no) for r in reviews),
                    ),
                    "warning",
                )
            # A fresh form for the next person in the queue.
            return redirect(url_for("registration.enrol", code=code, last=voter.reg_no))
    if closed is not None and form.is_submitted():
        status = 409  # posted anyway (a page opened before the phase changed): kept, refused
    elif form.is_submitted() and form.errors:
        status = 422
    form.focus_first_error()
    page = render_template(
        "registration/enrol.html",
        election=e,
        form=form,
        duplicate_of=duplicate_of,
        last=request.args.get("last"),
        closed=closed,
        hints={
            "city": _("Places the voter at a station in that city; a city without a station is refused."),
        },
    )
    return (page, status) if status != 200 else page


@bp.get("/elections/<code>/voters")
@login_required
def voters(code: str) -> str:
    _officer()
    e = _election(code)
    query = _search_text(request.args.get("q", ""))
    found = (
        service.search_voters(request_session(), signed_in_actor(), e, query, settings=current_settings())
        if query
        else []
    )
    return render_template("registration/voters.html", election=e, query=query, voters=found)


# The voter's page holds several forms: prefixes keep their fields' ids (and so the labels
# that name them) apart, where "reason" and "submit" would otherwise appear twice.
VOTER_ACTIONS = ("cancel", "reinstate", "transfer", "object")


def _voter_forms(e: Election, v: Voter, posted: str | None = None) -> dict[str, FlaskForm]:
    prefixes = {"cancel": "change", "reinstate": "change", "object": "objection", "transfer": "transfer"}

    def form(cls: type[FlaskForm], action: str) -> FlaskForm:
        # Only the posted form reads the request: the others start empty.
        prefix = prefixes[action]
        return cls(prefix=prefix) if action == posted else cls(formdata=None, prefix=prefix)

    transfer = form(TransferForm, "transfer")
    transfer.station.choices = [
        SelectChoice(s.code, f"{s.code} · {s.city}") for s in e.stations if s.id != v.station_id
    ]
    # Cancel and reinstate share a prefix: a page shows only the one the voter's status allows.
    cancel = form(ReasonForm, "cancel")
    cancel.submit.label.text = _l("Cancel this registration")
    reinstate = form(ReasonForm, "reinstate")
    reinstate.submit.label.text = _l("Reinstate this registration")
    return {
        "transfer": transfer,
        "cancel": cancel,
        "reinstate": reinstate,
        "object": form(ObjectionForm, "object"),
    }


def _voter_page(e: Election, v: Voter, forms: dict[str, FlaskForm], status: int = 200) -> tuple[str, int]:
    user = signed_in_actor()
    objections = [o for o in service.objections_of(request_session(), user, e) if o.voter_id == v.id]
    page = render_template(
        "registration/voter.html",
        election=e,
        voter=v,
        forms=forms,
        objections=objections,
        history=history_of(v, objections),
    )
    return page, status


@bp.route("/elections/<code>/voters/<reg_no>", methods=["GET"])
@login_required
def voter(code: str, reg_no: str) -> tuple[str, int]:
    user = _officer()
    e = _election(code)
    v = service.get_voter(request_session(), user, e, reg_no)
    return _voter_page(e, v, _voter_forms(e, v))


@bp.post("/elections/<code>/voters/<reg_no>/<any(cancel, reinstate, transfer, object):action>")
@login_required
def voter_action(code: str, reg_no: str, action: str) -> Response | tuple[str, int]:
    user = _officer()
    session = request_session()
    e = _election(code)
    v = service.get_voter(session, user, e, reg_no)
    forms = _voter_forms(e, v, posted=action)
    form = forms[action]
    if action == "transfer":
        form.station.choices = [SelectChoice(s.code, s.code) for s in e.stations]
    if not form.validate_on_submit():
        return _voter_page(e, v, forms, 422)
    try:
        if action == "transfer":
            service.transfer(session, user, v, form.station.data or "", form.reason.data or "")
        elif action == "object":
            service.file_objection(session, user, v, form.grounds.data or "", form.filed_by.data or "")
        elif action == "cancel":
            service.cancel(session, user, v, form.reason.data or "")
        else:
            service.reinstate(session, user, v, form.reason.data or "")
    except OCVError as error:
        # The page again, with the message at the form and what was typed kept.
        # (a flash: the voter's status may have changed meanwhile, and its form with it).
        session.refresh(v)
        flash(translate(error.message), "error")
        return _voter_page(e, v, forms, error.http_status)
    flash(_("Recorded."), "success")
    return redirect(url_for("registration.voter", code=code, reg_no=reg_no))


@bp.get("/elections/<code>/voters/<reg_no>/card")
@login_required
def card(code: str, reg_no: str) -> Response | str:
    user = _officer()
    e = _election(code)
    v = service.get_voter(request_session(), user, e, reg_no)
    if v.status != "registered":
        flash(_("A cancelled registration has no card."), "error")
        return redirect(url_for("registration.voter", code=code, reg_no=reg_no))
    qr = segno.make(f"OCV:{e.code}:{v.reg_no}", error="q").svg_data_uri(scale=4)
    return render_template("registration/card.html", election=e, voter=v, qr=qr)


# --- reviews, objections, lists ------------------------------------------------------------


# One form per open item, each with a prefix of its own, so the page holds no id twice and
# each label names its own field. The hidden "review" or "objection" input says which item a
# POST is about, and so which prefix its fields carry.


def _posted_item(name: str) -> int | None:
    try:
        item = int(request.form[name]) if request.method == "POST" else None
    except (KeyError, ValueError):
        return None
    return item if item is None or 0 <= item <= INT64_MAX else None


def _search_text(raw: str) -> str:
    try:
        return clean(raw.strip(), 200)
    except TextError as error:
        raise ValidationError(str(error), {"q": [str(error)]}) from None


def _review_form(review_id: int, posted: bool) -> ReviewForm:
    form = ReviewForm(request.form if posted else None, prefix=f"review-{review_id}")
    form.decision.choices = [
        SelectChoice("different", _l("Different people: keep both")),
        SelectChoice("same_person", _l("Same person: cancel the newer entry")),
    ]
    return form


@bp.route("/elections/<code>/reviews", methods=["GET", "POST"])
@login_required
def reviews(code: str) -> Response | str:
    user = _officer()
    session = request_session()
    e = _election(code)
    posted = _posted_item("review")
    forms: dict[int, ReviewForm] = {}
    if posted is not None:
        form = forms[posted] = _review_form(posted, posted=True)
        if form.validate_on_submit():
            try:
                service.resolve_review(
                    session, user, posted, form.decision.data or "", form.reason.data or ""
                )
            except ValidationError as error:  # the page again, the reason typed kept
                show_errors(form, error)
            else:
                flash(_("Resolved."), "success")
                return redirect(url_for("registration.reviews", code=code))
    return render_template(
        "registration/reviews.html",
        election=e,
        reviews=[
            (r, forms[r.id] if r.id in forms else _review_form(r.id, posted=False))
            for r in service.open_reviews(session, user, e)
        ],
    )


# The steps open at each status: after the notice, the voter's reply, or a decision when
# no reply came in time (the notice's deadline passed).
OBJECTION_STEPS = {"filed": ("notify",), "notified": ("reply", "decide"), "replied": ("decide",)}


def _objection_form(objection: Objection, step: str, posted: bool) -> ObjectionStepForm:
    # The usual next step has the objection's prefix; the other (a decision without a reply)
    # one of its own, so that no id appears twice.
    usual = OBJECTION_STEPS.get(objection.status, ("",))[0] == step
    prefix = f"objection-{objection.id}" if usual else f"objection-{objection.id}-{step}"
    form = ObjectionStepForm(request.form if posted else None, prefix=prefix)
    form.decision.choices = [
        SelectChoice("", str(CHOOSE)),
        SelectChoice("dismissed", _l("dismissed: the entry stays")),
        SelectChoice("upheld", _l("upheld: the entry is cancelled")),
    ]
    return form


@bp.route("/elections/<code>/objections", methods=["GET", "POST"])
@login_required
def objection_list(code: str) -> Response | str | tuple[str, int]:
    user = _officer()
    session = request_session()
    e = _election(code)
    posted = _posted_item("objection")
    posted_step = request.form.get("step") if posted is not None else None
    forms: dict[tuple[int, str], ObjectionStepForm] = {}
    status = 200
    if posted is not None and posted_step in ("notify", "reply", "decide"):
        o = service.get_objection(session, user, posted)
        form = forms[posted, posted_step] = _objection_form(o, posted_step, posted=True)
        if form.validate_on_submit():
            text = form.text.data or ""
            try:
                if posted_step == "notify":
                    service.notify_objection(session, user, o, text)
                elif posted_step == "reply":
                    service.reply_to_objection(session, user, o, text)
                else:
                    service.decide_objection(session, user, o, form.decision.data or "", text)
            except ValidationError as error:
                show_errors(form, error)
                for name, messages in error.fields.items():
                    if name == "reason":
                        form.text.errors = [*form.text.errors, *messages]
            except OCVError as error:
                form.form_errors.append(translate(error.message))
            else:
                flash(_("Recorded."), "success")
                return redirect(url_for("registration.objection_list", code=code))
        status = 422
    items = []
    for o in service.objections_of(session, user, e):
        steps = [
            (step, forms.get((o.id, step)) or _objection_form(o, step, posted=False))
            for step in OBJECTION_STEPS.get(o.status, ())
        ]
        items.append((o, steps))
    page = render_template("registration/objections.html", election=e, objections=items)
    return (page, status) if status != 200 else page


@bp.get("/elections/<code>/stations/<station>/list")
@login_required
def station_list(code: str, station: str) -> str:
    session = request_session()
    e = _election(code)
    s = service.get_station(session, e, station)
    page = service.station_list_page(
        session, signed_in_actor(), s, request.args.get("page", 1, type=int) or 1
    )
    return render_template("registration/station_list.html", election=e, station=s, page=page)
