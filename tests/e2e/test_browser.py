"""What a person does in a real browser: first sign-in, a protected form, Arabic on a phone."""

from __future__ import annotations

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
    page.select_option("#lang-select", "ar")  # the switcher submits itself
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
