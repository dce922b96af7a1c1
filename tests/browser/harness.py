"""What the browser tests drive and read: the collector subprocess, and one visit.

``Collector`` is the running collector (tests/browser/server.py) with the store it
writes. ``Visit`` is one test's browser context and page, with every request the page
sent to /api/, its ``[clearsignal]`` debug lines, and a run token in its URLs that
keeps its stored events apart from other tests'.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aggregator.store.client import Store
from clearsignal.settings import DEMO_NOTICE_TEXT
from tests.support.server_events import LINK_SECRET

CHROMIUM = "/usr/bin/chromium"
SERVER = Path(__file__).resolve().with_name("server.py")
REPO = Path(__file__).resolve().parents[2]
SITE_HOST = "shop.test"
NOTICE_VERSION = "1"
# A desktop Chrome: the collector drops events whose User-Agent says HeadlessChrome.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # shop.test is the site: an origin that is not local, on the collector's port.
    f"--host-resolver-rules=MAP {SITE_HOST} 127.0.0.1",
    # For the browser itself too, not only the pages: a beacon sent on pagehide may
    # leave after the page (and the context's user-agent override) is gone.
    f"--user-agent={USER_AGENT}",
]
# What the fixture pages put on the snippet's tag unless a test says otherwise.
DEFAULT_TAG = {
    "data-site": "demo",
    "data-debug": "",
    "data-notice": NOTICE_VERSION,
    # navigator.webdriver is true under Playwright; this lets the snippet send.
    "data-allow-automation": "",
}
# A browser id as a returning visitor's browser holds it after an earlier grant. The
# collector has no grant for it, so it stores such events under the measurement
# purpose: enough to test what the snippet captures, without the consent flow.
RETURNING_ID = "UmV0dXJuaW5nVmlzaXRvcg"
RETURNING_VISITOR = f"localStorage.setItem('cs_id', '{RETURNING_ID}')"
# A browser without the Navigation API, as the snippet sees it.
NO_NAVIGATION_API = "Object.defineProperty(window, 'navigation', { value: undefined })"
STORED_COLUMNS = "type, name, url, path, props, element, identity, visitor_key, event_id"

Rows = list[dict[str, Any]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def site_settings(site_id: str, origin: str, *, strict: bool = False) -> dict[str, Any]:
    return {
        "id": site_id,
        "name": f"Browser test site {site_id}",
        "allowed_origins": [origin],
        "strict": strict,
        "notice": {"uri": f"{origin}/privacy", "version": NOTICE_VERSION, "text": DEMO_NOTICE_TEXT},
        "touchpoints": {"link_secret": LINK_SECRET},
    }


@dataclass
class Collector:
    """The collector subprocess and the store it writes."""

    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    store: Store
    env: dict[str, str]
    data_dir: Path

    @property
    def origin(self) -> str:
        """The site origin the browser uses: a host name, not a local address."""
        return f"http://{SITE_HOST}:{self.port}"

    @property
    def loopback(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def wait_until_up(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the collector exited while starting:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.loopback}/readyz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the collector did not answer in {timeout:.0f} s:\n{self.log_tail()}")

    def _call(self, path: str, body: dict[str, Any] | None = None, timeout: float = 10) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.loopback}{path}", data=data)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def inject_faults(self, path: str, statuses: list[int], clear: bool = False) -> None:
        """The next requests to ``path`` get these statuses, one each."""
        self._call("/_test/faults", {"path": path, "statuses": statuses, "clear": clear})

    def received(self) -> Rows:
        """Every POST to /api/ the collector received, with the status it answered."""
        received: Rows = self._call("/_test/received")
        return received

    def run_jobs(self, *names: str) -> None:
        """The spool written out, then those jobs run once by the collector (which holds
        the job lease); with no names, only the spool."""
        outcomes = self._call("/_test/run-jobs", {"names": list(names)}, timeout=300)
        failed = [o for o in outcomes if o["status"] != "ok"]
        assert not failed, failed

    def simulate(self, site: str, visitors: int, days: int, seed: int = 1) -> None:
        """``clearsignal simulate``: a simulated history of ``site`` in the collector's store."""
        self.clearsignal(
            "simulate", "--site", site, "--visitors", str(visitors), "--days", str(days),
            "--seed", str(seed),
        )  # fmt: skip

    def decide(self, site: str, browser_id: str, granted: bool) -> dict[str, Any]:
        """A consent decision for both purposes (granted or withdrawn), as the banner on
        the site's page posts it; the receipt answered."""
        body = {
            "site": site, "visitor": browser_id, "notice_version": "1", "method": "banner",
            "purposes": {"analytics": granted, "personalization": granted},
        }  # fmt: skip
        request = urllib.request.Request(
            f"{self.loopback}/api/consent",
            data=json.dumps(body).encode(),
            headers={"Origin": self.origin, "User-Agent": USER_AGENT, "Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    def clearsignal(self, *args: str, timeout: float = 300) -> str:
        """A ``clearsignal`` command on the collector's store and keys; a data directory
        of its own keeps it off the running collector's spool. Returns what it printed."""
        work = self.data_dir.parent / f"command-{uuid.uuid4().hex[:8]}"
        work.mkdir()
        env = {
            **self.env,
            "CLEARSIGNAL_DATA_DIR": str(work),
            "CLEARSIGNAL_SITE_KEYS_DIR": str(self.data_dir / "keys" / "sites"),
            "CLEARSIGNAL_SIGNING_KEY_PATH": str(self.data_dir / "keys" / "log.key"),
        }
        command = [sys.executable, "-m", "clearsignal", *args]
        done = subprocess.run(
            command, cwd=work, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}"
        return done.stdout

    def everything_kept(self) -> str:
        """Every row of every table of the collector's database, and every file of its
        data directory (the spool, keys, the log), as one text to search."""
        tables = self.store.rows(
            "SELECT name FROM system.tables WHERE database = currentDatabase() "
            "AND engine NOT IN ('View', 'MaterializedView')"
        )
        parts: list[str] = []
        for (name,) in tables:
            rows = self.store.rows(f"SELECT toString(tuple(*)) FROM `{name}`")
            parts.extend(row[0] for row in rows)
        for path in self.data_dir.rglob("*"):
            if path.is_file():
                parts.append(path.read_bytes().decode("utf-8", "replace"))
        return "\n".join(parts)

    def stored(self, run: str, site: str = "demo") -> Rows:
        return self.store.dicts(
            f"SELECT {STORED_COLUMNS} FROM events FINAL "
            "WHERE site = {site:String} AND position(url, {run:String}) > 0 ORDER BY ts",
            {"site": site, "run": f"/{run}/"},
        )

    def visitor_events(self, visitor_key: str) -> Rows:
        """One visitor's stored events on any page, with their times."""
        return self.store.dicts(
            f"SELECT {STORED_COLUMNS}, ts FROM events FINAL "
            "WHERE visitor_key = {key:String} ORDER BY ts",
            {"key": visitor_key},
        )


@dataclass
class SentRequest:
    """A POST the page sent to /api/, as the browser reported it."""

    path: str
    resource_type: str  # "fetch", or "ping" for sendBeacon
    body: dict[str, Any]
    status: int | None = None


@dataclass
class Visit:
    """One test's browser context and page, with what the page sent and logged."""

    collector: Collector
    context: Any
    page: Any
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    requests: list[SentRequest] = field(default_factory=list)
    debug: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)  # every URL the context requested
    console_errors: list[str] = field(default_factory=list)  # CSP violations show here

    def url(self, fixture: str, origin: str | None = None, **tag: str | None) -> str:
        """A fixture page's URL; ``tag`` sets (or, with None, removes) snippet attributes:
        ``data_strict=""`` adds ``data-strict``."""
        attributes = dict(DEFAULT_TAG)
        for name, value in tag.items():
            key = name.replace("_", "-")
            if value is None:
                attributes.pop(key, None)
            else:
                attributes[key] = value
        query = urlencode(attributes)
        return f"{origin or self.collector.origin}/fixtures/{self.run}/{fixture}?{query}"

    def open(self, fixture: str, origin: str | None = None, **tag: str | None) -> None:
        self.page.goto(self.url(fixture, origin, **tag))
        self.page.wait_for_function("() => window.clearsignal !== undefined")

    def leave(self) -> None:
        """Navigate away: the page gets pagehide and hands its queue to sendBeacon."""
        self.page.goto(f"{self.collector.origin}/healthz")

    def idle(self, milliseconds: float) -> None:
        """Wait while Playwright delivers the page's events (requests, console lines)."""
        self.page.wait_for_timeout(milliseconds)

    def sent(self, path: str = "/api/events") -> list[SentRequest]:
        return [request for request in self.requests if request.path == path]

    def sent_events(self) -> Rows:
        return [event for request in self.sent() for event in request.body.get("events", [])]

    def reasons(self) -> list[str]:
        """The reason of each debug line: 'event', 'no_consent', 'http', ..."""
        return [line.split()[1] for line in self.debug if len(line.split()) > 1]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout:.0f} s; sent: {self.requests!r}; "
                    f"debug: {self.debug!r}; collector log:\n{self.collector.log_tail()}"
                )
            self.idle(100)

    def wait_sent(self, condition: Callable[[Rows], bool], timeout: float = 15) -> Rows:
        self.wait_for(lambda: condition(self.sent_events()), timeout)
        return self.sent_events()

    def received(self) -> Rows:
        """What the collector received from this test's pages (beacons after pagehide too)."""
        return [entry for entry in self.collector.received() if f"/{self.run}/" in entry["body"]]

    def received_events(self) -> Rows:
        return [event for entry in self.received() for event in json.loads(entry["body"])["events"]]

    def stored(
        self,
        condition: Callable[[Rows], bool] = bool,
        timeout: float = 20,
        site: str = "demo",
        visitor_key: str | None = None,
    ) -> Rows:
        """This test's stored events once ``condition`` holds for them (else as they are);
        with ``visitor_key``, that visitor's events on any page (the demo shop's addresses
        carry no run token)."""

        def read() -> Rows:
            if visitor_key is not None:
                return self.collector.visitor_events(visitor_key)
            return self.collector.stored(self.run, site)

        deadline = time.monotonic() + timeout
        rows = read()
        while not condition(rows) and time.monotonic() < deadline:
            self.idle(250)
            rows = read()
        return rows

    def settled(self) -> None:
        """Wait until the page's funnel-step lookup and batch timer have run and every
        request it sent has been answered."""
        self.idle(2200)
        self.wait_for(lambda: all(request.status for request in self.requests))

    def storage(self) -> dict[str, str]:
        return dict(self.page.evaluate("() => ({ ...localStorage })"))


def on_request(visit: Visit, request: Any) -> None:
    visit.urls.append(request.url)
    if "/api/" not in request.url or request.method != "POST":
        return
    raw = request.post_data
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = {"unparsed": raw}
    path = "/" + request.url.split("/", 3)[3].split("?")[0]
    visit.requests.append(SentRequest(path, request.resource_type, body))


def on_response(visit: Visit, response: Any) -> None:
    request = response.request
    for sent in visit.requests:
        if sent.status is None and request.post_data and sent.body == json.loads(request.post_data):
            sent.status = response.status
            return


def types(rows: Rows) -> list[str]:
    return [row["type"] for row in rows]
