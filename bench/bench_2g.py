"""Page loads on an emulated 2G link (Chromium: 300 ms latency, 250 kbit/s each way), with
gunicorn on the demo's data: the voter self-check in Arabic on a phone and the enrolment
form at a desk, first visit (empty cache) and repeat visit. The baseline is the link's
floor in the same run: the load of GET /healthz, one small request on the same link.

    python -m bench.bench_2g [--repeat 5] [--voters 600]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, sync_playwright

from bench.common import report

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
LINK = {"offline": False, "latency": 300, "downloadThroughput": 250_000 / 8, "uploadThroughput": 250_000 / 8}
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}
DEMO_PASSWORD = "demo-password-2027"  # noqa: S105 (the demo's published password)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _throttle(context: BrowserContext, page: Page) -> None:
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.clearBrowserCache")
    cdp.send("Network.emulateNetworkConditions", LINK)


def _load(page: Page, url: str) -> tuple[float, int, int]:
    """Milliseconds to the load event, bytes on the wire and requests, for one navigation."""
    page.goto(url, wait_until="load")
    return page.evaluate(
        """() => {
            const nav = performance.getEntriesByType('navigation')[0];
            const resources = performance.getEntriesByType('resource');
            const bytes = resources.reduce((sum, r) => sum + r.transferSize, nav.transferSize);
            return [nav.loadEventEnd, bytes, resources.length + 1];
        }"""
    )


def _visits(open_page: Callable[[], tuple[BrowserContext, Page]], url: str, repeat: int) -> dict[str, list]:
    """First and repeat visits of `url`, each run in a fresh context with an empty cache."""
    runs: dict[str, list] = {"first": [], "repeat": []}
    for _ in range(repeat):
        context, page = open_page()
        _throttle(context, page)
        runs["first"].append(_load(page, url))
        runs["repeat"].append(_load(page, url))
        context.close()
    return runs


def _summary(name: str, runs: list, floor: float, target: str) -> None:
    median = statistics.median(r[0] for r in runs)
    _, size, requests = runs[-1]
    report(name, median, "ms", floor, median / floor, target)
    # Files the browser had kept count as requests of 0 bytes.
    print(f"{'':44} {size / 1024:12,.1f} KB on the wire, {requests} resources")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--voters", type=int, default=600)
    args, _ = parser.parse_known_args()  # `python -m bench` passes every benchmark the same flags
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        env = {
            **os.environ,
            "OCV_ENV": "development",  # the demo's known sign-ins
            "OCV_DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite",
            "OCV_INSTANCE_PATH": tmp,
            "OCV_BIND": f"127.0.0.1:{port}",
            "OCV_WORKERS": "2",
            "OCV_JSON_LOGS": "0",
        }
        subprocess.run([str(BIN / "ocv"), "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run(
            [str(BIN / "ocv"), "demo", "--voters", str(args.voters)], env=env, check=True, capture_output=True
        )
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "config/gunicorn.conf.py"), "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310 (our own server)
                    break
                except OSError:
                    time.sleep(0.1)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--headless", "--no-sandbox"]
                )

                def phone() -> tuple[BrowserContext, Page]:
                    context = browser.new_context(viewport=PHONE, is_mobile=True, locale="ar")
                    return context, context.new_page()

                def officer() -> tuple[BrowserContext, Page]:
                    context = browser.new_context(viewport=DESK, locale="en-GB")
                    page = context.new_page()
                    page.goto(base + "/login")
                    page.fill("#username", "registrar")
                    page.fill("#password", DEMO_PASSWORD)
                    page.click("#submit")
                    page.wait_for_url(base + "/")
                    return context, page

                floor = statistics.median(
                    r[0] for r in _visits(phone, base + "/healthz", args.repeat)["first"]
                )
                check = _visits(phone, base + "/check", args.repeat)
                enrol = _visits(officer, base + "/elections/GE2027/enrol", args.repeat)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"2G: 300 ms, 250 kbit/s; medians of {args.repeat}; baseline = GET /healthz on the same link")
    first, repeat = "≤ 2.5: the page, then its files at once", "≤ 1.2: the page alone"
    _summary("/check, Arabic, phone, first visit", check["first"], floor, first)
    _summary("/check, Arabic, phone, repeat visit", check["repeat"], floor, repeat)
    _summary("enrolment form, desk, first visit", enrol["first"], floor, first)
    _summary("enrolment form, desk, repeat visit", enrol["repeat"], floor, repeat)


if __name__ == "__main__":
    main()
