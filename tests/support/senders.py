"""Clients posting event batches to a collector until stopped, keeping what was
acknowledged: for tests of what a collector stores through crashes and outages."""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
import uuid
from typing import Any

from tests.support.site_requests import CHROME, ORIGIN

__all__ = ["EVENTS_PER_BATCH", "Senders", "assert_exactly_once", "post_consent", "wait_for"]

EVENTS_PER_BATCH = 10


class Senders:
    """Threads posting 10-event batches until stopped; they keep the ids that got 202.

    With ``visitors``, each batch names one of them (round robin) as its browser id, and
    ``sent_by`` records which browser id each acknowledged event was sent with."""

    def __init__(self, port: int, threads: int = 3, visitors: list[str] | None = None) -> None:
        self.port = port
        self.visitors = visitors
        self.acknowledged: set[str] = set()
        self.sent_by: dict[str, str] = {}
        self.refused: list[str] = []
        self.failed_connections = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._prefix = uuid.uuid4().hex[:6]
        self._threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)
        ]

    def __enter__(self) -> Senders:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _batch(self) -> list[str]:
        with self._lock:
            return [f"{self._prefix}{next(self._ids):010x}" for _ in range(EVENTS_PER_BATCH)]

    def _run(self, number: int) -> None:
        self._send_until_stopped(number, None)

    def _send_until_stopped(
        self, number: int, connection: http.client.HTTPConnection | None
    ) -> None:
        for request in itertools.count():
            if self._stop.is_set():
                break
            ids = self._batch()
            now = int(time.time() * 1000)
            visitor = self.visitors[request % len(self.visitors)] if self.visitors else None
            body = json.dumps(
                {
                    "site": "demo",
                    "visitor": visitor,
                    "events": [
                        {"id": i, "type": "pageview", "ts": now, "url": f"{ORIGIN}/p/{i[-2:]}"}
                        for i in ids
                    ],
                }
            )
            headers = {
                "Content-Type": "text/plain",
                "Origin": ORIGIN,
                "User-Agent": CHROME,
                "X-Forwarded-For": f"10.{number}.{request // 256 % 256}.{request % 256}",
            }
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                connection.request("POST", "/api/events", body, headers)
                response = connection.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException):
                # The server is gone (killed), perhaps in the middle of its answer: the
                # browser would retry; we send new ones.
                if connection is not None:
                    connection.close()
                connection = None
                with self._lock:
                    self.failed_connections += 1
                time.sleep(0.05)
                continue
            with self._lock:
                if response.status == 202 and json.loads(answer)["accepted"] == len(ids):
                    self.acknowledged.update(ids)
                    if visitor is not None:
                        self.sent_by.update(dict.fromkeys(ids, visitor))
                else:
                    self.refused.append(f"{response.status} {answer[:200]!r}")
            time.sleep(0.002)
        if connection is not None:
            connection.close()

    def count(self) -> int:
        with self._lock:
            return len(self.acknowledged)


def wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def assert_exactly_once(acknowledged: set[str], stored: list[str]) -> None:
    assert len(stored) == len(set(stored)), "an event is stored more than once"
    missing = acknowledged - set(stored)
    assert not missing, (
        f"{len(missing)} acknowledged events are missing, e.g. {sorted(missing)[:3]}"
    )


def post_consent(port: int, browser_id: str, analytics: bool = True) -> int:
    """POST /api/consent: the banner's decision for ``browser_id``; returns the status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = {
        "site": "demo", "visitor": browser_id, "notice_version": "1", "method": "banner",
        "purposes": {"analytics": analytics, "personalization": False},
    }  # fmt: skip
    try:
        connection.request(
            "POST", "/api/consent", json.dumps(body),
            {"Content-Type": "text/plain", "Origin": ORIGIN, "User-Agent": CHROME},
        )  # fmt: skip
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()
