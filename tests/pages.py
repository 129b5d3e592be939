"""Every page the application serves, as a person reaches it: the list the accessibility sweep
(tests/e2e/test_accessibility.py) and the page-weight budget (tests/integration/test_pages.py)
walk. A GET route must be here or in NOT_PAGES, or test_every_route_has_a_page fails: a new
page of polling or tally is one line in PAGES, the day it is written.

A path may name the sample data the walk made: {election} (open for registration), {setup}
(not yet open), {exhibited} (in its exhibition period, with an objection), {station},
{reg_no}, {exhibited_reg_no}, {family_name}, {date_of_birth}, {seq}, {job}, {username},
{polled} (its list frozen; DE-BER-01 polled and its protocol submitted, DE-MUC-01 polling)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Who opens a page: anyone, or a signed-in account of one of these kinds.
ANYONE = None
ADMIN = "admin"
OFFICER = "officer"  # a registration officer
TWO_STEP = "two_step"  # an account with two-step sign-in on
PENDING_SECOND_FACTOR = "pending_second_factor"  # signed in with a password, the code still due
PRESIDING = "presiding"  # the presiding officer of DE-MUC-01 in {polled}, polling under way
TALLY = "tally"  # a tally officer


@dataclass(frozen=True)
class Page:
    endpoint: str | None  # None: a page no route answers (an error page)
    path: str
    who: str | None = ANYONE
    # A form to fill and send on arrival ({"#field": "value"}), for the page that answers it.
    submit: dict[str, str] = field(default_factory=dict)
    status: int = 200

    def url(self, data: dict[str, str]) -> str:
        return self.path.format(**data)

    @property
    def name(self) -> str:
        return f"{self.path}{' (sent)' if self.submit else ''} as {self.who or 'anyone'}"


PAGES: tuple[Page, ...] = (
    Page("core.home", "/"),
    Page("core.home", "/", ADMIN),
    Page("auth.login", "/login"),
    Page("auth.second_factor", "/login/second-factor", PENDING_SECOND_FACTOR),
    Page("auth.change_password", "/account/password", OFFICER),
    Page("auth.account", "/account", OFFICER),
    Page("auth.enable_totp", "/account/two-step", OFFICER),
    Page("auth.disable_totp", "/account/two-step/off", TWO_STEP),
    Page("auth.users", "/admin/users", ADMIN),
    Page("auth.new_user", "/admin/users/new", ADMIN),
    Page("auth.user_detail", "/admin/users/{username}", ADMIN),
    Page("audit.log", "/audit/"),
    Page("audit.log", "/audit/?type=registration.list_published"),
    Page("audit.entry", "/audit/entries/{seq}"),
    Page("audit.checkpoint_history", "/audit/checkpoints"),
    Page("registration.self_check", "/check"),
    Page(
        "registration.self_check",
        "/check",
        submit={"#reg_no": "{reg_no}", "#date_of_birth": "{date_of_birth}"},
    ),
    Page("registration.elections", "/elections", ADMIN),
    Page("registration.election", "/elections/{election}", ADMIN),
    Page("registration.enrol", "/elections/{election}/enrol", OFFICER),
    Page("registration.voters", "/elections/{election}/voters?q={family_name}", OFFICER),
    Page("registration.voter", "/elections/{election}/voters/{reg_no}", OFFICER),
    Page("registration.voter", "/elections/{exhibited}/voters/{exhibited_reg_no}", OFFICER),
    Page("registration.card", "/elections/{election}/voters/{reg_no}/card", OFFICER),
    Page("registration.reviews", "/elections/{election}/reviews", OFFICER),
    Page("registration.objection_list", "/elections/{exhibited}/objections", OFFICER),
    Page("registration.station_list", "/elections/{election}/stations/{station}/list", OFFICER),
    Page("registration_import.upload", "/elections/{election}/import", OFFICER),
    Page("registration_import.job", "/elections/{election}/import/{job}", OFFICER),
    Page("registration_setup.edit", "/elections/{setup}/edit", ADMIN),
    # A phase that forbids a form says so instead of offering it.
    Page("registration.enrol", "/elections/{polled}/enrol", OFFICER),
    Page("registration_import.upload", "/elections/{exhibited}/import", OFFICER),
    Page("polling.station_page", "/stations/DE-MUC-01?election={polled}&q={family_name}", PRESIDING),
    Page("polling.station_page", "/stations/DE-BER-01?election={polled}", PRESIDING),
    Page("polling.protocol", "/stations/DE-BER-01/protocol?election={polled}"),
    Page("tally.results", "/results/{polled}"),  # under embargo: its end, the progress
    Page("tally.station", "/results/{polled}/stations/DE-BER-01"),  # its protocol, public on submission
    Page("tally.results", "/results/{polled}", TALLY),  # the figures as they stand, marked internal
    Page("tally.constituency", "/results/{polled}/constituencies/OV-EU", TALLY),
    Page("tally.country", "/results/{polled}/countries/DE", TALLY),
    Page("tally.station", "/results/{polled}/stations/DE-BER-01", TALLY),
    Page("tally.dashboard", "/tally/{polled}", TALLY),
    Page("openapi.reference", "/api/"),
    Page(None, "/no-such-page", status=404),
)

# GET routes that answer no page, and what they answer instead.
NOT_PAGES: dict[str, str] = {
    "static": "the style sheet, the script, the icon",
    "core.health": "JSON",
    "audit.log_vkey": "the log key, as text",
    "audit_api.checkpoint": "a checkpoint, as text",
    "audit_api.checkpoint_at": "a checkpoint, as text",
    "audit_api.entries": "JSON",
    "audit_api.inclusion": "JSON",
    "audit_api.consistency": "JSON",
    "audit_api.bundle": "a .tar.gz download",
    "auth_api.api_me": "JSON",
    "registration_api.elections": "JSON",
    "registration_api.election": "JSON",
    "registration_api.self_check": "JSON",
    "registration_import.rejected_rows": "a CSV download",
    "registration_import.template": "a CSV download",
    "openapi.openapi_json": "JSON",
    "polling_api.status": "JSON",
    "polling_api.protocol": "JSON",
    "tally_api.results": "JSON",
    "tally_api.results_csv": "a CSV download",
    "tally_api.results_nist": "JSON (NIST SP 1500-100)",
    "tally_api.station_protocol": "JSON",
}
