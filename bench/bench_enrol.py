"""Enrolment through the JSON API, on PostgreSQL with gunicorn, beside the rate of a
plain round trip (GET /healthz) through the same server in the same run.

    python -m bench.bench_enrol --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres
                                [--voters 3000] [--clients 16] [--workers 4]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import report
from ocv.demo import sample_voters
from tests.scratch import drop_database, fresh_database

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ELECTION = ROOT / "registration" / "demo" / "election.json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _requests(
    port: int, method: str, path: str, bodies: list[bytes | None], headers: dict[str, str]
) -> list[int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    statuses = []
    for body in bodies:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)
    connection.close()
    return statuses


def _rate(
    port: int, method: str, path: str, bodies: list[bytes | None], headers: dict[str, str], clients: int
) -> tuple[float, list[int]]:
    shares = [bodies[i::clients] for i in range(clients)]
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda share: _requests(port, method, path, share, headers), shares))
    elapsed = time.perf_counter() - start
    return len(bodies) / elapsed, [s for r in results for s in r]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pg",
        default=os.environ.get(
            "OCV_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--voters", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    database = fresh_database(args.pg, f"ocv_bench_enrol_{os.getpid()}")
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        env = {
            **os.environ,
            "OCV_ENV": "production",
            "OCV_SECRET_KEY": secrets.token_urlsafe(40),
            "OCV_KEY_SECRET": secrets.token_urlsafe(40),
            "OCV_DATABASE_URL": database,
            "OCV_INSTANCE_PATH": tmp,
            "OCV_BIND": f"127.0.0.1:{port}",
            "OCV_WORKERS": str(args.workers),
            "OCV_JSON_LOGS": "0",
        }

        def ocv(*command: str, stdin: str = "") -> str:
            return subprocess.run(
                [str(BIN / "ocv"), *command], env=env, input=stdin, text=True, check=True, capture_output=True
            ).stdout.strip()

        ocv("db", "upgrade")
        ocv("election", "load", str(ELECTION))
        ocv("election", "advance", "GE2027", "open")
        ocv(
            "users",
            "create",
            "bench",
            "--role",
            "registration_officer",
            "--password-stdin",
            stdin="enrolment speed trial 123\n",
        )
        token = ocv("users", "token", "bench")
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-c",
                str(ROOT / "config/gunicorn.conf.py"),
                "--access-logfile",
                "/dev/null",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    _requests(port, "GET", "/healthz", [None], {})
                    break
                except OSError:
                    time.sleep(0.1)
            definition = json.loads(ELECTION.read_text(encoding="utf-8"))
            bodies: list[bytes | None] = [
                json.dumps(v).encode() for v in sample_voters(definition, args.voters, seed=4242)
            ]
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            base, _ = _rate(port, "GET", "/healthz", [None] * args.voters, {}, args.clients)
            rate, statuses = _rate(
                port, "POST", "/api/v1/elections/GE2027/voters", bodies, headers, args.clients
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    created = statuses.count(201)
    print(
        f"{created} of {len(statuses)} enrolled (201); others: "
        f"{sorted({s: statuses.count(s) for s in set(statuses) if s != 201}.items())}"
    )
    report(
        f"enrolment via API, PostgreSQL, {args.workers} workers",
        rate,
        "voters/s",
        base,
        rate / base,
        "≥ 200/s; baseline = GET /healthz round trips",
    )
    drop_database(database)


if __name__ == "__main__":
    main()
