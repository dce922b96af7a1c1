"""A real HTTP endpoint on 127.0.0.1 that records the webhooks it receives.

``WebhookReceiver`` answers every POST with ``status`` (200 by default), except the
first ``fail_first`` requests, which get 500; with ``delay`` set it waits that long
before answering (to exceed a sender's timeout). Use it as a context manager.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

__all__ = ["Received", "WebhookReceiver"]


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names in lower case: HTTP header names ignore case
    body: bytes

    def header(self, name: str) -> str:
        return self.headers[name.lower()]


class WebhookReceiver:
    def __init__(self, fail_first: int = 0, status: int = 200, delay: float = 0.0) -> None:
        self.fail_first = fail_first
        self.status = status
        self.delay = delay
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks/clearsignal"

    def _answer(self, received: Received) -> int:
        with self._lock:
            self.requests.append(received)
            if len(self.requests) <= self.fail_first:
                return 500
            return self.status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver._answer(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                if receiver.delay and receiver._stopping.wait(receiver.delay):
                    return
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting

            def log_message(self, format: str, *args: object) -> None:
                return None

        return Handler

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
