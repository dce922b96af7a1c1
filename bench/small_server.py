"""A small server: ``clearsignal serve`` over 10 M stored events inside a 1 GiB memory
cgroup, answering the dashboard and running every job, with its memory measured.

    .venv/bin/python bench/small_server.py [--events 1000000] [--copies 10] [--limit-mib 1024]
        [--engine 'max_threads=1&...'] [--data DIR]

1. In a process of its own, the simulator writes a shop's 30 days (``--events``) into a
   fresh embedded store, which is then grown ``--copies`` times inside ClickHouse (as
   bench/signals.py does: new visitor keys, the same behaviour).
2. ``clearsignal serve`` starts on that data in a cgroup v1 memory group limited to
   ``--limit-mib`` (needs root), with the small-server engine profile of
   docs/configuration.md in its DSN, in demo mode (for ``POST /demo/run-jobs``).
3. Idle: once it has been quiet for ``--idle-seconds`` (under 2% of a core: the jobs it
   starts with, a backfill over the stored events, are done), and the engine's own
   process (the profile's ``engine_idle_seconds``) has stopped for want of use, its
   private (``RssAnon``), file-backed (``RssFile``) and total resident memory: of the
   server's process and, while it runs, the engine's, summed.
4. Busy: an owner signs in and loads the dashboard for 7, 30 and 90 days, every job runs
   once (``/demo/run-jobs``: the analytics' rollup, sessions, signals, summaries,
   validation, consent log, cases, ...), and the dashboard is loaded again, then the
   analytics for 30 days, alone and compared and filtered; a sampler reads the process's memory every
   50 ms. Printed: each answer's status and time, the peaks, the cgroup's own peak and
   whether anything was killed, then idle memory once more, once quiet again.

Targets (issue: small servers): alive inside 1 GiB; peak private <= 800 MB; idle private
<= 128 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest import ORIGIN as INGEST_ORIGIN
from ingest import free_port, http_get, stop, wait_until
from process_family import Memory, Sampler, quiet, rest

from clearsignal.settings import AdminRole, AdminUser
from collector.admin.accounts import hash_password

CGROUPS = Path("/sys/fs/cgroup/memory")
SMALL_PROFILE = (
    "engine_idle_seconds=60&max_server_memory_usage=402653184&mark_cache_size=33554432&index_mark_cache_size=16777216"
    "&uncompressed_cache_size=0&max_thread_pool_size=64"
    "&background_merges_mutations_concurrency_ratio=1&max_threads=1"
    "&max_memory_usage=268435456&max_bytes_before_external_group_by=67108864"
    "&max_bytes_before_external_sort=67108864"
)
OWNER, PASSWORD = "owner", "small-server-bench-0001"
MIB = 1024 * 1024
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
GENERATE = """
import sys, time
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[1] + "/bench")
from pathlib import Path
from aggregator.store.client import open_store
from aggregator.store.migrations import migrate
from clearsignal.settings import Settings, StoreSettings
from signals import EVENTS_PER_VISITOR, events, grow
from simulator.simulation import simulate
directory, wanted, copies = Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
settings = Settings(data_dir=directory / "data",
                    store=StoreSettings(dsn=f"chdb://{directory}/clickhouse", database="clearsignal"))
store = open_store(settings.dsn, settings.store.database)
migrate(store)
started = time.perf_counter()
simulate(store, settings, max(1, wanted // EVENTS_PER_VISITOR), 30, 3)
grow(store, copies)
print(f"{events(store)} events in {time.perf_counter() - started:.0f} s", flush=True)
store.close()
"""


class Client:
    """HTTP with a cookie jar, against the bench's own server."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        jar = urllib.request.HTTPCookieProcessor()
        self.opener = urllib.request.build_opener(jar, NoRedirect())

    def call(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str, float]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(
            self.origin + path, data=data, headers={"Origin": self.origin}
        )
        started = time.perf_counter()
        try:
            with self.opener.open(request, timeout=900) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        return status, body.decode("utf-8", "replace"), time.perf_counter() - started


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def cgroup_value(group: Path, name: str) -> int:
    return int((group / name).read_text().split()[0])


def oom_kills(group: Path) -> int:
    for line in (group / "memory.oom_control").read_text().splitlines():
        if line.startswith("oom_kill "):
            return int(line.split()[1])
    return 0


def generate(directory: Path, events: int, copies: int) -> None:
    repo = str(Path(__file__).resolve().parent.parent)
    print(f"simulating {events:,} events, grown {copies} times ...", flush=True)
    done = subprocess.run(
        [sys.executable, "-c", GENERATE, repo, str(directory), str(events), str(copies)],
        check=True,
        capture_output=True,
        text=True,
    )
    print(f"stored: {done.stdout.strip()}", flush=True)


def serve_env(directory: Path, engine: str) -> dict[str, str]:
    owner = AdminUser(
        username=OWNER,
        role=AdminRole.SITE_OWNER,
        password_hash=hash_password(PASSWORD, ln=10),
        sites=["demo"],
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLEARSIGNAL_")}
    env.update(
        CLEARSIGNAL_DATA_DIR=str(directory / "data"),
        CLEARSIGNAL_STORE__DSN=f"chdb://{directory}/clickhouse?{engine}".rstrip("?"),
        CLEARSIGNAL_DEMO="true",
        CLEARSIGNAL_ADMIN__SCRYPT_LN="10",
        CLEARSIGNAL_ADMIN__USERS=json.dumps([owner.model_dump(mode="json")]),
    )
    return env


# Visitors as a site's snippet sends them, from public addresses behind the loopback proxy
# (X-Forwarded-For): a server that has taken events holds the country data and the
# user-agent rules, and its idle memory should say so.
VISITORS = [
    ("5.9.12.34", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
    ("2001:4860:4860::8888", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) "
     "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"),
    ("81.2.69.160", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
]  # fmt: skip


def take_events(origin: str) -> list[str]:
    """A pageview from each of ``VISITORS``; what the collector answered."""
    lines = []
    for number, (address, agent) in enumerate(VISITORS):
        event = {"id": f"{number:016x}", "type": "pageview", "ts": int(time.time() * 1000),
                 "url": f"{INGEST_ORIGIN}/bench/{number}", "ref": None}  # fmt: skip
        request = urllib.request.Request(
            origin + "/api/events",
            data=json.dumps({"site": "demo", "visitor": None, "events": [event]}).encode(),
            headers={
                "Origin": INGEST_ORIGIN,
                "Content-Type": "application/json",
                "User-Agent": agent,
                "X-Forwarded-For": address,
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            lines.append(f"event from {address}: {response.status}")
    return lines


def busy(client: Client) -> list[str]:
    """Events from three visitors, sign in, the dashboard thrice, every job, the dashboard
    again: what each answered."""
    lines = take_events(client.origin)
    status, page, _ = client.call("/admin/login")
    found = CSRF.search(page)
    if status != 200 or found is None:
        raise SystemExit(f"no sign-in form: {status}")
    status, _, _ = client.call(
        "/admin/login", {"csrf": found[1], "username": OWNER, "password": PASSWORD}
    )
    lines.append(f"sign in: {status}")
    for days in ("7", "30", "90"):
        status, _, seconds = client.call(f"/admin/dashboard?site=demo&days={days}")
        lines.append(f"dashboard, {days:>2} days: {status} in {seconds:6.2f} s")
    status, page, seconds = client.call("/demo/run-jobs?back=/demo/", {})
    ran = re.findall(r'<th scope="row">([^<]+)</th><td class="(\w+)">', page)
    failed = [job for job, verdict in ran if verdict != "ok"]
    lines.append(
        f"every job once: {status} in {seconds:6.1f} s; {len(ran)} jobs, failed: {failed or 'none'}"
    )
    rows = re.findall(
        r'<th scope="row">([^<]+)</th><td class="(\w+)">[^<]*</td><td>([^<]+)</td>'
        r"<td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>",
        page,
    )
    for job, verdict, took, said in rows:
        lines.append(f"  {job:<22} {took:>9}  {said[:160] if verdict != 'ok' else ''}")
    status, _, seconds = client.call("/admin/dashboard?site=demo&days=30")
    lines.append(f"dashboard, 30 days, after the jobs: {status} in {seconds:6.2f} s")
    for query in ("period=30d", "period=30d&compare=previous&country=DE"):
        status, _, seconds = client.call(f"/admin/analytics?site=demo&{query}")
        lines.append(f"analytics, {query}: {status} in {seconds:6.2f} s")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--limit-mib", type=int, default=1024)
    # Over a minute: the server gives back what its reads held within one (JobRunner).
    parser.add_argument("--idle-seconds", type=float, default=70)
    parser.add_argument(
        "--engine", default=SMALL_PROFILE, help="the DSN's engine settings ('' for the defaults)"
    )
    parser.add_argument("--data", type=Path, help="keep the data here, and reuse it next time")
    args = parser.parse_args()
    if not os.access(CGROUPS, os.W_OK):
        raise SystemExit(f"needs the cgroup v1 memory controller at {CGROUPS}, as root")
    directory = args.data or Path(tempfile.mkdtemp(prefix="clearsignal-small-"))
    group = CGROUPS / f"clearsignal-bench-{os.getpid()}"
    process = None
    try:
        if not (directory / "clickhouse").exists():
            generate(directory, args.events, args.copies)
        group.mkdir()
        (group / "memory.limit_in_bytes").write_text(str(args.limit_mib * MIB))
        port = free_port()
        command = [str(Path(sys.executable).with_name("clearsignal")), "serve", "--port", str(port)]
        enter = ["sh", "-c", f'echo $$ > {group}/cgroup.procs && exec "$@"', "sh"]
        log = (directory / "serve.log").open("wb")
        process = subprocess.Popen(
            [*enter, *command],
            env=serve_env(directory, args.engine),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        origin = f"http://127.0.0.1:{port}"
        wait_until(lambda: http_get(origin + "/readyz")[0] == 200, "serve", process, 300)
        waited = quiet(process, args.idle_seconds)
        if process.poll() is not None:
            print(
                f"serve DIED while idle (status {process.returncode}); the cgroup's OOM kills: "
                f"{oom_kills(group)}, its peak {cgroup_value(group, 'memory.max_usage_in_bytes') / MIB:.0f} MiB"
            )
            return 1
        rested = rest(process.pid, args.engine)
        idle = Memory.of(process.pid)
        print(f"memory cgroup limit: {args.limit_mib} MiB; engine: {args.engine or 'defaults'}")
        print(f"idle, quiet after {waited:4.0f} s, {rested}: {idle}")
        sampler = Sampler(process.pid)
        watching = threading.Thread(target=sampler.run, daemon=True)
        watching.start()
        for line in busy(Client(origin)):
            print("  " + line, flush=True)
        sampler.running = False
        watching.join()
        alive = process.poll() is None
        print(f"peak while busy:      {sampler.peak}")
        print(
            f"cgroup: peak {cgroup_value(group, 'memory.max_usage_in_bytes') / MIB:.0f} MiB "
            f"(page cache included), limit hit {cgroup_value(group, 'memory.failcnt')} times, "
            f"OOM kills {oom_kills(group)}; serve {'alive' if alive else 'DEAD'}"
        )
        again = None
        if alive:
            waited = quiet(process, args.idle_seconds)
            rested = rest(process.pid, args.engine)
            again = Memory.of(process.pid)
            print(f"idle again, quiet after {waited:4.0f} s, {rested}: {again}")
        verdicts = {
            "alive inside the limit": alive,
            "peak private <= 800 MB": sampler.peak.anon * 1024 <= 800e6,
            "idle private <= 128 MB": max(idle.anon, again.anon if again else 0) * 1024 <= 128e6,
        }
        for goal, met in verdicts.items():
            print(f"target {goal}: {'met' if met else 'MISSED'}")
        return 0
    finally:
        if process is not None:
            stop(process)
        if group.exists():
            group.rmdir()
        if args.data is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
