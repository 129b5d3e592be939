"""A polling day at DE-BER-01 in a real browser, as the README walks a newcomer through it:
the presiding officer opens the station; two clerks at two desks check voters in by
number, by name and by the card's QR code (its text typed into the box the camera would
fill); a second check-in of the same voter is refused, naming where and when they voted;
a spoiled ballot is replaced, a tendered ballot issued; the presiding officer closes; the
clerks count ballot by ballot; the protocol is signed (password re-entered), countersigned
by an observer, submitted, and public. A second election (counted by tally sheet) has two
clerks type the hand count in, differ, and agree.

Screenshots of every polling page at a desk's width and two phones', in English and Arabic,
go to $OCV_SCREENSHOT_DIR (`polling-*.png`), and so do two refusals as each language says them.

The day runs on elections of its own (PD2027, PT2027), so the other browser tests keep
theirs as they expect."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import ROOT, TEMPORARY_PASSWORD, first_sign_in, official_page
from tests.e2e.test_accessibility import AXE, RUN_AXE

CVR, TALLY = "PD2027", "PT2027"
STATION = "DE-BER-01"
OWN = "a passphrase of my own choosing"
OPENING = {"BS-EU": 50, "BS-ME": 5, "BS-HOME": 5}
WIDTHS = {
    "desk": {"width": 1280, "height": 900},
    "phone": {"width": 390, "height": 844},
    "small-phone": {"width": 375, "height": 812},
}
# name, role: each signs in once with the temporary password, then chooses their own.
PEOPLE = {
    "pd-po": "presiding_officer",
    "pd-clerk": "clerk",
    "pd-clerk2": "clerk",
    "pd-observer": "observer",
}
VOTERS = (  # given name, date of birth, passport
    ("Samir", "1961-02-11", "PD0000001"),
    ("Dina", "1994-10-03", "PD0000002"),
    ("Walid", "1970-05-20", "PD0000003"),
    ("Rana", "1988-08-08", "PD0000004"),
)


def _ocv(server: dict[str, Any], *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [server["ocv"], *args],
        env=server["env"],
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return done.stdout


def _enrol(server: dict[str, Any], election: str, given: str, born: str, passport: str) -> str:
    voter = {
        "given_name": given,
        "family_name": "Qasim",
        "father_name": "Omar",
        "names_original_script": "قاسم",
        "date_of_birth": born,
        "constituency": "OV-EU",
        "host_country": "DE",
        "city": "Berlin",
        "documents": [{"type": "passport", "number": f"{election[:2]}{passport}"}],
    }
    request = urllib.request.Request(  # noqa: S310 (our own server, http)
        f"{server['url']}/api/v1/elections/{election}/voters",
        data=json.dumps(voter).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {server['token']}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our own server)
        return str(json.load(response)["reg_no"]).replace("-", "")


def _sign_in(browser: Browser, base: str, username: str) -> Page:
    page = official_page(browser, WIDTHS["desk"], timeout=15_000)
    return first_sign_in(page, base, username, TEMPORARY_PASSWORD, OWN)


def _flash(page: Page, category: str) -> str:
    return " ".join(page.locator(f"main p.flash.{category}").all_inner_texts())


def _shots(page: Page, name: str, folder: Path) -> None:
    """The page as it is now at both widths, in English and Arabic (then back in English):
    a screenshot of each, nothing spilling sideways, and no axe violation where axe-core is
    installed (the states of the station page the sweep of tests/pages.py does not reach:
    set up, closed, counted, the tally sheet)."""
    url = page.url
    problems = []
    for language in ("ar", "en"):
        page.goto(url + ("&" if "?" in url else "?") + f"lang={language}")
        for width, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            page.screenshot(path=folder / f"polling-{name}-{language}-{width}.png", full_page=True)
            if not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
                problems.append(f"{language}, {width}: spills sideways")
            if AXE.exists():
                page.evaluate(AXE.read_text(encoding="utf-8"))  # outside the page's CSP
                problems += [
                    f"{language}, {width}: {v['impact']} {v['rule']}: {v['help']} at {', '.join(v['nodes'])}"
                    for v in page.evaluate(RUN_AXE)
                ]
    page.set_viewport_size(WIDTHS["desk"])
    page.goto(url)
    assert problems == [], f"{name}: " + json.dumps(problems, indent=2, ensure_ascii=False)


def _choose_language(page: Page, url: str, language: str) -> None:
    page.goto(url)
    page.select_option("form.lang select", language)
    page.locator("form.lang [type=submit]").click()
    page.wait_for_load_state()
    page.goto(url)


def _refusal_shots(page: Page, url: str, name: str, folder: Path, send: Callable[[], None]) -> dict[str, str]:
    """A refused form as the page says it in Arabic and English (chosen in the language
    menu): a screenshot of each at every width, nothing spilling sideways; the refusal's
    text per language."""
    said, problems = {}, []
    for language in ("ar", "en"):
        _choose_language(page, url, language)
        send()
        page.wait_for_load_state()
        said[language] = _flash(page, "error")
        for width, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            page.screenshot(path=folder / f"polling-{name}-{language}-{width}.png", full_page=True)
            if not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
                problems.append(f"{language}, {width}: spills sideways")
    page.set_viewport_size(WIDTHS["desk"])
    assert problems == [], f"{name}: {problems}"
    return said


def _station(election: str) -> str:
    return f"/stations/{STATION}?election={election}"


def _find(page: Page, text: str) -> None:
    page.fill("#q", text)
    page.press("#q", "Enter")
    page.wait_for_load_state()


def _check_in(page: Page, text: str, who: str = "") -> str:
    """Search, confirm the voter found (`who`, among those a name search finds), check
    them in; the desk's message."""
    _find(page, text)
    rows = page.locator("main table:has(caption:text('Voters found')) tbody tr")
    if who:
        rows = rows.filter(has_text=who)
    expect(rows).to_have_count(1)
    rows.get_by_role("button", name="Check in").click()
    page.wait_for_load_state()
    return _flash(page, "success")


@pytest.fixture(scope="module")
def day(browser: Browser, server: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("polling")
    definition = json.loads((ROOT / "registration" / "demo" / "election.json").read_text(encoding="utf-8"))
    for code, counting in ((CVR, "cvr"), (TALLY, "tally_sheet")):
        path = tmp / f"{code}.json"
        path.write_text(json.dumps({**definition, "code": code, "counting": counting}), encoding="utf-8")
        _ocv(server, "election", "load", str(path))
        _ocv(server, "election", "advance", code, "open")
    reg_nos = {code: [_enrol(server, code, *v) for v in VOTERS] for code in (CVR, TALLY)}
    for code in (CVR, TALLY):
        _ocv(server, "election", "advance", code, "exhibit")
        _ocv(server, "election", "advance", code, "freeze")
    for username, role in PEOPLE.items():
        station = ["--station", STATION] if role in ("presiding_officer", "clerk") else []
        _ocv(
            server,
            "users",
            "create",
            username,
            "--role",
            role,
            *station,
            "--password-stdin",
            stdin=TEMPORARY_PASSWORD,
        )
    pages = {username: _sign_in(browser, server["url"], username) for username in PEOPLE}
    # Personal signing keys, sealed with the owners' own passwords (an operator's step).
    for owner, role in (("pd-po", "presiding_officer"), ("pd-observer", "observer")):
        _ocv(
            server,
            "keys",
            "create",
            f"{owner}-2027",
            "--owner",
            owner,
            "--role",
            role,
            "--password-stdin",
            stdin=OWN,
        )
    yield {"base": server["url"], "reg_nos": reg_nos, "pages": pages}
    for page in pages.values():
        page.context.close()


def _open(po: Page, base: str, election: str) -> None:
    po.goto(base + _station(election))
    expect(po.locator("main dl.facts")).to_contain_text("being set up")
    for style, n in OPENING.items():
        po.fill(f"#style_{style}", str(n))
    po.fill("#seals", "S-101\nS-102")
    po.fill("#officials", "Petra Oster (presiding officer)\nCarl Lerk\nCora Lerk")
    po.get_by_role("button", name="Open the station").click()
    po.wait_for_load_state()
    assert "The station is open." in _flash(po, "success")
    expect(po.locator("main dl.facts")).to_contain_text("open for voting")


def _shown(reg_no: str) -> str:
    return f"{reg_no[:3]}-{reg_no[3:6]}-{reg_no[6:]}"


def test_a_polling_day_from_opening_to_the_public_protocol(day: dict[str, Any], screenshot_dir: Path) -> None:
    base, pages = day["base"], day["pages"]
    po, clerk, clerk2, observer = (pages[u] for u in PEOPLE)
    samir, dina, walid, rana = day["reg_nos"][CVR]
    po.goto(base + _station(CVR))
    _shots(po, "opening", screenshot_dir)
    _open(po, base, CVR)

    # The desk: by number (as read aloud, with dashes), by name, by the card's QR code.
    clerk.goto(base + _station(CVR))
    camera = clerk.evaluate("'BarcodeDetector' in window")
    expect(clerk.get_by_role("button", name="Scan the card with the camera")).to_have_count(
        1 if camera else 0
    )
    assert f"{_shown(samir)} is checked in: hand out a ballot of style BS-EU." in _check_in(
        clerk, _shown(samir)
    )
    assert "is checked in" in _check_in(clerk, "Dina Qasim", "Qasim, Dina")
    _find(clerk, f"OCV:{CVR}:{walid}")
    _shots(clerk, "check-in", screenshot_dir)
    clerk.get_by_role("button", name="Check in").click()
    clerk.wait_for_load_state()
    assert f"{_shown(walid)} is checked in" in _flash(clerk, "success")
    assert clerk.evaluate("document.activeElement.id") == "q"  # ready for the next voter

    # A second check-in: the desk sees where and when before pressing anything...
    _find(clerk, samir)
    found = clerk.locator("main table:has(caption:text('Voters found')) tbody tr")
    expect(found).to_contain_text(f"already voted at {STATION} on ")
    expect(found.get_by_role("button", name="Check in")).to_have_count(0)
    _shots(clerk, "already-voted", screenshot_dir)
    # ... and a second desk that found the voter a moment before is refused on pressing.
    clerk2.goto(base + _station(CVR))
    _find(clerk2, rana)
    clerk.goto(base + _station(CVR))
    assert "is checked in" in _check_in(clerk, rana)
    clerk2.get_by_role("button", name="Check in").click()
    clerk2.wait_for_load_state()
    refusal = _flash(clerk2, "error")
    assert f"{_shown(rana)} already voted at {STATION} on " in refusal
    assert "no second ballot" in refusal
    assert "CET" in refusal or "CEST" in refusal
    # A typo in the number is caught by its check character.
    _find(clerk, samir[:-1] + ("0" if samir[-1] != "0" else "1"))
    expect(clerk.locator("main [role=alert]")).to_contain_text("one of its characters is wrong")

    # A spoiled ballot, replaced once; a tendered ballot for someone not on the list.
    clerk.goto(base + _station(CVR))
    clerk.get_by_text("Spoiled ballot, tendered ballot").click()
    clerk.fill("#spoil-reg_no", dina)
    clerk.get_by_role("button", name="Replace a spoiled ballot").click()
    clerk.wait_for_load_state()
    assert "Spoiled ballot recorded" in _flash(clerk, "success")

    def spoil_again() -> None:
        clerk.locator("main details:has(#spoil-reg_no) > summary").click()
        clerk.fill("#spoil-reg_no", dina)
        clerk.locator("main form:has(#spoil-reg_no) [type=submit]").click()

    said = _refusal_shots(clerk, base + _station(CVR), "spoil-refused", screenshot_dir, spoil_again)
    assert said["en"] == "This voter had a spoiled ballot replaced already: only once."
    assert said["ar"] == "استُبدلت لهذا الناخب ورقة اقتراع تالفة من قبل: مرة واحدة فقط."
    clerk.goto(base + _station(CVR))
    clerk.get_by_text("Spoiled ballot, tendered ballot").click()
    clerk.select_option("#tendered-ballot_style", "BS-EU")
    clerk.fill("#tendered-claim", "Says he registered in Hamburg; passport P-778812")
    clerk.get_by_role("button", name="Issue a tendered ballot").click()
    clerk.wait_for_load_state()
    assert "Tendered ballot recorded" in _flash(clerk, "success")

    # The presiding officer's page: stock, run-out time, turnout; then close.
    po.goto(base + _station(CVR))
    stock = po.locator("main table.stock tbody tr").filter(has_text="BS-EU")
    expect(stock).to_contain_text("44")  # 50 − 4 check-ins − 1 tendered − 1 spoiled
    expect(stock).to_contain_text("hours at the last hour's rate")
    expect(po.locator("main dl.facts")).to_contain_text("4 voters")
    _shots(po, "presiding-officer", screenshot_dir)
    po.get_by_text("Close polling (or close for the night)").click()
    for style, n in {"BS-EU": 44, "BS-ME": 5, "BS-HOME": 5}.items():
        po.fill(f"#style_{style}", str(n))
    po.fill("#seals", "S-201")
    po.get_by_role("button", name="Close", exact=True).click()
    po.wait_for_load_state()
    assert "Polling is closed" in _flash(po, "success")

    # The count, one ballot at a time, by the keyboard form (the tendered one stays apart).
    clerk.goto(base + _station(CVR))
    _shots(clerk, "count", screenshot_dir)
    for president in ("Leila Nasser", "Leila Nasser", "Jonas Berg", "Amira Haddad"):
        clerk.get_by_role("group", name="President").get_by_label(president, exact=True).check()
        clerk.get_by_role("group", name="Referendum: lower the voting age to 16").get_by_label("Yes").check()
        parliament = clerk.get_by_role("group", name="Parliament, Overseas Europe (2)")
        parliament.get_by_label("Sara Lind").check()
        parliament.get_by_label("Omar Farouk").check()
        clerk.get_by_role("button", name="Record this ballot").click()
        clerk.wait_for_load_state()
        assert "Ballot recorded." in _flash(clerk, "success")

    # Finished; signed with the password re-entered (a wrong one is refused).
    po.goto(base + _station(CVR))
    po.get_by_role("button", name="The count is finished").click()
    po.wait_for_load_state()
    assert "check the protocol and sign it" in _flash(po, "success")
    po.get_by_role("link", name="Read the protocol before signing").click()
    po.wait_for_load_state()
    expect(po.locator("main")).to_contain_text("Leila Nasser")
    expect(po.locator("main ul.checks")).not_to_contain_text("does not hold")
    _shots(po, "protocol-unsigned", screenshot_dir)
    po.goto(base + _station(CVR))

    def sign_wrongly() -> None:
        po.fill("#password", "not my password")
        po.locator("main form:has(#password) [type=submit]").click()

    said = _refusal_shots(po, base + _station(CVR), "sign-refused", screenshot_dir, sign_wrongly)
    assert said["en"] == "Wrong password: the key stays sealed."
    assert said["ar"] == "كلمة المرور خاطئة: يبقى المفتاح مختومًا."
    po.goto(base + _station(CVR))
    po.fill("#password", OWN)
    po.get_by_role("button", name="Sign the protocol").click()
    po.wait_for_load_state()
    assert "The protocol is signed." in _flash(po, "success")
    expect(po.locator("main dl.facts")).to_contain_text("protocol signed")

    # An observer countersigns with their own key; the presiding officer submits.
    observer.goto(base + _station(CVR))
    observer.fill("#countersign-password", OWN)
    observer.get_by_role("button", name="Countersign").click()
    observer.wait_for_load_state()
    assert "Countersigned." in _flash(observer, "success")
    po.goto(base + _station(CVR))
    po.get_by_role("button", name="Submit the protocol to the tally centre").click()
    po.wait_for_load_state()
    assert "Submitted." in _flash(po, "success")

    # Public: anyone reads the printable protocol with its digest and QR code.
    anyone = po.context.browser.new_context(locale="en-GB", viewport=WIDTHS["desk"])  # type: ignore[union-attr]
    public = anyone.new_page()
    response = public.goto(base + f"/stations/{STATION}/protocol?election={CVR}")
    assert response is not None
    assert response.status == 200
    main = public.locator("main")
    expect(main).to_contain_text("protocol submitted")
    expect(main).to_contain_text("Presiding officer: pd-po-2027")
    expect(main).to_contain_text("Countersigned: pd-observer-2027")
    expect(main.locator(".qr svg")).to_have_count(1)
    expect(main.locator("table:has(caption:text('President'))")).to_contain_text("Leila Nasser")
    _shots(public, "protocol", screenshot_dir)
    public.goto(base + f"/stations/{STATION}/protocol?election={CVR}&lang=ar")
    assert public.get_attribute("html", "dir") == "rtl"
    expect(public.locator("main")).not_to_contain_text("protocol submitted")
    anyone.close()


def test_the_hand_count_is_typed_twice_and_must_agree(day: dict[str, Any], screenshot_dir: Path) -> None:
    base, pages = day["base"], day["pages"]
    po, clerk, clerk2 = pages["pd-po"], pages["pd-clerk"], pages["pd-clerk2"]
    voter = day["reg_nos"][TALLY][0]
    _open(po, base, TALLY)
    clerk.goto(base + _station(TALLY))
    assert "is checked in" in _check_in(clerk, voter)
    po.goto(base + _station(TALLY))
    po.get_by_text("Close polling (or close for the night)").click()
    for style, n in {"BS-EU": 49, "BS-ME": 5, "BS-HOME": 5}.items():
        po.fill(f"#style_{style}", str(n))
    po.fill("#seals", "S-301")
    po.get_by_role("button", name="Close", exact=True).click()
    po.wait_for_load_state()

    def enter(page: Page, president: str) -> None:
        page.goto(base + _station(TALLY))
        form = page.locator("main form.tally-sheet")
        for box in form.locator("input[type=number], input[inputmode=numeric]").all():
            box.fill("0")
        page.get_by_label("Ballots in the box").fill("1")
        page.get_by_role("group", name="President").get_by_label(president, exact=True).fill("1")
        page.get_by_role("group", name="Referendum: lower the voting age to 16").get_by_label("Yes").fill("1")
        page.get_by_role("group", name="Parliament, Overseas Europe").get_by_label("Sara Lind").fill("1")
        page.get_by_role("button", name="Enter the count").click()
        page.wait_for_load_state()

    enter(clerk, "Leila Nasser")
    assert "a second clerk enters the count too" in _flash(clerk, "success")
    enter(clerk2, "Jonas Berg")  # misread the sheet
    assert "The entries differ" in _flash(clerk2, "error")
    differences = clerk2.locator("main table:has(caption:text('Where the entries differ')) tbody tr")
    expect(differences).to_have_count(2)
    expect(differences.first).to_contain_text("President")
    _shots(clerk2, "tally-sheet", screenshot_dir)
    enter(clerk2, "Leila Nasser")
    assert "Both entries agree" in _flash(clerk2, "success")
    po.goto(base + _station(TALLY))
    po.get_by_role("button", name="The count is finished").click()
    po.wait_for_load_state()
    po.fill("#password", OWN)
    po.get_by_role("button", name="Sign the protocol").click()
    po.wait_for_load_state()
    assert "The protocol is signed." in _flash(po, "success")


def test_the_station_page_speaks_arabic(day: dict[str, Any], browser: Browser) -> None:
    context: BrowserContext = day["pages"]["pd-po"].context
    page = context.new_page()
    page.goto(day["base"] + _station(TALLY) + "&lang=ar")
    assert page.get_attribute("html", "dir") == "rtl"
    text = page.inner_text("main")
    assert "protocol signed" not in text
    assert "Presiding officer" not in text
    page.close()
