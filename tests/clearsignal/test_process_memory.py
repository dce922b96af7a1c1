"""Memory freed after a burst goes back to the system: glibc's heap, trimmed. A server
loads no data-frame library its store's clients would import for nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from clearsignal.process_memory import DATA_FRAME_LIBRARIES
from tests.support.senders import Senders, wait_for
from tests.support.serve import Serve

# In a process of its own: ~300 MB in blocks glibc serves from its heap (below its mmap
# threshold), all freed but the last, which keeps the heap from shrinking by itself.
BURST = """
import re, sys
from clearsignal.process_memory import trim_heap

def private_kb():
    status = open('/proc/self/status').read()
    return int(re.search(r'RssAnon:\\s+(\\d+)', status).group(1))

blocks = [bytearray(64 * 1024) for _ in range(4800)]
keep = bytearray(64 * 1024)
del blocks
freed = private_kb()
trimmed = trim_heap()
print(freed, private_kb(), trimmed)
"""


def test_the_heap_freed_after_a_burst_goes_back_to_the_system() -> None:
    done = subprocess.run([sys.executable, "-c", BURST], check=True, capture_output=True, text=True)
    freed, after, trimmed = done.stdout.split()
    assert trimmed == "True"
    # Freed but kept by the allocator, then returned: well over 200 MB less.
    assert int(freed) - int(after) > 200_000, done.stdout


def test_a_server_that_took_events_and_ran_its_jobs_loads_no_data_frame_library(
    tmp_path: Path,
) -> None:
    serve = Serve(tmp_path / "data")
    serve.start()  # its jobs run once as it starts, writing their runs (DateTime columns)
    try:
        with Senders(serve.port) as senders:
            wait_for(lambda: senders.count() >= 100, 60, "100 acknowledged events")
        wait_for(lambda: serve.readyz()[1].get("spool_backlog_bytes") == 0, 60, "the events stored")
        assert serve.process is not None
        maps = Path(f"/proc/{serve.process.pid}/maps").read_text()
    finally:
        serve.stop()
    loaded = [name for name in DATA_FRAME_LIBRARIES if f"/site-packages/{name}/" in maps]
    assert loaded == []
