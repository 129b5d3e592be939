"""Rate limits: counted in the database for every worker, per client address behind the proxy
as far as gunicorn trusts it, and per registration number on the self-check."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from ocv.proxy import TrustedProxy
from ocv.ratelimits import DatabaseStorage
from registration import regno
from registration.models import Election
from tests.conftest import csrf_token
from tests.integration.test_cli import _free_port, _wait_for

ROOT = Path(__file__).resolve().parents[2]
SELF_CHECK = "/api/v1/public/registration?reg_no={}&date_of_birth=1990-01-01"


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_database_counters_are_shared_and_their_windows_end(own_database: Engine) -> None:
    one, two = (
        DatabaseStorage(database_url=_url(own_database)),
        DatabaseStorage(database_url=_url(own_database)),
    )
    try:
        assert [one.incr("k", 60), two.incr("k", 60), one.incr("k", 60)] == [1, 2, 3]
        assert two.get("k") == 3
        assert time.time() < two.get_expiry("k") <= time.time() + 60
        assert one.incr("short", 1) == 1
        time.sleep(1.1)
        assert two.get("short") == 0
        assert two.incr("short", 1) == 1  # a new window
        one.clear("k")
        assert two.get("k") == 0
        assert one.check()
    finally:
        one.engine.dispose()
        two.engine.dispose()


def test_concurrent_hits_are_each_counted_once(own_database: Engine) -> None:
    storages = [DatabaseStorage(database_url=_url(own_database)) for _ in range(4)]
    try:
        with ThreadPoolExecutor(4) as pool:
            hits = list(pool.map(lambda i: storages[i % 4].incr("busy", 60), range(40)))
        assert sorted(hits) == list(range(1, 41))
    finally:
        for storage in storages:
            storage.engine.dispose()


def _environ(peer: str, forwarded: str | None) -> dict[str, str]:
    environ = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    return environ


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "seen"),
    [
        (("127.0.0.1",), "127.0.0.1", "192.0.2.9", "192.0.2.9"),
        # The proxy appends the address it saw; what the client wrote before it is not believed.
        (("127.0.0.1",), "127.0.0.1", "10.0.0.1, 192.0.2.9", "192.0.2.9"),
        (("127.0.0.1",), "198.51.100.1", "192.0.2.9", "198.51.100.1"),  # not from the proxy
        (("127.0.0.1",), "127.0.0.1", "not-an-address", "127.0.0.1"),
        (("127.0.0.1",), "127.0.0.1", None, "127.0.0.1"),
        (("*",), "198.51.100.1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_forwarded_address_is_trusted_from_the_proxy_only(
    trusted: tuple[str, ...], peer: str, forwarded: str | None, seen: str
) -> None:
    environ = _environ(peer, forwarded)
    TrustedProxy(lambda env, start: [env["REMOTE_ADDR"].encode()], trusted)(environ, None)
    assert environ["REMOTE_ADDR"] == seen


def test_the_self_check_limits_each_number_from_any_address(client: FlaskClient, election: Election) -> None:
    number = regno.generate()
    statuses = []
    for i in range(6):  # the API and the page count together
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{i + 1}"
        statuses.append(client.get(SELF_CHECK.format(number)).status_code)
    for i in range(5):
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{i + 1}"
        token = csrf_token(client, "/check")
        page = client.post(
            "/check",
            data={"reg_no": regno.format(number), "date_of_birth": "1990-01-01", "csrf_token": token},
        )
        statuses.append(page.status_code)
    assert 429 not in statuses[:10], statuses
    assert statuses[10] == 429
    # Another number, from one of the same addresses, is not held up.
    assert client.get(SELF_CHECK.format(regno.generate())).status_code == 404


def _statuses(port: int, numbers: list[str], forwarded_for: str | None = None) -> Counter[int]:
    def ask(number: str) -> int:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{SELF_CHECK.format(number)}")  # noqa: S310
        if forwarded_for:
            request.add_header("X-Forwarded-For", forwarded_for)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our server)
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    with ThreadPoolExecutor(6) as pool:
        return Counter(pool.map(ask, numbers))


def test_limits_hold_across_gunicorn_workers_and_per_client_behind_the_proxy(
    own_database: Engine, tmp_path: Path
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "OCV_ENV": "production",
        "OCV_SECRET_KEY": "s" * 40,
        "OCV_KEY_SECRET": "test-key-secret-" + "y" * 32,
        "OCV_DATABASE_URL": _url(own_database),
        "OCV_INSTANCE_PATH": str(tmp_path),
        "OCV_BIND": f"127.0.0.1:{port}",
        "OCV_WORKERS": "3",
    }
    env.pop("OCV_RATELIMIT_STORAGE_URL", None)  # production's default: the database
    log = (tmp_path / "access.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/healthz") == 200
        first = _statuses(port, [regno.generate() for _ in range(24)])
        assert first == {404: 10, 429: 14}, first
        # Behind the proxy each client has its own count, and the proxy's own is spent.
        behind = _statuses(port, [regno.generate() for _ in range(12)], forwarded_for="192.0.2.50")
        assert behind == {404: 10, 429: 2}, behind
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    # The access log names the path, never the query with its date of birth.
    access = (tmp_path / "access.log").read_text()
    assert "/api/v1/public/registration" in access
    assert "1990-01-01" not in access
