"""A real server (gunicorn, production settings) on a fresh database, driven by Debian's
Chromium through Playwright. Screenshots go to $OCV_SCREENSHOT_DIR (CI keeps them)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright
from sqlalchemy import make_url

from tests.scratch import drop_database, fresh_database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Accounts of the registration workflow, created as an operator would (`ocv users create`):
# each must choose its own password at first sign-in.
OFFICIALS = {"reggie": "registration_officer", "chief": "admin"}
TEMPORARY_PASSWORD = "temporary password 2"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "e2e" in str(item.path):
            item.add_marker(pytest.mark.e2e)
    # The accessibility sweep runs last: the numbers the workflows read (objection 1...)
    # stay theirs, and the sweep walks the pages as the workflows left them.
    items.sort(key=lambda item: item.path.name == "test_accessibility.py")


@pytest.fixture(scope="session")
def browser_path() -> str:
    if not Path(CHROMIUM).exists():
        if os.environ.get("OCV_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing; install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); browser tests skipped")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_database(tmp_path: Path) -> str:
    url = os.environ.get("OCV_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'e2e.sqlite'}"
    return fresh_database(url, f"{make_url(url).database}_e2e")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, browser_path: str) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("e2e")
    port = _free_port()
    env = {
        **os.environ,
        "OCV_ENV": "production",
        "OCV_SECRET_KEY": secrets.token_urlsafe(48),
        "OCV_KEY_SECRET": secrets.token_urlsafe(48),
        "OCV_DATABASE_URL": _server_database(tmp),
        "OCV_INSTANCE_PATH": str(tmp),
        "OCV_SECURE_COOKIES": "0",  # plain HTTP on 127.0.0.1
        "OCV_JSON_LOGS": "0",
        "OCV_BIND": f"127.0.0.1:{port}",
        "OCV_WORKERS": "2",
    }

    def ocv(*args: str, stdin: str = "") -> None:
        subprocess.run(
            [str(BIN / "ocv"), *args],
            env=env,
            input=stdin,
            text=True,
            check=True,
            capture_output=True,
            timeout=120,
        )

    ocv("db", "upgrade")
    ocv(
        "users",
        "create",
        "newcomer",
        "--role",
        "registration_officer",
        "--password-stdin",
        stdin="temporary password 1\n",
    )
    for username, role in OFFICIALS.items():
        ocv("users", "create", username, "--role", role, "--password-stdin", stdin=TEMPORARY_PASSWORD + "\n")
    ocv("election", "load", str(ROOT / "registration" / "demo" / "election.json"))
    ocv("election", "advance", "GE2027", "open")
    token = subprocess.run(
        [str(BIN / "ocv"), "users", "token", "newcomer"],
        env=env,
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout.strip()
    log = (tmp / "server.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "config/gunicorn.conf.py"), "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):  # up to a minute: on a loaded machine the workers start slowly
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310 (our own server)
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.terminate()
        log.close()
        pytest.fail("the server did not start: " + (tmp / "server.log").read_text())
    # `env` runs the CLI on the server's database, as its operator would.
    yield {
        "url": base,
        "ocv": str(BIN / "ocv"),
        "ocv_verify": str(BIN / "ocv-verify"),
        "token": token,
        "env": env,
    }
    process.terminate()
    process.wait(timeout=60)  # gunicorn's workers finish their requests first
    log.close()
    drop_database(env["OCV_DATABASE_URL"])


@pytest.fixture(scope="session")
def browser(browser_path: str):  # type: ignore[no-untyped-def]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def official_page(browser: Browser, viewport: ViewportSize, timeout: int = 10_000) -> Page:
    """A page in a browser context of its own (its own cookies, so its own official), in English."""
    context = browser.new_context(locale="en-GB", viewport=viewport)
    context.set_default_timeout(timeout)
    return context.new_page()


def sign_in(page: Page, base: str, username: str, password: str) -> Page:
    """The sign-in form, filled in and sent."""
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#submit")
    page.wait_for_load_state()
    return page


def first_sign_in(page: Page, base: str, username: str, temporary: str, own: str) -> Page:
    """A new account's first sign-in: the temporary password the operator gave, then the change
    to the official's own password that the site asks for before anything else."""
    sign_in(page, base, username, temporary)
    page.wait_for_url("**/account/password")
    page.fill("#current_password", temporary)
    page.fill("#new_password", own)
    page.fill("#confirm", own)
    page.click("#submit")
    page.wait_for_url(base + "/")
    return page


@pytest.fixture
def screenshot_dir() -> Path:
    path = Path(os.environ.get("OCV_SCREENSHOT_DIR", ROOT / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
