"""What officials met on registration's pages, in a real browser: the enrolment form's tab
stops and focus after a refusal, the phone-size audit entry, station codes that hold
together, checkpoint signatures that fit. On an election of its own (OF2027), with an
account of its own, so the other browser tests keep theirs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page

from tests.e2e.conftest import ROOT, first_sign_in, official_page

CODE = "OF2027"
USERNAME = "fieldofficer"
FIRST_PASSWORD = "temporary password 3"
PASSWORD = "a field officer's own passphrase"
PHONE, DESK = 375, 1280


def _ocv(server: dict[str, Any], *args: str, stdin: str = "") -> None:
    subprocess.run(
        [server["ocv"], *args],
        env=server["env"],
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
        timeout=120,
    )


def _setup(server: dict[str, Any], tmp_path: Path) -> None:
    definition = json.loads((ROOT / "registration" / "demo" / "election.json").read_text(encoding="utf-8"))
    definition.update(code=CODE, name="Field trial 2027")
    path = tmp_path / "of2027.json"
    path.write_text(json.dumps(definition), encoding="utf-8")
    _ocv(server, "election", "load", str(path))
    _ocv(server, "election", "advance", CODE, "open")
    _ocv(
        server,
        "users",
        "create",
        USERNAME,
        "--role",
        "registration_officer",
        "--password-stdin",
        stdin=FIRST_PASSWORD + "\n",
    )
    _ocv(server, "audit", "checkpoint", "--reason", "schedule")


def _sign_in(browser: Browser, server: dict[str, Any]) -> Page:
    page = official_page(browser, {"width": DESK, "height": 900})
    return first_sign_in(page, server["url"], USERNAME, FIRST_PASSWORD, PASSWORD)


def _fits(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{page.url} is {wide} px wide at {width} px"


def _shots(page: Page, url: str, name: str, directory: Path) -> None:
    """The page at desk and phone width, in English and Arabic; none wider than its window."""
    for lang in ("en", "ar"):
        for width in (DESK, PHONE):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{url}{'&' if '?' in url else '?'}lang={lang}")
            assert page.get_attribute("html", "lang") == lang, page.url
            _fits(page, width)
            page.screenshot(path=directory / f"officials-{name}-{lang}-{width}.png", full_page=True)


def test_what_officials_met_on_registrations_pages(
    browser: Browser, server: dict[str, Any], screenshot_dir: Path, tmp_path: Path
) -> None:
    _setup(server, tmp_path)
    page = _sign_in(browser, server)
    base = server["url"]
    enrol = f"{base}/elections/{CODE}/enrol"

    # The date of birth is one tab stop; no constituency or country is chosen for the officer.
    page.goto(enrol)
    assert page.evaluate("document.activeElement.id") == "family_name"
    page.focus("#names_original_script")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "date_of_birth"
    page.keyboard.type("1990-02-30")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "sex"
    assert page.input_value("#constituency") == ""
    assert page.input_value("#host_country") == ""
    assert page.locator("label[for=family_name] .required-mark").count() == 1
    assert page.locator("label[for=father_name] .required-mark").count() == 0

    # A refusal: the focus goes to the first wrong field, the summary links to each.
    page.fill("#family_name", "Haddad")
    page.fill("#given_name", "Amira")
    page.fill("#doc1_number", "P1234567")
    page.select_option("#doc2_type", "passport")
    page.fill("#doc2_number", "P7654321")
    page.select_option("#constituency", "OV-EU")
    page.select_option("#host_country", "DE")
    page.fill("#city", "Berlin")
    page.click("#submit")
    page.wait_for_selector("main .error-summary")
    assert page.evaluate("document.activeElement.id") == "date_of_birth"
    assert page.input_value("#date_of_birth") == "1990-02-30"
    assert page.inner_text("#date_of_birth-errors") == "1990-02-30 is not a real date."
    assert page.inner_text("#doc2_type-errors") == "Only one passport per voter."
    page.click("main .error-summary a[href='#doc2_type']")
    assert page.evaluate("document.activeElement.id") == "doc2_type"
    page.screenshot(path=screenshot_dir / "officials-enrol-refused-en-1280.png", full_page=True)
    page.set_viewport_size({"width": PHONE, "height": 900})
    _fits(page, PHONE)
    page.screenshot(path=screenshot_dir / "officials-enrol-refused-en-375.png", full_page=True)
    page.set_viewport_size({"width": DESK, "height": 900})

    # Corrected, enrolled; and the enrolment page at both widths in both scripts.
    page.fill("#date_of_birth", "1990-02-28")
    page.select_option("#doc2_type", "national_id")
    page.click("#submit")
    page.wait_for_url(f"**/elections/{CODE}/enrol?last=*")
    reg_no = page.url.split("#")[0].rsplit("=", 1)[1]  # the summary link left a fragment
    _shots(page, enrol, "enrol", screenshot_dir)

    # Station codes hold together, on a phone too.
    for lang in ("en", "ar"):
        page.set_viewport_size({"width": PHONE, "height": 900})
        page.goto(f"{base}/elections/{CODE}?lang={lang}")
        _fits(page, PHONE)
        heights = page.evaluate(
            """[...document.querySelectorAll('main table .code')].map(e => {
                 const r = e.getBoundingClientRect();
                 return [e.textContent, r.height, parseFloat(getComputedStyle(e).lineHeight)];
               })"""
        )
        assert heights
        assert [code for code, height, line in heights if height > 1.5 * line] == [], lang
    page.screenshot(path=screenshot_dir / "officials-election-ar-375.png", full_page=True)

    # The audit entry of that enrolment fits a phone; checkpoint signatures are not clipped.
    page.goto(f"{base}/audit/?type=registration.voter_enrolled")
    seq = (page.get_attribute("main ol.entries > li", "id") or "").removeprefix("e")
    _shots(page, f"{base}/audit/entries/{seq}", "audit-entry", screenshot_dir)
    for width in (DESK, PHONE):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/audit/checkpoints")
        clipped = page.evaluate(
            "[...document.querySelectorAll('main pre')].filter(p => p.scrollWidth > p.clientWidth).length"
        )
        assert clipped == 0, width
    _shots(page, f"{base}/audit/checkpoints", "checkpoints", screenshot_dir)

    # The other pages this work changed, looked at in both scripts and sizes.
    _shots(page, f"{base}/elections/{CODE}/voters/{reg_no}", "voter", screenshot_dir)
    _shots(page, f"{base}/elections/{CODE}/voters?q=P1234567", "voter-search", screenshot_dir)
    _shots(page, f"{base}/elections/{CODE}/import", "import", screenshot_dir)
    _shots(page, f"{base}/elections/{CODE}/reviews", "reviews", screenshot_dir)
    _shots(page, f"{base}/check", "self-check", screenshot_dir)
    page.context.close()
