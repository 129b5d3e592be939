"""A registration officer's whole workflow in a real browser, as the README walks a newcomer
through it: an admin loads an election file and opens registration; the officer enrols
voters with the keyboard, meets a repeated document and a likely duplicate, imports a CSV
file with bad rows; an objection runs from filing to decision; the admin freezes the list;
the audit log holds every step and verifies offline.

The workflow runs on an election of its own (WF2027), so the other browser tests keep
GE2027 open for registration whatever the order."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import rfc8785
from playwright.sync_api import Browser, Page

from registration import regno
from tests.e2e.conftest import ROOT, TEMPORARY_PASSWORD, first_sign_in, official_page

CODE = "WF2027"
REG_NO = re.compile(r"\b([0-9A-HJKMNP-TV-Y]{3}-[0-9A-HJKMNP-TV-Y]{3}-[0-9A-HJKMNP-TV-Y]{3})\b")
ARABIC_NAME = "محمد الحسن"
OWN_PASSWORD = "a passphrase of my own choosing"

# A file with two good rows and five bad ones; the header is line 1. Line 6 repeats the
# passport of the first voter enrolled in the form (filled in below).
IMPORT_ROWS = [
    ("Jonas", "Berg", "1979-11-02", "OV-EU", "DE", "Munich", "passport", "DE5550001"),
    ("Sara", "Lind", "1992-13-40", "OV-EU", "DE", "Berlin", "passport", "DE5550002"),
    ("Omar", "Farouk", "1988-06-01", "OV-XX", "FR", "Paris", "passport", "FR5550003"),
    ("Claire", "Dubois", "1990-01-15", "OV-EU", "FR", "Paris", "national_id", "FR5550004"),
    ("Yusuf", "Demir", "1975-09-09", "OV-EU", "DE", "Berlin", "passport", "P1234567"),
    ("Nadia", "Rahimi", "2015-05-05", "OV-EU", "DE", "Berlin", "passport", "DE5550006"),
    ("Tomás", "Ruiz", "1983-04-04", "OV-ME", "US", "New York", "passport", "DE5550001"),
]
IMPORT_HEADER = (
    "given_name",
    "family_name",
    "date_of_birth",
    "constituency",
    "host_country",
    "city",
    "doc1_type",
    "doc1_number",
)


# --- helpers ---------------------------------------------------------------------------------


def _sign_in(browser: Browser, server: dict[str, str], username: str) -> Page:
    """A first sign-in with the temporary password, then the forced change of password."""
    page = official_page(browser, {"width": 1280, "height": 900})
    first_sign_in(page, server["url"], username, TEMPORARY_PASSWORD, OWN_PASSWORD)
    assert f"Signed in as {username}" in page.inner_text("main")
    return page


def _flashes(page: Page, category: str) -> str:
    return " ".join(page.locator(f"main p.flash.{category}").all_inner_texts())


def _open_election(page: Page) -> None:
    page.click("header nav >> text=Elections")
    page.click(f"main table >> text={CODE}")
    page.wait_for_url(f"**/elections/{CODE}")


def _election_action(page: Page, label: str) -> None:
    _open_election(page)
    page.click(f"main .actions button:has-text('{label}')")
    page.wait_for_url(f"**/elections/{CODE}")


def _assigned(page: Page, station: str) -> str:
    """The 'voters / capacity' cell of a station on the election page."""
    return page.inner_text(f"main table tr:has(td .code:text-is('{station}')) td:nth-child(5)").strip()


def _enrolled(page: Page) -> str:
    page.wait_for_url(f"**/elections/{CODE}/enrol?last=*")
    message = _flashes(page, "success")
    match = REG_NO.search(message)
    assert match, message
    return match.group(1)


def _enrol(page: Page, voter: dict[str, str]) -> None:
    """Fill the form field by field and submit with Enter from the last field typed in."""
    for name in ("family_name", "given_name", "names_original_script", "date_of_birth", "doc1_number"):
        if name in voter:
            page.fill(f"#{name}", voter[name])
    for name in ("sex", "doc1_type", "constituency", "host_country"):
        if name in voter:
            page.select_option(f"#{name}", voter[name])
    page.fill("#city", voter["city"])
    page.press("#city", "Enter")


def _report(page: Page) -> dict[str, str]:
    rows = page.locator("main .import-report > table:first-of-type tbody tr")
    return {
        rows.nth(i).locator("th").inner_text().strip(): rows.nth(i).locator("td").inner_text().strip()
        for i in range(rows.count())
    }


def _upload(page: Page, path: Path, mode: str) -> None:
    page.set_input_files("#file", str(path))
    page.select_option("#mode", mode)
    page.click("#submit")
    # The import runs as a job: its page refreshes itself until the outcome is there.
    page.wait_for_selector("main .import-report p.flash", timeout=60_000)


def _entries(page: Page, server: dict[str, str], event_type: str) -> list[dict[str, Any]]:
    """Payloads of one type from the public audit log page, newest first."""
    page.goto(server["url"] + "/audit/")
    page.select_option("#type", event_type)
    page.click("main form.filters button[type=submit]")
    page.wait_for_url(f"**type={event_type}*")
    entries = page.locator("main ol.entries > li")
    return [
        {
            "head": entries.nth(i).locator("p").inner_text(),
            **json.loads(entries.nth(i).locator("pre").inner_text()),
        }
        for i in range(entries.count())
    ]


def _station_events(page: Page, server: dict[str, str], station: str) -> list[str]:
    page.goto(server["url"] + "/audit/")
    page.fill("#station", station)
    page.press("#station", "Enter")
    page.wait_for_url(f"**station={station}*")
    # This election's only: other browser tests share the server and its stations.
    ours = page.locator("main ol.entries > li").filter(has=page.locator("span.code", has_text=CODE))
    return ours.locator("p > code").all_inner_texts()


# --- the workflow ----------------------------------------------------------------------------


def test_a_registration_officer_runs_registration_to_the_frozen_list(
    browser: Browser, server: dict[str, str], screenshot_dir: Path, tmp_path: Path
) -> None:
    # The admin loads an election file through the Elections page and opens registration.
    definition = json.loads((ROOT / "registration" / "demo" / "election.json").read_text(encoding="utf-8"))
    definition.update(code=CODE, name="Workflow election 2027")
    election_file = tmp_path / "wf2027.json"
    election_file.write_text(json.dumps(definition), encoding="utf-8")
    chief = _sign_in(browser, server, "chief")
    chief.click("header nav >> text=Elections")
    chief.set_input_files("#file", str(election_file))
    chief.click("main form:has(#file) #submit")
    chief.wait_for_url(f"**/elections/{CODE}")
    assert f"Election {CODE} loaded." in _flashes(chief, "success")
    assert "Phase: setup." in chief.inner_text("main .lead")
    _election_action(chief, "Open registration")
    assert "The election's phase is now: registration open." in _flashes(chief, "success")
    assert "Enrol voters" in chief.inner_text("main .actions")  # admins may enrol too

    # 1. The officer signs in for the first time and must choose a password.
    officer = _sign_in(browser, server, "reggie")
    _open_election(officer)
    assert "Phase: registration open." in officer.inner_text("main .lead")
    officer.click("main >> text=Enrol voters")
    officer.wait_for_url(f"**/elections/{CODE}/enrol")

    # 2. Keyboard first: the family name has the focus, Tab walks the form in reading order.
    assert officer.evaluate("document.activeElement.id") == "family_name"
    officer.keyboard.type("Al-Hassan")
    officer.keyboard.press("Tab")
    officer.keyboard.type("Mohammed")
    officer.keyboard.press("Tab")
    officer.keyboard.type("Ibrahim")
    officer.keyboard.press("Tab")
    officer.keyboard.press("Tab")  # no grandfather's name on this passport
    assert officer.evaluate("document.activeElement.id") == "names_original_script"
    officer.keyboard.insert_text(ARABIC_NAME)
    officer.keyboard.press("Tab")
    assert officer.evaluate("document.activeElement.id") == "date_of_birth"
    officer.fill("#date_of_birth", "1985-03-12")
    officer.select_option("#sex", "M")
    officer.select_option("#doc1_type", "passport")
    officer.focus("#doc1_number")
    officer.keyboard.type("P1234567")
    officer.select_option("#constituency", "OV-EU")
    officer.select_option("#host_country", "DE")
    officer.focus("#city")
    officer.keyboard.type("Berlin")
    officer.keyboard.press("Enter")
    first = _enrolled(officer)
    assert regno.validate(first) == first.replace("-", "")  # a number whose check character holds
    assert f"Enrolled Mohammed Al-Hassan: {first} at DE-BER-01." in _flashes(officer, "success")
    # A fresh, empty form for the next person in the queue.
    assert officer.input_value("#family_name") == ""
    assert officer.evaluate("document.activeElement.id") == "family_name"
    officer.screenshot(path=screenshot_dir / "officer-enrolled.png", full_page=True)

    officer.click("main >> text=Print the card of the last voter")
    officer.wait_for_url(f"**/voters/{first.replace('-', '')}/card")
    card = officer.inner_text("main article.card")
    assert officer.inner_text("main .regno").strip() == first
    assert "Mohammed Al-Hassan" in card
    assert ARABIC_NAME in card
    assert "1985-03-12" in card
    assert "Berlin Consulate" in card
    assert "Unter den Linden 10" in card
    assert "2027-04-17 08:00–18:00" in card
    assert "Europe/Berlin" in card
    assert (officer.get_attribute("main img.qr", "src") or "").startswith("data:image/svg+xml")
    officer.screenshot(path=screenshot_dir / "registration-card.png", full_page=True)

    # 3a. The same passport, typed another way, is refused and names the holder.
    officer.go_back()
    _enrol(
        officer,
        {
            "family_name": "Haddad",
            "given_name": "Amira",
            "date_of_birth": "1990-05-17",
            "doc1_type": "passport",
            "doc1_number": "p 123-4567",
            "constituency": "OV-EU",
            "host_country": "DE",
            "city": "Berlin",
        },
    )
    officer.wait_for_selector("main p.flash.error")
    # Every number a person reads is in the form they read aloud, as on the card.
    assert f"This document is registered already, to {first}." in _flashes(officer, "error")
    assert officer.inner_text("main p.flash.error[role=alert] a") == first
    assert officer.input_value("#family_name") == "Haddad"  # what was typed is kept
    officer.screenshot(path=screenshot_dir / "enrol-duplicate-document.png", full_page=True)
    # Nothing was enrolled, and the refused voter took no seat at the station.
    _open_election(officer)
    assert "1 voter." in officer.inner_text("main .lead")
    assert _assigned(officer, "DE-BER-01") == "1 / 5000"

    # 3b. The same person in another spelling, in another country: enrolled, and queued.
    officer.click("main >> text=Enrol voters")
    _enrol(
        officer,
        {
            "family_name": "Alhasan",
            "given_name": "Muhammad",
            "names_original_script": ARABIC_NAME,
            "date_of_birth": "1985-03-12",
            "doc1_type": "national_id",
            "doc1_number": "ID998877",
            "constituency": "OV-EU",
            "host_country": "FR",
            "city": "Paris",
        },
    )
    second = _enrolled(officer)
    assert "at FR-PAR-01." in _flashes(officer, "success")
    _open_election(officer)
    officer.click("main >> text=Duplicate reviews")
    reviews = officer.locator("main section.review")
    assert reviews.count() == 1
    review = reviews.first
    assert re.fullmatch(r"Similarity (\d+)%", review.locator("h2").inner_text().strip())
    assert int(review.locator("h2").inner_text().split()[1].rstrip("%")) >= 88
    assert review.locator("tr:has(th:text-is('New')) code").inner_text() == second
    assert review.locator("tr:has(th:text-is('Existing')) code").inner_text() == first
    assert review.locator("tr:has(th:text-is('New'))").inner_text().count(ARABIC_NAME) == 1
    officer.screenshot(path=screenshot_dir / "duplicate-review.png", full_page=True)
    review.get_by_label("Decision", exact=True).select_option("same_person")
    review.get_by_label("Reason", exact=True).fill("Same person: the photographs on both documents match")
    review.get_by_role("button", name="Resolve").click()
    officer.wait_for_selector("main p.flash.success")
    assert "Resolved." in _flashes(officer, "success")
    assert "No open review." in officer.inner_text("main")
    # The newer entry is cancelled, with the reason in its history.
    officer.click("header nav >> text=Elections")
    _open_election(officer)
    officer.click("main >> text=Find a voter")
    officer.fill("#q", "Alhasan")
    officer.press("#q", "Enter")
    officer.click(f"main table >> text={second}")
    assert second in officer.inner_text("main h1")
    assert "cancelled" in officer.inner_text("main h1")
    assert f"duplicate of {first}" in officer.inner_text("main ol")  # as the officer reads numbers

    # 4. A file with bad rows: all or nothing refuses it and lists every bad line.
    csv_file = tmp_path / "abroad-voters.csv"
    with csv_file.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(IMPORT_HEADER)
        writer.writerows(IMPORT_ROWS)
    _open_election(officer)
    officer.click("main >> text=Import a file")
    officer.wait_for_url(f"**/elections/{CODE}/import")
    _upload(officer, csv_file, "import")
    assert "5 of 7 rows were rejected; nothing was imported." in _flashes(officer, "error")
    assert _report(officer) == {
        "Rows": "7",
        "Good rows (not imported)": "2",
        "Rejected rows": "5",
        "Likely duplicates for review": "0",
        "File SHA-256": hashlib.sha256(csv_file.read_bytes()).hexdigest(),
    }
    shown = [
        tuple(cell.strip() for cell in row.split("\t"))
        for row in officer.locator("main .import-report > table:last-of-type tbody tr").all_inner_texts()
    ]
    assert [(line, column) for line, column, _ in shown] == [
        ("3", "date_of_birth"),
        ("4", "constituency"),
        ("6", "doc1_number"),
        ("7", "date_of_birth"),
        ("8", "doc1_number"),
    ]
    problems = {line: message for line, _, message in shown}
    assert problems["3"] == "1992-13-40 is not a real date."
    assert problems["4"] == f"'OV-XX' is not a constituency of {CODE}."
    assert problems["6"] == f"document already registered to {first}"
    assert problems["7"] == "Must be at least 18 on polling day (2027-04-18)."
    assert problems["8"] == "same document as line 2"
    officer.screenshot(path=screenshot_dir / "import-rejected-rows.png", full_page=True)

    with officer.expect_download() as download_info:
        officer.click("main >> text=Download every rejected row (CSV)")
    download = download_info.value
    assert download.suggested_filename == f"{CODE}-rejected-rows.csv"
    rejected = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rejected[0] == ["line", "field", "message"]
    assert [tuple(row) for row in rejected[1:]] == shown
    # The report holds line numbers and reasons, nothing else of the file.
    assert not {"Lind", "Farouk", "Demir", "Rahimi", "Ruiz", "DE5550002"} & set(
        Path(download.path()).read_text(encoding="utf-8").replace(",", " ").split()
    )

    # Nothing was imported; now import the good rows and skip the rejected ones.
    _open_election(officer)
    assert "2 voters." in officer.inner_text("main .lead")
    officer.click("main >> text=Import a file")
    _upload(officer, csv_file, "import_valid")
    assert "Imported 2 voters." in _flashes(officer, "success")
    report = _report(officer)
    assert (report["Rows"], report["Imported"], report["Rejected rows"]) == ("7", "2", "5")
    assert re.fullmatch(r"[0-9a-f]{64}", report["Records' Merkle root"])
    by_station = officer.locator("main .import-report h3:text-is('By station') + table tbody tr")
    assert [r.replace("\t", " ") for r in by_station.all_inner_texts()] == ["DE-MUC-01 1", "FR-PAR-01 1"]
    officer.screenshot(path=screenshot_dir / "import-skip-invalid.png", full_page=True)
    _open_election(officer)
    assert "4 voters." in officer.inner_text("main .lead")
    assert _assigned(officer, "DE-MUC-01") == "1 / 3000"

    # 5. Exhibition: the admin publishes the provisional lists; import and enrolment close.
    _election_action(chief, "Start the exhibition period")
    assert "The election's phase is now: exhibition." in _flashes(chief, "success")
    _open_election(officer)
    assert "Enrol voters" not in officer.inner_text("main .actions")
    assert "Import a file" not in officer.inner_text("main .actions")

    # An objection, filed by the officer from the voter's page on behalf of a citizen...
    officer.click("main >> text=Find a voter")
    officer.fill("#q", "Berg")
    officer.press("#q", "Enter")
    berg = officer.locator("main table tbody tr").first.locator("code").inner_text()
    officer.click(f"main table >> text={berg}")
    # Found by their labels, as a screen reader finds them.
    officer.get_by_label("Grounds of the objection").fill(
        "Moved back home in 2026; no longer lives in Germany"
    )
    officer.get_by_label("Filed by (if not you)").fill("K. Neighbour")
    officer.get_by_role("button", name="File objection").click()
    officer.wait_for_selector("main p.flash.success")
    assert "Recorded." in _flashes(officer, "success")
    assert "Objection 1: filed" in officer.inner_text("main")

    # ...runs notice → reply on the Objections page...
    _open_election(officer)
    officer.click("main >> text=Objections")
    objection = officer.locator("main section.objection").first
    assert f"{berg} Berg, Jonas · filed" in objection.locator("h2").inner_text()
    assert "filed by K. Neighbour" in objection.inner_text()
    objection.get_by_label("How the voter was notified").fill("Registered letter and e-mail, 2027-03-01")
    objection.locator("button:text-is('Record notice')").click()
    officer.wait_for_selector("main p.flash.success")
    objection = officer.locator("main section.objection").first
    assert "· notified" in objection.locator("h2").inner_text()
    assert "Notified: Registered letter and e-mail, 2027-03-01" in objection.inner_text()
    objection.get_by_label("The voter's reply").fill("I moved back home in January 2026.")
    objection.locator("button:text-is('Record reply')").click()
    officer.wait_for_selector("main p.flash.success")
    assert "· replied" in officer.locator("main section.objection h2").first.inner_text()

    # ...and is decided (any holder of the register-voters permission may: here the admin).
    chief.goto(server["url"] + f"/elections/{CODE}/objections")
    objection = chief.locator("main section.objection").first
    assert "Reply: I moved back home in January 2026." in objection.inner_text()
    objection.get_by_label("Decision", exact=True).select_option("upheld")
    objection.get_by_label("Reason for the decision").fill(
        "The voter confirms living at home since January 2026"
    )
    objection.locator("button:text-is('Decide')").click()
    chief.wait_for_selector("main p.flash.success")
    objection = chief.locator("main section.objection").first
    assert "· decided (upheld)" in objection.locator("h2").inner_text()
    assert objection.locator("form").count() == 0  # nothing left to do
    chief.screenshot(path=screenshot_dir / "objection-decided.png", full_page=True)
    officer.goto(server["url"] + f"/elections/{CODE}/voters/{berg}")
    assert "cancelled" in officer.inner_text("main h1")
    assert "objection 1 upheld" in officer.inner_text("main ol")

    # 6. The admin freezes the list; the digest is shown on the election and station lists.
    _election_action(chief, "Freeze the list")
    assert "The election's phase is now: frozen." in _flashes(chief, "success")
    assert chief.locator("main .actions button.danger").count() == 0  # frozen is final
    frozen_digest = chief.inner_text("main p:has-text('Frozen list digest') code").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", frozen_digest)
    chief.screenshot(path=screenshot_dir / "election-frozen.png", full_page=True)

    _open_election(officer)
    officer.click("main tr:has(td .code:text-is('DE-BER-01')) >> text=Voter list")
    officer.wait_for_url(f"**/elections/{CODE}/stations/DE-BER-01/list")
    assert "phase: frozen · 1 voter" in officer.inner_text("main article")
    station_digest = officer.inner_text("main p:has-text('List digest') code").strip()
    rows = [r.split("\t") for r in officer.locator("main table.list tbody tr").all_inner_texts()]
    assert rows == [["1", "Al-Hassan", "Mohammed", "Ibrahim", "1985-03-12", first]]
    # The digest printed on the list is the one of the rows printed above it.
    entries = [
        {
            "reg_no": number.replace("-", ""),
            "family_name": family,
            "given_name": given,
            "father_name": father or None,
            "date_of_birth": born,
        }
        for _, family, given, father, born, number in rows
    ]
    assert station_digest == hashlib.sha256(rfc8785.dumps(entries)).hexdigest()
    officer.screenshot(path=screenshot_dir / "station-list-frozen.png", full_page=True)

    # 7. The audit log holds every step, without names or document numbers...
    audit = officer
    published = _entries(audit, server, "registration.list_published")
    final = next(e for e in published if e.get("code") == CODE and e["phase"] == "final")
    assert final["stations"]["DE-BER-01"] == station_digest
    assert final["digest"] == frozen_digest
    assert final["voters"] == 2  # Al-Hassan and Dubois: the duplicate and Berg are cancelled
    assert "chief (Administrator)" in final["head"]
    decided = _entries(audit, server, "registration.objection_decided")
    assert [(e["decision"], "chief (Administrator)" in e["head"]) for e in decided] == [("upheld", True)]
    # By station: Berlin saw one enrolment (the refused one left no trace); Munich, the
    # objection from filing to the cancellation it caused, newest first.
    assert _station_events(audit, server, "DE-BER-01") == ["registration.voter_enrolled"]
    assert _station_events(audit, server, "DE-MUC-01") == [
        "registration.voter_cancelled",
        "registration.objection_decided",
        "registration.objection_replied",
        "registration.objection_notified",
        "registration.objection_filed",
    ]
    audit.goto(server["url"] + "/audit/")
    offered = set(audit.locator("#type option").all_inner_texts())
    assert {
        "registration.election_loaded",
        "registration.election_status_changed",
        "registration.voter_enrolled",
        "registration.duplicate_flagged",
        "registration.duplicate_resolved",
        "registration.voter_cancelled",
        "registration.import_completed",
        "registration.objection_filed",
        "registration.objection_notified",
        "registration.objection_replied",
        "registration.objection_decided",
        "registration.list_published",
    } <= offered
    page_text = audit.content()
    assert [
        s for s in ("Al-Hassan", "Alhasan", ARABIC_NAME, "P1234567", "1985-03-12") if s in page_text
    ] == []
    audit.screenshot(path=screenshot_dir / "audit-log-registration.png")

    # ...and the bundle an observer downloads, up to the checkpoint the schedule signed,
    # verifies offline against the log key.
    subprocess.run(
        [server["ocv"], "audit", "checkpoint", "--reason", "schedule"],
        env=server["env"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    with audit.expect_download() as bundle_info:
        audit.click("main >> text=Download the bundle")
    bundle = tmp_path / "bundle.tar.gz"
    bundle_info.value.save_as(bundle)
    log_key = audit.request.get(server["url"] + "/audit/log-key").text().strip()
    verified = subprocess.run(
        [server["ocv_verify"], str(bundle), "--log-key", log_key, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["ok"] is True

    officer.context.close()
    chief.context.close()
