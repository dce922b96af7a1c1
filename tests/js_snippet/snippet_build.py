"""The snippet's real build, run from tests (tests/js_snippet and tests/browser).

``install_build_tools()`` runs ``npm ci`` when ``js_snippet/node_modules`` is missing
or older than the lockfile; ``build_snippet(directory)`` runs ``npm run build`` into
a directory of the caller's and returns what it printed. Both fail the calling test
with npm's output when npm fails.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

__all__ = [
    "FILES",
    "NODE",
    "NPM",
    "SNIPPET_DIR",
    "TOOLS_MISSING",
    "build_snippet",
    "install_build_tools",
]

SNIPPET_DIR = Path(__file__).resolve().parents[2] / "js_snippet"
NODE = shutil.which("node")
NPM = shutil.which("npm")
FILES = ("cs.js", "cs-more.js", "cs-signals.js", "cs-link.js")
TOOLS_MISSING = (
    "Node.js and npm build the snippet: install them (apt-get install nodejs npm)"
    if NODE is None or NPM is None
    else None
)


def _npm(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    assert NPM is not None, TOOLS_MISSING
    return subprocess.run(
        [NPM, *args],
        cwd=SNIPPET_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def install_build_tools() -> None:
    installed = SNIPPET_DIR / "node_modules" / ".package-lock.json"
    lockfile = SNIPPET_DIR / "package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lockfile.stat().st_mtime:
        return
    result = _npm("ci", "--no-audit", "--no-fund", "--loglevel=error", timeout=300)
    if result.returncode != 0:
        pytest.fail(f"`npm ci` in js_snippet failed; run it there to see why:\n{result.stderr}")


def build_snippet(directory: Path) -> str:
    """Build every file into ``directory``; return the build's output (the sizes)."""
    result = _npm("run", "--silent", "build", "--", "--outdir", str(directory), timeout=120)
    if result.returncode != 0:
        pytest.fail(f"`npm run build` in js_snippet failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout
