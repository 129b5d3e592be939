"""Worker processes that end with the process they work for.

A pool's workers outlive a parent killed with SIGKILL: they go on with the chunks queued
for them and then block for good writing results nobody reads (each worker holds the read
end of the result pipe too). `die_with` ends a worker the moment its parent ends.
"""

from __future__ import annotations

import os
import select
import threading
import time

POLL_SECONDS = 0.5  # where there is no pidfd (not Linux): how often to look


def die_with(parent_pid: int) -> None:
    """End this process as soon as process `parent_pid` has ended (from a watching thread)."""
    try:
        pidfd = os.pidfd_open(parent_pid)
    except ProcessLookupError:
        os._exit(1)  # the parent is gone already
    except (AttributeError, OSError):
        threading.Thread(target=_poll, args=(parent_pid,), daemon=True, name="die-with-parent").start()
        return
    threading.Thread(target=_wait, args=(pidfd,), daemon=True, name="die-with-parent").start()


def _wait(pidfd: int) -> None:
    select.select([pidfd], [], [])  # readable once the process has ended
    os._exit(1)


def _poll(parent_pid: int) -> None:
    while True:
        time.sleep(POLL_SECONDS)
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            continue  # alive, as another user
