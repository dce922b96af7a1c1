"""How soon the analytics' "visitors in the last 5 minutes" counts an event: from the 202 of
``POST /api/events`` to ``GET /api/stats/realtime`` counting it, over real HTTP.

    .venv/bin/python bench/realtime.py [--rounds 5]

``clearsignal serve`` starts on a fresh data directory with a Stats API key made by
``clearsignal keys create``. Each round, k new visitors (the demo site's k; fewer would be
"fewer than k", published as null) each send a pageview; the Stats API is then asked
every 100 ms until the count has grown by them. Printed: each round's delay, and the
slowest. Target (issue: fast answers): within 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import free_port, http_get, stop, wait_until

ORIGIN = "http://127.0.0.1:8000"  # the demo site's origin, whatever port serves it
K = 10


def post_pageviews(base: str, round_number: int) -> None:
    for visitor in range(K):
        user_agent = (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/131.0.{round_number}.{visitor} Safari/537.36"
        )
        event = {"id": secrets.token_hex(8), "type": "pageview",
                 "ts": int(time.time() * 1000), "url": f"{ORIGIN}/demo/"}  # fmt: skip
        body = json.dumps({"site": "demo", "visitor": None, "events": [event]}).encode()
        request = urllib.request.Request(
            f"{base}/api/events", body,
            {"Origin": ORIGIN, "User-Agent": user_agent, "Content-Type": "text/plain"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 202, answer.status


def realtime(base: str, key: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/stats/realtime?site=demo", headers={"Authorization": f"Bearer {key}"}
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        return int(json.load(answer)["visitors"] or 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="cs-realtime-")) / "data"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLEARSIGNAL_")}
    env.update(
        CLEARSIGNAL_DATA_DIR=str(data_dir), CLEARSIGNAL_LIMITS__STATS_PER_KEY_PER_SECOND="20"
    )
    clearsignal = str(Path(sys.executable).with_name("clearsignal"))
    subprocess.run([clearsignal, "migrate"], env=env, check=True, capture_output=True)
    made = subprocess.run(
        [clearsignal, "keys", "create", "demo", "--scope", "stats", "--name", "bench"],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    found = re.search(r"cs_sk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", made.stdout)
    if found is None:
        raise SystemExit(f"no key in: {made.stdout}")
    key = found[0]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = data_dir.parent / "serve.log"
    command = [clearsignal, "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: http_get(f"{base}/readyz")[0] == 200, "clearsignal serve", process, 120)
        delays = []
        for round_number in range(args.rounds):
            before = realtime(base, key)
            posted = time.perf_counter()
            post_pageviews(base, round_number)
            while realtime(base, key) < before + K:
                if time.perf_counter() - posted > 60:
                    raise SystemExit("not counted within 60 s")
                time.sleep(0.1)
            delays.append(time.perf_counter() - posted)
            print(
                f"round {round_number + 1}: counted {delays[-1]:.2f} s after the posts", flush=True
            )
        print(f"slowest: {max(delays):.2f} s (target 10 s)")
    finally:
        stop(process)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
