"""The browser snippet's build: cs.js, CMP reading included, within its size budget.

Runs the real build (``npm ci`` first when ``js_snippet/node_modules`` is missing
or older than the lockfile) into temporary directories, and checks the files a
browser would get: each one reproducible IIFE. Behaviour is tested in a real
browser under tests/browser/.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.js_snippet.snippet_build import (
    FILES,
    NODE,
    SNIPPET_DIR,
    TOOLS_MISSING,
    build_snippet,
    install_build_tools,
)

pytestmark = pytest.mark.skipif(TOOLS_MISSING is not None, reason=str(TOOLS_MISSING))


@dataclass(frozen=True)
class Build:
    files: dict[str, bytes]
    output: str

    @property
    def code(self) -> bytes:
        """The snippet itself, dist/cs.js."""
        return self.files["cs.js"]


def _build(out: Path) -> Build:
    output = build_snippet(out)
    return Build(files={path.name: path.read_bytes() for path in out.iterdir()}, output=output)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Build, Build]:
    install_build_tools()
    out = tmp_path_factory.mktemp("snippet")
    return _build(out / "first"), _build(out / "second")


def gzipped_size(code: bytes) -> int:
    return len(gzip.compress(code, compresslevel=9))


def test_snippet_fits_the_gzip_budget(builds: tuple[Build, Build]) -> None:
    budget = json.loads((SNIPPET_DIR / "package.json").read_text())["gzipBudget"]
    size = gzipped_size(builds[0].code)
    assert size <= budget, f"cs.js is {size} bytes gzipped, over the budget of {budget}"


def test_budget_is_the_issues_2500_bytes() -> None:
    assert json.loads((SNIPPET_DIR / "package.json").read_text())["gzipBudget"] <= 2500


def test_build_prints_minified_and_gzipped_sizes(builds: tuple[Build, Build]) -> None:
    build = builds[0]
    for name, code in build.files.items():
        printed = re.search(
            rf"{re.escape(name)}: (\d+) bytes minified, (\d+) bytes gzipped", build.output
        )
        assert printed, build.output
        assert int(printed[1]) == len(code)
        # Node's zlib and Python's differ by a few bytes at the same level.
        assert abs(int(printed[2]) - gzipped_size(code)) <= 16


def test_build_is_deterministic(builds: tuple[Build, Build]) -> None:
    first, second = builds
    assert first.files == second.files


@pytest.mark.parametrize("name", FILES)
def test_each_file_is_one_iife_without_imports(builds: tuple[Build, Build], name: str) -> None:
    code = builds[0].files[name].decode()
    assert code.startswith("(()=>{")
    assert code.endswith("})();\n")
    assert code.count("\n") == 1
    assert not re.search(r"\bimport\s*[({*\w'\"]|\bexport\s|\brequire\s*\(", code)


@pytest.mark.parametrize("name", FILES)
def test_each_file_parses_as_a_classic_script(
    builds: tuple[Build, Build], tmp_path: Path, name: str
) -> None:
    assert NODE is not None
    script = tmp_path / "script.cjs"
    script.write_bytes(builds[0].files[name])
    result = subprocess.run(
        [NODE, "--check", str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", FILES)
def test_snippet_never_uses_cookies(builds: tuple[Build, Build], name: str) -> None:
    assert "cookie" not in builds[0].files[name].decode().lower()


def test_the_snippet_reads_the_sites_cmp_itself(builds: tuple[Build, Build]) -> None:
    # Google Consent Mode (dataLayer) and IAB TCF (__tcfapi) are read by cs.js: no
    # add-on to add to the page for them.
    code = builds[0].code.decode()
    for api in ("dataLayer", "__tcfapi", "analytics_storage", "tcString", '"cmp"'):
        assert api in code


def test_signals_and_links_live_in_their_add_ons_only(builds: tuple[Build, Build]) -> None:
    # The build writes these three files and nothing else: no CMP add-on any more.
    assert sorted(builds[0].files) == sorted(FILES) == ["cs-link.js", "cs-signals.js", "cs.js"]
    for add_on, path in (
        ("cs-signals.js", "/api/visitor/signals"),
        ("cs-link.js", "/api/visitor/link"),
    ):
        assert path not in builds[0].code.decode()
        assert path in builds[0].files[add_on].decode()
