"""/me checks the consent log itself in the visitor's browser: the RFC 9162 consistency
proof, and that the log today extends the checkpoint this browser kept on an earlier
visit, under the pinned log key. A log rewritten or rolled back since is named."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consent.log_keys import LogKeys
from consent.merkle import consistency_proof, root
from tests.browser.harness import Visit

NEWS = "#log-extension"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_the_pages_consistency_check_follows_rfc_9162(visit: Visit) -> None:
    entries = [b"entry %d" % i for i in range(40)]
    cases, bad = [], []
    for new in range(1, 41):
        for old in range(1, new + 1):
            proof = consistency_proof(old, entries[:new])
            case = [
                old,
                new,
                b64(root(entries[:old])),
                b64(root(entries[:new])),
                list(map(b64, proof)),
            ]
            cases.append(case)
            if proof:
                flipped = bytearray(proof[-1])
                flipped[0] ^= 1
                bad.append([*case[:4], [*map(b64, proof[:-1]), b64(bytes(flipped))]])
            if old < new:
                bad.append([old, new, case[3], case[2], case[4]])  # the roots swapped
    visit.open("pricing.html")
    visit.page.goto(f"{visit.collector.origin}/me?site=demo")
    visit.page.wait_for_selector("#nothing:not([hidden])")
    check = """async (cases) => {
      const bytes = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
      const out = []
      for (const [m, n, a, b, proof] of cases)
        out.push(await clearsignalProof.consistent(m, n, bytes(a), bytes(b), proof.map(bytes)))
      return out
    }"""
    assert visit.page.evaluate(check, cases) == [True] * len(cases)
    assert visit.page.evaluate(check, bad) == [False] * len(bad)
    assert len(cases) == 820
    assert len(bad) > 800


def decide_in_another_browser(make_visit: Callable[..., Visit]) -> None:
    other = make_visit()
    other.open("pricing.html")
    other.page.click("#allow")
    other.wait_for(lambda: other.page.evaluate("() => localStorage.getItem('cs_id')") is not None)


def test_a_returning_visitor_sees_the_log_still_extends_what_their_browser_kept(
    make_visit: Callable[..., Visit],
) -> None:
    visit = make_visit()
    visit.open("pricing.html")
    visit.page.click("#allow")
    visit.wait_for(lambda: visit.page.evaluate("() => localStorage.getItem('cs_id')") is not None)
    visit.collector.run_jobs("consent.sequence")
    page = visit.page
    page.goto(f"{visit.collector.origin}/me?site=demo")
    page.wait_for_function(f"() => document.querySelector('{NEWS}').textContent !== ''")
    assert "This browser now keeps the log's latest checkpoint" in page.inner_text(NEWS)
    kept = visit.storage()["cs_checkpoint"]
    vkey = visit.storage()["cs_log_key_seen"]
    assert "pinned by your first visit to this page" in page.inner_text("#log-key")

    decide_in_another_browser(make_visit)  # the log grows
    visit.collector.run_jobs("consent.sequence")
    page.reload()
    page.wait_for_function(f"() => document.querySelector('{NEWS}').textContent !== ''")
    news = page.inner_text(NEWS)
    assert news.startswith("The log since your last visit: consistent: the log of "), news
    assert visit.storage()["cs_checkpoint"] != kept

    # What the page says of a log that was rewritten, rolled back, or signed by another
    # key since: checkpoints signed here with the collector's own key, as its operator could.
    keys = LogKeys.load(
        "clearsignal.local/consent-log", visit.collector.data_dir / "keys" / "log.key"
    )
    assert keys.verifier.vkey == vkey
    size = keys.verifier.open(visit.storage()["cs_checkpoint"]).tree_size
    now = datetime.now(UTC)
    forged = keys.sign(size + 3, b"\x07" * 32, now)[1]
    smaller = keys.sign(1, b"\x07" * 32, now)[1]
    stranger = LogKeys(keys.origin, Ed25519PrivateKey.generate()).sign(size + 3, b"\x07" * 32, now)[
        1
    ]
    verdicts = page.evaluate(
        """async ([held, notes, vkey]) => {
          const proofFrom = async (from, to) => {
            const answer = await fetch(`/api/transparency/consistency?from=${from}&to=${to}`)
            return answer.ok ? (await answer.json()).proof : [btoa('x'.repeat(32))]
          }
          const out = []
          for (const note of notes)
            out.push(await clearsignalProof.verifyExtension(held, note, vkey, proofFrom))
          return out.map((v) => v.status + ': ' + v.detail)
        }""",
        [visit.storage()["cs_checkpoint"], [forged, smaller, stranger], vkey],
    )
    assert verdicts[0].startswith("failed: "), verdicts
    assert "it was rewritten" in verdicts[0], verdicts
    assert verdicts[1].startswith("failed: "), verdicts
    assert "it was rolled back" in verdicts[1], verdicts
    assert verdicts[2] == "failed: the checkpoint is signed by another key of the same name"
    assert visit.errors == []


def test_the_key_the_sites_tag_names_is_the_one_me_checks_under(
    make_visit: Callable[..., Visit],
) -> None:
    """data-log-key on the snippet's tag: kept with the grant, and /me checks the log under
    it, not under the key the collector's answer names. A key that is not the log's fails
    every receipt, whatever the collector says."""
    visit = make_visit()
    keys = LogKeys.load(
        "clearsignal.local/consent-log", visit.collector.data_dir / "keys" / "log.key"
    )
    stranger = LogKeys(keys.origin, Ed25519PrivateKey.generate()).verifier.vkey
    for published, verdict in ((keys.verifier.vkey, "verified"), (stranger, "failed")):
        visit.context.clear_cookies()
        visit.page.goto(f"{visit.collector.origin}/healthz")
        visit.page.evaluate("localStorage.clear()")
        visit.open("pricing.html", data_log_key=published)
        visit.page.click("#allow")
        visit.wait_for(lambda: "cs_receipt" in visit.storage())
        assert visit.storage()["cs_log_key"] == published
        visit.collector.run_jobs("consent.sequence")
        page = visit.page
        page.goto(f"{visit.collector.origin}/me?site=demo")
        cell = "tr[data-receipt] td:last-child"
        page.wait_for_function(
            f"() => ![...document.querySelectorAll('{cell}')].some((c) => c.className === 'pending')"
            f" && document.querySelectorAll('{cell}').length > 0"
        )
        assert f"Log key, pinned by the site: {published}." in page.inner_text("#log-key")
        statuses = page.eval_on_selector_all(cell, "cells => cells.map((c) => c.className)")
        assert statuses, "no receipt listed"
        assert set(statuses) == {verdict}, statuses
