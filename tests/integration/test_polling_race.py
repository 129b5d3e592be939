"""Real concurrent transactions: a thousand attempts to check one voter in, from many
threads at two stations of an any-station election; exactly one succeeds, every other
one is told where and when the voter was marked.

On PostgreSQL the attempts run at once and the marked register's unique constraint
decides; SQLite admits one writer at a time, so there they queue at its lock instead."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import sessionmaker

from audit import sequencer
from audit.models import Entry
from ocv.acting import Actor
from ocv.errors import OCVError
from ocv.settings import Settings
from polling import service as polling
from polling.errors import AlreadyVoted
from polling.models import Mark
from registration import service as registry
from tests.factories import OPERATOR
from tests.integration.test_registration import demo_definition, voter

# Fewer threads than the engine pools connections (5 + 10), so none waits for one.
ATTEMPTS, THREADS = 1000, 10
STATIONS = ("DE-BER-01", "DE-MUC-01")
OPENING = {"ballots": {"BS-EU": 2000, "BS-ME": 10, "BS-HOME": 10}, "seals": ["S-1"], "officials": ["PO"]}


def test_one_voter_is_marked_once_across_stations_and_threads(
    own_database: Engine, settings: Settings
) -> None:
    factory = sessionmaker(bind=own_database)
    with factory() as session, session.begin():
        election = registry.load_election(
            session, OPERATOR, demo_definition(code="RACE", voting_rule="any_station")
        )
        registry.advance(session, OPERATOR, election, "registration_open")
        reg_no = registry.enrol(session, settings, OPERATOR, election, voter()).reg_no
        registry.advance(session, OPERATOR, election, "exhibition")
        registry.advance(session, OPERATOR, election, "frozen")
        for station in STATIONS:
            polling.open_station(session, OPERATOR, "RACE", station, OPENING)
    start = threading.Barrier(THREADS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def desk(worker: int) -> None:
        station = STATIONS[worker % 2]
        clerk = Actor.operator(f"clerk-{worker}")
        start.wait(timeout=30)
        for _ in range(ATTEMPTS // THREADS):
            try:
                with factory() as session, session.begin():
                    polling.check_in(session, clerk, "RACE", station, reg_no)
                outcome = "marked"
            except AlreadyVoted as refused:
                outcome = "already" if refused.details["station"] in STATIONS else "wrong station"
            except OCVError as error:  # anything else is a failure of the rule
                outcome = f"error: {error.message}"
            with lock:
                outcomes[outcome] += 1

    threads = [threading.Thread(target=desk, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == Counter({"marked": 1, "already": ATTEMPTS - 1})
    with factory() as session, session.begin():
        sequencer.integrate(session)
        assert session.scalar(select(func.count()).select_from(Mark)) == 1
        checked_in = select(func.count()).where(Entry.type == "polling.voter_checked_in")
        assert session.scalar(checked_in) == 1  # no entry without its change
