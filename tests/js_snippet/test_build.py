"""The browser snippet's build: cs.js and the piece it loads on demand, within their budgets.

Runs the real build (``npm ci`` first when ``js_snippet/node_modules`` is missing
or older than the lockfile) into temporary directories, and checks the files a
browser would get: each one reproducible IIFE. Behaviour is tested in a real
browser under tests/browser/.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from collector.visitor.snippet_files import SnippetBuild
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


def budgets() -> dict[str, int]:
    found: dict[str, int] = json.loads((SNIPPET_DIR / "package.json").read_text())["gzipBudget"]
    return found


@pytest.mark.parametrize("name", FILES)
def test_each_file_fits_its_gzip_budget(builds: tuple[Build, Build], name: str) -> None:
    budget = budgets()[name]
    size = gzipped_size(builds[0].files[name])
    assert size <= budget, f"{name} is {size} bytes gzipped, over its budget of {budget}"


def test_every_file_has_a_budget_and_the_core_keeps_its_own() -> None:
    assert sorted(budgets()) == sorted(FILES)
    # The core's budget: what every page loads. The piece loads only where needed.
    assert budgets()["cs.js"] <= 2000
    assert budgets()["cs-more.js"] <= 1950


def test_build_prints_the_peers_sizes_in_the_same_run(builds: tuple[Build, Build]) -> None:
    for peer in ("@plausible-analytics/tracker/plausible.js", "posthog-js/dist/array.js"):
        printed = re.search(
            rf"peer {re.escape(peer)}: (\d+) bytes, (\d+) bytes gzipped", builds[0].output
        )
        assert printed, builds[0].output
        assert int(printed[2]) > 0


def test_the_core_pins_the_piece_by_its_served_url_and_hash(builds: tuple[Build, Build]) -> None:
    piece = builds[0].files["cs-more.js"]
    version = hashlib.sha256(piece).hexdigest()[:16]
    integrity = "sha256-" + base64.b64encode(hashlib.sha256(piece).digest()).decode()
    core = builds[0].code.decode()
    # As the collector serves it (collector/visitor/snippet_files.py).
    assert SnippetBuild.of("cs-more.js", piece).versioned_path == f"/cs-more.{version}.js"
    assert f'"/cs-more.{version}.js"' in core
    assert f'"{integrity}"' in core


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


def test_the_cmp_readers_and_form_tracking_are_in_the_piece_only(
    builds: tuple[Build, Build],
) -> None:
    # Google Consent Mode (dataLayer) and IAB TCF (__tcfapi) are read by the piece,
    # which cs.js loads itself once the page has either: no tag to add for them.
    core, piece = builds[0].code.decode(), builds[0].files["cs-more.js"].decode()
    for api in ("analytics_storage", "tcString", '"cmp"', "form_abandon", "pushState"):
        assert api in piece
        assert api not in core
    for api in ("dataLayer", "__tcfapi", "currententrychange"):
        assert api in core


def test_signals_and_links_live_in_their_add_ons_only(builds: tuple[Build, Build]) -> None:
    # The build writes these four files and nothing else.
    assert sorted(builds[0].files) == sorted(FILES)
    assert sorted(FILES) == ["cs-link.js", "cs-more.js", "cs-signals.js", "cs.js"]
    for add_on, path in (
        ("cs-signals.js", "/api/visitor/signals"),
        ("cs-link.js", "/api/visitor/link"),
    ):
        assert path not in builds[0].code.decode()
        assert path in builds[0].files[add_on].decode()
