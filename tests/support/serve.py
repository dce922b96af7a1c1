"""``clearsignal serve`` as a real process on a free loopback port, for tests that need the
real server: its uvicorn, its signals, its spool on disk."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CLEARSIGNAL = Path(sys.executable).with_name("clearsignal")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Serve:
    """``clearsignal serve`` in a child process, on its own port and data dir."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {**os.environ, "CLEARSIGNAL_DATA_DIR": str(data_dir), **(env or {})}
        self.env.pop("CLEARSIGNAL_CONFIG", None)
        self.log = data_dir.parent / f"serve-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(CLEARSIGNAL), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=self.data_dir.parent,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while self.readyz()[0] != 200:
            assert self.process.poll() is None, f"serve exited:\n{self.log_tail()}"
            assert time.monotonic() < deadline, f"serve not ready:\n{self.log_tail()}"
            time.sleep(0.1)

    def readyz(self) -> tuple[int, dict[str, Any]]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", "/readyz")
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        except (OSError, ValueError):
            return 0, {}
        finally:
            connection.close()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM: uvicorn shuts down, the lifespan flushes the spool."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]
