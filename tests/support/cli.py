"""The ``clearsignal`` command run as a user runs it: a separate process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def clearsignal(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CLEARSIGNAL_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "clearsignal", *args],
        cwd=cwd,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def store_env(data_dir: Path, dsn: str, database: str) -> dict[str, str]:
    """The environment that points the CLI at a data directory and a store."""
    return {
        "CLEARSIGNAL_DATA_DIR": str(data_dir),
        "CLEARSIGNAL_STORE__DSN": dsn,
        "CLEARSIGNAL_STORE__DATABASE": database,
    }
