"""The collector's snippet files as a browser gets them: gzip over the wire, a
versioned URL that Subresource Integrity can pin."""

from __future__ import annotations

import gzip
import json
import urllib.request
from pathlib import Path

from tests.browser.harness import Visit


def manifest(visit: Visit) -> dict[str, dict[str, str]]:
    with urllib.request.urlopen(f"{visit.collector.loopback}/snippet.json", timeout=10) as answer:
        loaded: dict[str, dict[str, str]] = json.loads(answer.read())
        return loaded


def test_the_browser_gets_the_built_snippet_gzipped(visit: Visit, snippet_dir: Path) -> None:
    with visit.page.expect_response(lambda response: response.url.endswith("/cs.js")) as loaded:
        visit.open("page.html")
    response = loaded.value
    headers = response.all_headers()
    assert headers["content-encoding"] == "gzip"
    assert headers["cache-control"] == "public, max-age=300"
    assert response.body() == (snippet_dir / "cs.js").read_bytes()
    # What went over the wire is the gzip the budget is about.
    assert int(headers["content-length"]) == len(
        gzip.compress((snippet_dir / "cs.js").read_bytes(), compresslevel=9, mtime=0)
    )


def test_a_versioned_url_with_subresource_integrity_runs(visit: Visit) -> None:
    entry = manifest(visit)["cs.js"]
    with visit.page.expect_response(lambda response: entry["url"] in response.url) as loaded:
        visit.open("page.html", src=entry["url"], integrity=entry["integrity"])
    assert loaded.value.all_headers()["cache-control"] == "public, max-age=31536000, immutable"
    visit.wait_sent(lambda events: bool(events))


def test_a_tampered_file_does_not_run_under_subresource_integrity(visit: Visit) -> None:
    entry = manifest(visit)["cs.js"]
    wrong = "sha384-" + "A" * 64
    visit.page.goto(visit.url("page.html", src=entry["url"], integrity=wrong))
    visit.idle(1500)
    assert visit.page.evaluate("window.clearsignal") is None
    assert visit.sent() == []
