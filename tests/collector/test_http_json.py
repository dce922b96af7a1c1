"""Refused bodies through the real server: the client reads the answer, not a reset."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.support.serve import Serve
from tests.support.site_requests import ORIGIN


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    serve = Serve(tmp_path_factory.mktemp("http-json") / "data")
    serve.start()
    try:
        yield serve
    finally:
        serve.stop()


def post_raw(port: int, content_type: str, body: bytes) -> bytes:
    """POST ``body`` whole, a piece at a time as a slow network delivers it (a browser
    sends it all before it reads the answer), then read the answer; an error here (a
    reset while sending or reading) is what the client would see."""
    head = (
        f"POST /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {ORIGIN}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head)
        for start in range(0, len(body), 16 * 1024):
            connection.sendall(body[start : start + 16 * 1024])
            time.sleep(0.002)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


@pytest.mark.parametrize("size", [64 * 1024 + 1, 300 * 1024, 900 * 1024])
def test_an_oversized_body_is_answered_413_and_the_client_reads_it(
    server: Serve, size: int
) -> None:
    for _ in range(5):
        answer = post_raw(server.port, "text/plain", b"x" * size)
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
        assert b'"too_large"' in answer


def test_a_body_of_another_type_is_answered_415_and_the_client_reads_it(server: Serve) -> None:
    answer = post_raw(server.port, "application/x-www-form-urlencoded", b"a=1&" * 50_000)
    assert answer.startswith(b"HTTP/1.1 415 "), answer[:200]
