"""What a person does in a real browser: first sign-in, a protected form, Arabic on a phone."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

PHONE = {"width": 390, "height": 844}


def test_first_sign_in_forces_a_password_change(browser, server, screenshot_dir: Path) -> None:
    page = browser.new_page()
    page.goto(server["url"] + "/login")
    page.fill("#username", "newcomer")
    page.fill("#password", "temporary password 1")
    page.click("#submit")
    page.wait_for_url("**/account/password")
    assert "Choose your own password" in page.inner_text("main")
    page.screenshot(path=screenshot_dir / "forced-password-change.png", full_page=True)

    page.fill("#current_password", "temporary password 1")
    page.fill("#new_password", "my own long passphrase")
    page.fill("#confirm", "my own long passphrase")
    page.click("#submit")
    page.wait_for_url(server["url"] + "/")
    assert "Signed in as newcomer" in page.inner_text("main")
    page.close()


def test_a_form_with_a_forged_csrf_token_is_refused(browser, server, screenshot_dir: Path) -> None:
    page = browser.new_page()
    page.goto(server["url"] + "/login")
    page.eval_on_selector("main input[name=csrf_token]", "e => e.value = 'forged'")
    page.fill("#username", "newcomer")
    page.fill("#password", "whatever it is")
    response_status = []
    page.on("response", lambda r: response_status.append(r.status) if r.url.endswith("/login") else None)
    page.click("#submit")
    page.wait_for_load_state()
    assert 400 in response_status
    assert "form has expired" in page.inner_text("main")
    page.screenshot(path=screenshot_dir / "csrf-refused.png")
    page.close()


def test_arabic_is_right_to_left_on_a_phone(browser, server, screenshot_dir: Path) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, locale="en-GB")
    page = context.new_page()
    page.goto(server["url"] + "/login")
    assert page.get_attribute("html", "dir") == "ltr"
    page.select_option("#lang-select", "ar")
    with page.expect_navigation():
        page.click("header .lang button")
    page.wait_for_function("document.documentElement.dir === 'rtl'")
    assert page.get_attribute("html", "lang") == "ar"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert "تسجيل الدخول" in page.inner_text("h1")
    # Nothing spills sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # In RTL the form's labels sit at the right edge.
    label = page.locator("label[for=username]").bounding_box()
    assert label is not None
    assert label["x"] + label["width"] > PHONE["width"] / 2
    page.screenshot(path=screenshot_dir / "arabic-phone-login.png", full_page=True)
    context.close()


def test_the_language_menu_is_walked_with_the_keyboard(browser, server, screenshot_dir: Path) -> None:
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server["url"] + "/check")
    for _ in range(12):  # Tab from the top of the page to the menu
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "lang-select":
            break
    assert page.evaluate("document.activeElement.id") == "lang-select"
    # Arrow keys move through the languages and stay on the page, the menu still focused.
    page.evaluate("window.unreloaded = true")
    page.keyboard.press("ArrowDown")
    assert page.input_value("#lang-select") == "fr"
    page.keyboard.press("ArrowDown")
    assert page.input_value("#lang-select") == "ar"
    page.wait_for_timeout(500)  # time enough for a submit on change to have left the page
    assert page.evaluate("window.unreloaded === true")
    assert page.evaluate("document.activeElement.id") == "lang-select"
    assert page.get_attribute("html", "lang") == "en"
    # The button beside it changes the language, the same page in Arabic.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Change language"
    page.screenshot(path=screenshot_dir / "language-menu-keyboard.png")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_attribute("html", "lang") == "ar"
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.url == server["url"] + "/check"
    context.close()


def _enrol(server: dict[str, str]) -> str:
    voter = {
        "given_name": "Leila",
        "family_name": "Nasser",
        "date_of_birth": "1988-02-29",
        "constituency": "OV-ME",
        "host_country": "AE",
        "city": "Dubai",
        "documents": [{"type": "passport", "number": "AE7788990"}],
    }
    request = urllib.request.Request(  # noqa: S310 (our own server, http)
        server["url"] + "/api/v1/elections/GE2027/voters",
        data=json.dumps(voter).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {server['token']}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our own server)
        return str(json.load(response)["reg_no"])


def test_a_voter_checks_their_registration_in_arabic_on_a_phone(
    browser, server, screenshot_dir: Path
) -> None:
    reg_no = _enrol(server)
    context = browser.new_context(viewport=PHONE, is_mobile=True, locale="ar")
    page = context.new_page()
    page.goto(server["url"] + "/check")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.inner_text("h1") == "هل أنا مسجّل؟"
    page.fill("#reg_no", reg_no.lower())  # typed as a voter would, in lower case
    page.fill("#date_of_birth", "1988-02-29")
    page.click("#submit")
    page.wait_for_selector(".result")
    result = page.inner_text(".result")
    assert "أنت مسجّل" in result
    assert "Dubai Consulate" in result
    assert "Asia/Dubai" in result
    assert "Nasser" not in page.content()  # the page shows no name
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=screenshot_dir / "arabic-phone-self-check.png", full_page=True)

    page.fill("#reg_no", reg_no[:-1] + ("0" if reg_no[-1] != "0" else "1"))
    page.fill("#date_of_birth", "1988-02-29")
    page.click("#submit")
    page.wait_for_selector(".flash.error")
    context.close()
