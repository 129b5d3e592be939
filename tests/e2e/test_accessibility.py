"""axe-core on every page of tests/pages.py, at a desk's width and a phone's, in English and
in Arabic: any violation fails. One browser; one context per kind of account, signed in
once; each page loaded once per language and measured at both widths.

Each page is also checked for what axe does not see: it answers with the status its entry
says and no redirect, in the language asked for, nothing spills sideways on a phone, and
it weighs under the budget as sent."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.e2e.conftest import ROOT, first_sign_in, sign_in
from tests.pages import ADMIN, ANYONE, OFFICER, PAGES, PENDING_SECOND_FACTOR, PRESIDING, TALLY, TWO_STEP
from tests.pages import Page as SitePage

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desk": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = ("en", "ar")
BUDGET = 100 * 1024
TEMPORARY = "temporary password 3"
PASSWORD = "a passphrase of my own choosing"
ACCOUNTS = {
    ADMIN: ("a11y-admin", "admin"),
    OFFICER: ("a11y-officer", "registration_officer"),
    TALLY: ("a11y-tally", "tally_officer"),
}
TWO_STEP_ACCOUNT = "a11y-twostep"
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    rule: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
  }));
}"""


@dataclass
class Sweep:
    base: str
    data: dict[str, str]
    pages: dict[str | None, Page]  # one tab per kind of account


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        message = f"{AXE.relative_to(ROOT)} is missing: `make install` fetches axe-core with npm"
        if os.environ.get("OCV_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def _first_sign_in(context: BrowserContext, base: str, username: str) -> Page:
    """As an operator's new account does: the temporary password, then one's own."""
    return first_sign_in(context.new_page(), base, username, TEMPORARY, PASSWORD)


def _enrol(server: dict[str, Any], election: str, voter: dict[str, Any]) -> str:
    request = urllib.request.Request(  # noqa: S310 (our own server, http)
        f"{server['url']}/api/v1/elections/{election}/voters",
        data=json.dumps(voter).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {server['token']}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our own server)
        return str(json.load(response)["reg_no"])


def _ocv(server: dict[str, Any], *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [server["ocv"], *args], env=server["env"], input=stdin, text=True, check=True, capture_output=True
    )
    return done.stdout


def _api(server: dict[str, Any], token: str, path: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(  # noqa: S310 (our own server, http)
        f"{server['url']}/api/v1/stations/{path}?election={POLLED}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 (our own server)
        pass


POLLED = "AP2027"  # frozen: polling done at DE-BER-01, under way at DE-MUC-01
PRESIDING_ACCOUNTS = {"DE-MUC-01": "a11y-po", "DE-BER-01": "a11y-po-ber"}
OPENING = {"ballots": {"BS-EU": 50, "BS-ME": 5, "BS-HOME": 5}, "seals": ["S-1"], "officials": ["Petra Oster"]}


def _polling_day(server: dict[str, Any], reg_nos: dict[str, str]) -> None:
    """DE-BER-01 polled, counted, signed and submitted; DE-MUC-01 open, one voter in."""
    tokens = {}
    for station, username in PRESIDING_ACCOUNTS.items():
        _ocv(
            server,
            "users",
            "create",
            username,
            "--role",
            "presiding_officer",
            "--station",
            station,
            "--password-stdin",
            stdin=TEMPORARY,
        )
        tokens[station] = _ocv(server, "users", "token", username).strip()
    _ocv(
        server,
        "keys",
        "create",
        "a11y-po-ber-key",
        "--owner",
        "a11y-po-ber",
        "--role",
        "presiding_officer",
        "--password-stdin",
        stdin=TEMPORARY,
    )
    for station, token in tokens.items():
        _api(server, token, f"{station}/open", OPENING)
        _api(server, token, f"{station}/checkins", {"reg_no": reg_nos[station]})
    berlin = tokens["DE-BER-01"]
    _api(
        server,
        berlin,
        "DE-BER-01/close",
        {"unused": {"BS-EU": 49, "BS-ME": 5, "BS-HOME": 5}, "seals": ["S-2"]},
    )
    ballot = {"ballot_style": "BS-EU", "votes": {"PRES": ["Leila Nasser"], "REF-1": ["Yes"]}}
    _api(server, berlin, "DE-BER-01/cvrs", {"cvrs": [ballot]})
    _api(server, berlin, "DE-BER-01/count/finish", {})
    _api(server, berlin, "DE-BER-01/protocol/sign", {"password": TEMPORARY})
    _api(server, berlin, "DE-BER-01/protocol/submit", {})


def _admin_steps(page: Page, base: str, tmp: Path) -> None:
    """Accounts and elections, made as an administrator makes them (the CLI starts slowly)."""
    for username, role in [ACCOUNTS[OFFICER], ACCOUNTS[TALLY], (TWO_STEP_ACCOUNT, "observer")]:
        page.goto(base + "/admin/users/new")
        page.fill("#username", username)
        page.select_option("#role", role)
        page.fill("#password", TEMPORARY)
        page.click("main #submit")
        page.wait_for_selector("main p.flash.success")
    definition = json.loads((ROOT / "registration" / "demo" / "election.json").read_text(encoding="utf-8"))
    for code in ("AX2027", "AS2027", POLLED):
        path = tmp / f"{code}.json"
        path.write_text(json.dumps({**definition, "code": code}), encoding="utf-8")
        page.goto(base + "/elections")
        page.set_input_files("#file", str(path))
        page.click("main form:has(#file) #submit")
        page.wait_for_url(f"**/elections/{code}")
    _advance(page, base, "AX2027", "Open registration")
    _advance(page, base, POLLED, "Open registration")


def _advance(page: Page, base: str, code: str, label: str) -> None:
    page.goto(f"{base}/elections/{code}")
    page.click(f"main .actions button:has-text('{label}')")
    page.wait_for_selector("main p.flash.success")


def _voters(server: dict[str, Any]) -> dict[str, str]:
    """Voters, one of them with a likely duplicate."""
    voter = {
        "given_name": "Huda",
        "family_name": "Barakat",
        "father_name": "Walid",
        "names_original_script": "هدى بركات",
        "date_of_birth": "1979-07-30",
        "constituency": "OV-EU",
        "host_country": "DE",
        "city": "Berlin",
        "documents": [{"type": "passport", "number": "AX0000001"}],
    }
    reg_no = _enrol(server, "GE2027", voter)
    twin = {**voter, "family_name": "Baraka", "documents": [{"type": "national_id", "number": "AX0000002"}]}
    _enrol(server, "GE2027", twin)
    exhibited = _enrol(
        server, "AX2027", {**voter, "documents": [{"type": "passport", "number": "AX0000003"}]}
    )
    people = (  # two people, or their likeness would hold the freeze for a review
        ("DE-BER-01", "Berlin", "Samir", "1961-02-11", "AP0000001"),
        ("DE-MUC-01", "Munich", "Dina", "1994-10-03", "AP0000002"),
    )
    polled = {
        station: _enrol(
            server,
            POLLED,
            {
                **voter,
                "given_name": given,
                "date_of_birth": born,
                "city": city,
                "documents": [{"type": "passport", "number": doc}],
            },
        )
        for station, city, given, born, doc in people
    }
    return {
        "election": "GE2027",
        "setup": "AS2027",
        "exhibited": "AX2027",
        "station": "DE-BER-01",
        "reg_no": reg_no.replace("-", ""),
        "exhibited_reg_no": exhibited.replace("-", ""),
        "family_name": "Barakat",
        "date_of_birth": voter["date_of_birth"],
        "username": TWO_STEP_ACCOUNT,
        "polled": POLLED,
        **{f"polled_{station[3:6].lower()}": reg_no for station, reg_no in polled.items()},
    }


def _officer_steps(page: Page, base: str, data: dict[str, str], tmp: Path) -> dict[str, str]:
    """What only a form makes: an objection, an import job; and an entry's number."""
    page.goto(f"{base}/elections/{data['exhibited']}/voters/{data['exhibited_reg_no']}")
    page.get_by_label("Grounds of the objection").fill("Moved back home in 2026")
    page.get_by_role("button", name="File objection").click()
    page.wait_for_selector("main p.flash.success")
    upload = tmp / "check.csv"
    with upload.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "given_name",
                "family_name",
                "date_of_birth",
                "constituency",
                "host_country",
                "city",
                "doc1_type",
                "doc1_number",
            ]
        )
        writer.writerow(["Omar", "Farouk", "1988-13-01", "OV-XX", "FR", "Paris", "passport", "AX0000009"])
    page.goto(f"{base}/elections/{data['election']}/import")
    page.set_input_files("#file", str(upload))
    page.select_option("#mode", "check")
    page.click("#submit")
    page.wait_for_selector("main .import-report p.flash", timeout=60_000)
    job = urlsplit(page.url).path.rsplit("/", 1)[1]
    page.goto(base + "/audit/?type=registration.list_published")
    seq = (page.get_attribute("main ol.entries > li", "id") or "").removeprefix("e")
    return {**data, "job": job, "seq": seq}


def _two_step_on(page: Page, base: str) -> None:
    page.goto(base + "/account/two-step")
    secret = page.inner_text("main code.token").strip()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#submit")
    # The account page with its flash, or the form again with the reason it was refused.
    page.wait_for_selector("main p.flash, main .error-summary", timeout=60_000)
    assert page.is_visible("main p.flash.success"), page.inner_text("main")


@pytest.fixture(scope="module")
def sweep(
    browser: Browser, server: dict[str, Any], axe_source: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sweep]:
    tmp = tmp_path_factory.mktemp("a11y")
    base = server["url"]
    _ocv(
        server, "users", "create", ACCOUNTS[ADMIN][0], "--role", "admin", "--password-stdin", stdin=TEMPORARY
    )
    contexts = {
        who: browser.new_context(locale="en-GB", viewport=WIDTHS["desk"])
        for who in (ANYONE, ADMIN, OFFICER, TALLY, TWO_STEP, PENDING_SECOND_FACTOR)
    }
    for context in contexts.values():
        context.set_default_timeout(15_000)
    pages = {ANYONE: contexts[ANYONE].new_page()}
    pages[ADMIN] = _first_sign_in(contexts[ADMIN], base, ACCOUNTS[ADMIN][0])
    _admin_steps(pages[ADMIN], base, tmp)
    pages[OFFICER] = _first_sign_in(contexts[OFFICER], base, ACCOUNTS[OFFICER][0])
    pages[TALLY] = _first_sign_in(contexts[TALLY], base, ACCOUNTS[TALLY][0])
    data = _voters(server)
    _advance(pages[ADMIN], base, data["exhibited"], "Start the exhibition period")
    _advance(pages[ADMIN], base, POLLED, "Start the exhibition period")
    _advance(pages[ADMIN], base, POLLED, "Freeze the list")
    _polling_day(server, {"DE-BER-01": data["polled_ber"], "DE-MUC-01": data["polled_muc"]})
    contexts[PRESIDING] = browser.new_context(locale="en-GB", viewport=WIDTHS["desk"])
    contexts[PRESIDING].set_default_timeout(15_000)
    pages[PRESIDING] = _first_sign_in(contexts[PRESIDING], base, PRESIDING_ACCOUNTS["DE-MUC-01"])
    data = _officer_steps(pages[OFFICER], base, data, tmp)
    _ocv(server, "audit", "checkpoint")  # the entries get their inclusion proofs
    pages[TWO_STEP] = _first_sign_in(contexts[TWO_STEP], base, TWO_STEP_ACCOUNT)
    _two_step_on(pages[TWO_STEP], base)
    pending = sign_in(contexts[PENDING_SECOND_FACTOR].new_page(), base, TWO_STEP_ACCOUNT, PASSWORD)
    assert urlsplit(pending.url).path == "/login/second-factor"
    pages[PENDING_SECOND_FACTOR] = pending
    # axe is loaded into every document the tabs open from now on (not subject to the CSP).
    for context in contexts.values():
        context.add_init_script(script=axe_source)
    yield Sweep(base, data, pages)
    for context in contexts.values():
        context.close()


def _in_language(url: str, language: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}lang={language}"


def _visit(sweep: Sweep, entry: SitePage, language: str) -> tuple[Page, list[str]]:
    """Open the page in `language`; the problems axe does not look for."""
    page = sweep.pages[entry.who]
    url = sweep.base + _in_language(entry.url(sweep.data), language)
    page.set_viewport_size(WIDTHS["desk"])
    response = page.goto(url)
    if entry.submit:
        for selector, value in entry.submit.items():
            page.fill(selector, value.format(**sweep.data))
        with page.expect_navigation() as sent:
            page.click("main #submit")
        response = sent.value
    problems = []
    status = response.status if response else None
    if status != entry.status:
        problems.append(f"answered {status}, not {entry.status}")
    if urlsplit(page.url).path != urlsplit(url).path:
        problems.append(f"went on to {page.url}")
    if page.get_attribute("html", "lang") != language:
        problems.append(f"is not in {language}")
    size = page.evaluate("performance.getEntriesByType('navigation')[0].encodedBodySize")
    if size >= BUDGET:
        problems.append(f"weighs {size} bytes as sent")
    return page, problems


@pytest.mark.parametrize("entry", PAGES, ids=lambda p: p.name)
def test_page_has_no_accessibility_violation(sweep: Sweep, entry: SitePage, screenshot_dir: Path) -> None:
    found = {}
    for language in LANGUAGES:
        page, problems = _visit(sweep, entry, language)
        for width, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            where = f"{language}, {width}"
            if width == "phone" and not page.evaluate(
                "document.documentElement.scrollWidth <= window.innerWidth"
            ):
                problems.append(f"is {page.evaluate('document.documentElement.scrollWidth')} px wide")
            violations = page.evaluate(RUN_AXE)
            if problems or violations:
                found[where] = problems + [
                    f"{v['impact']} {v['rule']}: {v['help']} at {', '.join(v['nodes'])}" for v in violations
                ]
                slug = "".join(c if c.isalnum() else "-" for c in entry.name)
                page.screenshot(path=screenshot_dir / f"a11y-{slug}-{language}-{width}.png", full_page=True)
            problems = []
    assert found == {}, json.dumps(found, indent=2, ensure_ascii=False)
