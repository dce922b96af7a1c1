"""The architecture as tests: the layer contracts hold, a low module imports little, and no
module grows past what a reader takes in at once (docs/design.md, "Layers")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("clearsignal", "consent", "aggregator", "collector", "simulator")
ALSO_CHECKED = ("tests", "bench")
MAX_LINES = 400
# Declared data tables: long because they list data, not because they hold several ideas.
DATA_TABLES = {"aggregator/signals/rules.py"}


def test_the_import_contracts_hold() -> None:
    result = subprocess.run(
        [Path(sys.executable).with_name("lint-imports"), "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "never"),
    [
        (
            "collector.ingest.rows",
            ["starlette.applications", "apscheduler", "collector.admin", "collector.app",
             "aggregator", "uvicorn"],
        ),
        ("collector.ingest.wire", ["starlette.applications", "apscheduler", "collector.admin"]),
        ("consent.merkle", ["aggregator", "collector", "clickhouse_connect", "starlette"]),
        ("aggregator.signals.rules", ["collector", "clickhouse_connect", "apscheduler"]),
        ("clearsignal.settings", ["consent", "aggregator", "collector", "starlette"]),
    ],
)  # fmt: skip
def test_importing_a_low_module_loads_nothing_above_it(module: str, never: list[str]) -> None:
    probe = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    loaded = set(result.stdout.split())
    assert module in loaded
    dragged = sorted(m for m in loaded if any(m == n or m.startswith(f"{n}.") for n in never))
    assert dragged == [], f"import {module} loads {dragged}"


def _sources() -> list[Path]:
    files = [p for folder in PACKAGES + ALSO_CHECKED for p in (REPO / folder).rglob("*.py")]
    files += list((REPO / "collector").rglob("static/*.js"))
    files += list((REPO / "js_snippet" / "src").glob("*.js"))
    return sorted(files)


def test_no_module_is_over_400_lines_except_declared_data_tables() -> None:
    sources = _sources()
    assert len(sources) > 100
    too_long = {
        str(path.relative_to(REPO)): count
        for path in sources
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert set(too_long) <= DATA_TABLES, too_long
