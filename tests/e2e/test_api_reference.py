"""The API reference page in a real browser, served by gunicorn in production settings."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from openapi_spec_validator import OpenAPIV31SpecValidator, validate

PHONE = {"width": 390, "height": 844}


def test_the_reference_page_reads_on_a_phone_in_the_site_look(browser, server, screenshot_dir: Path) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.goto(server["url"] + "/api/")
    assert page.inner_text("h1") == "OCV JSON API"
    assert page.locator("header.site .brand").is_visible()  # the site's own header and styles
    assert page.evaluate("getComputedStyle(document.querySelector('header.site')).display") == "flex"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # wide tables scroll
    page.click("a[href='#registration_api.enrol']")
    page.wait_for_function("location.hash === '#registration_api.enrol'")
    assert "Needs an API token" in page.inner_text("#registration_api\\.enrol")
    page.screenshot(path=screenshot_dir / "api-reference-phone.png", full_page=False)
    assert problems == []  # no CSP violation, nothing fetched from elsewhere
    context.close()


def test_the_served_description_is_openapi_3_1(server) -> None:
    with urllib.request.urlopen(server["url"] + "/api/v1/openapi.json") as answer:  # noqa: S310 (local server)
        assert answer.headers.get_content_type() == "application/json"
        document = json.load(answer)
    validate(document, cls=OpenAPIV31SpecValidator)
    assert "/api/v1/elections/{code}/voters" in document["paths"]
