"""Registration pages: elections, fast enrolment, voter records, reviews, objections,
printable lists and cards (officers and admins), and the public self-check."""

from __future__ import annotations

import segno
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ocv.acting import Actor, authorize, may
from ocv.auth.forms import ActionForm
from ocv.auth.permissions import Permission
from ocv.bounds import INT64_MAX
from ocv.db import request_session
from ocv.errors import NotFound, ValidationError
from ocv.text import TextError, clean
from ocv.web import current_settings, parse_json, show_errors, signed_in_actor
from registration import regno, self_check_limits, service
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
from registration.models import Election, ElectionStatus

bp = Blueprint("registration", __name__, template_folder="templates")

# The phases as people read them, in every page and message that names one.
PHASES = {
    ElectionStatus.SETUP: _l("setup"),
    ElectionStatus.REGISTRATION_OPEN: _l("registration open"),
    ElectionStatus.EXHIBITION: _l("exhibition"),
    ElectionStatus.FROZEN: _l("frozen"),
}

# The words the registry stores (statuses, decisions, history, documents) as people read
# them; the English is the stored word itself, so what officers learnt stays true.
TERMS = {
    "registered": _l("registered"),
    "cancelled": _l("cancelled"),
    "filed": _l("filed"),
    "notified": _l("notified"),
    "replied": _l("replied"),
    "decided": _l("decided"),
    "upheld": _l("upheld"),
    "dismissed": _l("dismissed"),
    "enrolled": _l("enrolled"),
    "imported": _l("imported"),
    "corrected": _l("corrected"),
    "transferred": _l("transferred"),
    "reinstated": _l("reinstated"),
    "passport": _l("passport"),
    "national_id": _l("national ID"),
}

SEXES = [
    SelectChoice("", "—"),
    SelectChoice("F", _l("female")),
    SelectChoice("M", _l("male")),
    SelectChoice("X", _l("other")),
]


@bp.app_template_filter("phase")
def phase_name(status: str) -> str:
    """The display name of an election phase, in the reader's language."""
    return str(PHASES[ElectionStatus(status)])


@bp.app_template_filter("term")
def term(word: str) -> str:
    """A stored word in the reader's language; one the list does not know, as it is."""
    return str(TERMS.get(word, word))


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
    form.constituency.choices = [SelectChoice(c.code, f"{c.name} ({c.code})") for c in e.constituencies]
    form.host_country.choices = [SelectChoice(c.code, f"{c.name} ({c.code})") for c in e.countries]
    form.station.choices = [
        SelectChoice("", "—"),
        *(SelectChoice(s.code, f"{s.code} · {s.city}") for s in e.stations),
    ]
    documents = [SelectChoice(d, term(d).replace("_", " ")) for d in e.accepted_documents]
    form.doc1_type.choices = documents
    form.doc2_type.choices = [SelectChoice("", "—"), *documents]
    return form


@bp.route("/elections/<code>/enrol", methods=["GET", "POST"])
@login_required
def enrol(code: str) -> Response | str:
    user = _officer()
    e = _election(code)
    form = _enrol_form(e)
    duplicate_of = None
    if form.validate_on_submit():
        try:
            voter = service.enrol(request_session(), current_settings(), user, e, form.voter_data())
        except service.DuplicateDocument as error:
            duplicate_of = error.duplicate_of
            flash(
                _(
                    "This document is registered already, to %(reg_no)s.",
                    reg_no=regno_display(error.duplicate_of),
                ),
                "error",
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            flash(
                _(
                    "Enrolled %(name)s: %(reg_no)s at %(station)s.",
                    name=f"{voter.given_name} {voter.family_name}",
                    reg_no=regno.format(voter.reg_no),
                    station=voter.station.code,
                ),
                "success",
            )
            # A fresh form for the next person in the queue.
            return redirect(url_for("registration.enrol", code=code, last=voter.reg_no))
    return render_template(
        "registration/enrol.html",
        election=e,
        form=form,
        duplicate_of=duplicate_of,
        last=request.args.get("last"),
    )


@bp.get("/elections/<code>/voters")
@login_required
def voters(code: str) -> str:
    _officer()
    e = _election(code)
    query = _search_text(request.args.get("q", ""))
    found = service.search_voters(request_session(), signed_in_actor(), e, query) if query else []
    return render_template("registration/voters.html", election=e, query=query, voters=found)


# The voter's page holds three forms: prefixes keep their fields' ids (and so the labels
# that name them) apart, where "reason" and "submit" would otherwise appear twice.
@bp.route("/elections/<code>/voters/<reg_no>", methods=["GET"])
@login_required
def voter(code: str, reg_no: str) -> str:
    user = _officer()
    e = _election(code)
    v = service.get_voter(request_session(), user, e, reg_no)
    transfer_form = TransferForm(prefix="transfer")
    transfer_form.station.choices = [
        SelectChoice(s.code, f"{s.code} · {s.city}") for s in e.stations if s.id != v.station_id
    ]
    return render_template(
        "registration/voter.html",
        election=e,
        voter=v,
        reason_form=ReasonForm(prefix="change"),
        transfer_form=transfer_form,
        objection_form=ObjectionForm(prefix="objection"),
        objections=[o for o in service.objections_of(request_session(), user, e) if o.voter_id == v.id],
    )


@bp.post("/elections/<code>/voters/<reg_no>/<any(cancel, reinstate, transfer, object):action>")
@login_required
def voter_action(code: str, reg_no: str, action: str) -> Response:
    user = _officer()
    session = request_session()
    e = _election(code)
    v = service.get_voter(session, user, e, reg_no)
    done = False
    if action == "transfer":
        transfer_form = TransferForm(prefix="transfer")
        transfer_form.station.choices = [SelectChoice(s.code, s.code) for s in e.stations]
        if done := transfer_form.validate_on_submit():
            service.transfer(
                session, user, v, transfer_form.station.data or "", transfer_form.reason.data or ""
            )
    elif action == "object":
        objection_form = ObjectionForm(prefix="objection")
        if done := objection_form.validate_on_submit():
            service.file_objection(
                session, user, v, objection_form.grounds.data or "", objection_form.filed_by.data or ""
            )
    else:
        reason_form = ReasonForm(prefix="change")
        if done := reason_form.validate_on_submit():
            change = service.cancel if action == "cancel" else service.reinstate
            change(session, user, v, reason_form.reason.data or "")
    if done:
        flash(_("Recorded."), "success")
    else:
        flash(_("Give a reason."), "error")
    return redirect(url_for("registration.voter", code=code, reg_no=reg_no))


@bp.get("/elections/<code>/voters/<reg_no>/card")
@login_required
def card(code: str, reg_no: str) -> str:
    user = _officer()
    e = _election(code)
    v = service.get_voter(request_session(), user, e, reg_no)
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
            service.resolve_review(session, user, posted, form.decision.data or "", form.reason.data or "")
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


def _objection_form(objection_id: int, posted: bool) -> ObjectionStepForm:
    form = ObjectionStepForm(request.form if posted else None, prefix=f"objection-{objection_id}")
    form.decision.choices = [
        SelectChoice("", "—"),
        SelectChoice("dismissed", _l("dismissed: the entry stays")),
        SelectChoice("upheld", _l("upheld: the entry is cancelled")),
    ]
    return form


@bp.route("/elections/<code>/objections", methods=["GET", "POST"])
@login_required
def objection_list(code: str) -> Response | str:
    user = _officer()
    session = request_session()
    e = _election(code)
    posted = _posted_item("objection")
    forms: dict[int, ObjectionStepForm] = {}
    if posted is not None:
        form = forms[posted] = _objection_form(posted, posted=True)
        if form.validate_on_submit():
            o = service.get_objection(session, user, posted)
            text = form.text.data or ""
            step = request.form.get("step")
            if step == "notify":
                service.notify_objection(session, user, o, text)
            elif step == "reply":
                service.reply_to_objection(session, user, o, text)
            elif step == "decide":
                service.decide_objection(session, user, o, form.decision.data or "", text)
            flash(_("Recorded."), "success")
            return redirect(url_for("registration.objection_list", code=code))
    return render_template(
        "registration/objections.html",
        election=e,
        objections=[
            (o, forms[o.id] if o.id in forms else _objection_form(o.id, posted=False))
            for o in service.objections_of(session, user, e)
        ],
    )


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
