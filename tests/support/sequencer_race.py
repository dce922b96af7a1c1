"""A sequencer in a process of its own, for tests of two sequencers at once.

Run as a script, never imported by product code::

    python -m tests.support.sequencer_race DSN DATABASE LOG_KEY START_AT

Waits until the wall clock reads START_AT (so two processes begin together), then runs
the sequencer in small batches until nothing is pending, bypassing the job lease on
purpose: only the log's fence stands between two such processes. Prints one JSON line:
its runs, the batches it was fenced off, and the leaves it integrated.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from aggregator.store.client import open_store
from consent.errors import LogFencedError
from consent.log_keys import LogKeys
from consent.sequencer import Sequencer


def main(argv: list[str]) -> int:
    dsn, database, log_key, start_at = argv
    store = open_store(dsn, database, create=False)
    sequencer = Sequencer(store, LogKeys.load("clearsignal.test/log", Path(log_key)), batch_size=25)
    runs = fenced = integrated = 0
    time.sleep(max(0.0, float(start_at) - time.time()))
    while True:
        runs += 1
        try:
            run = sequencer.run_once()
        except LogFencedError:
            fenced += 1
            continue
        integrated += run.integrated
        if run.integrated == 0:
            break
    store.close()
    print(json.dumps({"runs": runs, "fenced": fenced, "integrated": integrated}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
