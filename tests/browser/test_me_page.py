"""The visitor's data explanation page (/me) in a real browser, driven as a person would:
allow analytics on a shop page, browse, open /me from the site's link, read the events
and an explained signal, download everything, delete everything; plus what a visitor
without consent sees, the page's security headers, and its accessibility basics.

The last full run's /me is saved as docs/screenshots/me.png.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from consent.signed_note import verifier_key
from tests.browser.accessibility import check_basics, heading_levels, tab_to
from tests.browser.harness import REPO, Visit, types

SCREENSHOT = REPO / "docs" / "screenshots" / "me.png"
TIME_ZONE = "Europe/Paris"
BROWSER_ID = "() => localStorage.getItem('cs_id')"


def local_minute(ts: datetime) -> str:
    """How /me writes a time in the visitor's zone: "4 March 10:12"."""
    moment = (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).astimezone(ZoneInfo(TIME_ZONE))
    return f"{moment.day} {moment:%B %H:%M}"


def allow_and_browse(visit: Visit) -> str:
    """On the shop's pricing page: allow analytics in its banner, view the page again,
    rage-click twice; returns the visitor key, once the store holds those events."""
    visit.open("pricing.html")
    visit.page.click("#allow")
    visit.wait_for(lambda: visit.page.evaluate(BROWSER_ID) is not None)
    subject = json.loads(visit.storage()["cs_receipt"])["subject"]
    visit.open("pricing.html")
    box = visit.page.locator("#spot").bounding_box()
    for burst in range(2):  # two rage clicks in one visit: the rule's threshold
        for step in range(3):
            visit.page.mouse.click(box["x"] + 20 + step, box["y"] + 20)
        visit.idle(1200 if burst == 0 else 0)
    visit.stored(
        lambda rows: (
            types([r for r in rows if r["visitor_key"] == subject]).count("rage_click") == 2
            and any(r["type"] == "pageview" and r["identity"] == "analytics" for r in rows)
        )
    )
    return str(subject)


def open_me_from_the_sites_link(visit: Visit) -> None:
    link = visit.page.locator("#your-data")
    visit.wait_for(lambda: link.get_attribute("href") != "#")
    assert (
        visit.page.evaluate("clearsignal.explainUrl()") == f"{visit.collector.origin}/me?site=demo"
    )
    link.click()
    visit.page.wait_for_url("**/me?site=demo")
    visit.page.wait_for_selector("#timeline li")


def rows_of(visit: Visit, table: str, visitor_key: str) -> int:
    count: int = visit.collector.store.scalar(
        f"SELECT count() FROM {table} FINAL WHERE visitor_key = {{key:String}}",
        {"key": visitor_key},
    )
    return count


def check_signal_explained(
    page: Any, rule_id: str, title: str, noticed: str, evidence: int | None = None
) -> None:
    """/me shows the signal with its title, what was noticed, why it matters, what the
    site may do, its rule and version, and its evidence (this many pieces, if given)."""
    signal = page.locator(f"article[data-rule='{rule_id}']")
    signal.wait_for()
    assert signal.locator("h3").inner_text() == title
    text = signal.inner_text()
    assert noticed in text
    assert "Why it matters" in text
    assert "What the site may do" in text
    assert f"{rule_id}, version 1" in text
    shown = signal.locator(".evidence li").count()
    assert shown == evidence if evidence is not None else shown > 0


def check_accessibility(page: Any) -> None:
    check_basics(page, "Your data on Browser test site demo — ClearSignal")
    assert page.get_by_role("checkbox", name=re.compile("^Analytics")).is_checked()
    assert page.get_by_role("button", name="Download everything (JSON)").is_visible()
    assert page.get_by_role("table").get_by_role("columnheader").count() == 5


def test_a_visitor_reads_downloads_and_deletes_their_data(
    make_visit: Callable[..., Visit],
) -> None:
    visit = make_visit(timezone_id=TIME_ZONE)
    subject = allow_and_browse(visit)
    browser_id = visit.page.evaluate(BROWSER_ID)
    visit.collector.run_jobs("signals.compute")
    assert rows_of(visit, "signals", subject) == 1
    open_me_from_the_sites_link(visit)
    page = visit.page

    # The timeline: every stored pricing view of theirs, in words and local time.
    viewed = visit.collector.store.rows(
        "SELECT ts FROM events FINAL WHERE visitor_key = {key:String} AND type = 'pageview'",
        {"key": subject},
    )
    timeline = page.locator("#timeline li").all_inner_texts()
    for (ts,) in viewed:
        assert f"Viewed Pricing — {local_minute(ts)}" in timeline
    # The signal, explained with its evidence.
    check_signal_explained(
        page,
        "rage_clicks",
        "Frustration: rage clicks",
        "You clicked repeatedly on something that did not respond, 2 times",
        evidence=2,
    )
    # Consent and its receipt, proven by the collector and again by the browser.
    assert "under notice version 1" in page.locator("#consent-summary").inner_text()
    row = page.locator("#receipt-rows tr").first
    page.wait_for_function(
        "() => !document.querySelector('#receipt-rows tr td:last-child').textContent"
        ".startsWith('checking')"
    )
    cells = row.locator("td").all_inner_texts()
    assert cells[3].startswith("verified: entry")
    assert cells[4].startswith("verified: entry"), cells[4]
    assert "Your IP address." in page.locator("#never-collected").inner_text()
    assert "180 days" in page.locator("#retention").inner_text()

    check_accessibility(page)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # Download everything, with the keyboard: after the shop page's last beacons (sent as
    # it was left for /me) are stored, so that the export and the store count the same.
    visit.collector.run_jobs()
    tab_to(page, "download")
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    download = download_info.value
    assert download.suggested_filename == "clearsignal-demo-my-data.json"
    exported = json.loads(Path(download.path()).read_text())
    assert exported["visitor_key"] == subject
    assert exported["events"]["total"] == rows_of(visit, "events", subject)
    assert exported["events"]["next"] is None
    assert [s["rule_id"] for s in exported["signals"]] == ["rage_clicks"]

    # Delete everything, with the keyboard; then nothing is left, in the page or the store.
    tab_to(page, "delete")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "confirm-yes"
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('status').textContent.startsWith('Everything is deleted')",
        timeout=60_000,
    )
    assert (rows_of(visit, "events", subject), rows_of(visit, "signals", subject)) == (0, 0)
    assert page.locator("#timeline li").count() == 0
    assert page.locator("#timeline-summary").inner_text() == "No event is linked to you."
    assert page.locator("article.signal").count() == 0
    assert "Erased on" in page.locator("#erasure-detail").inner_text()
    assert "cs_id" not in visit.storage()

    # The id went only into headers and bodies: never a URL, never another origin.
    assert all(browser_id not in url for url in visit.urls)
    assert {urlsplit(url).netloc for url in visit.urls} == {urlsplit(visit.collector.origin).netloc}
    assert browser_id not in visit.collector.log_path.read_text(errors="replace")
    # The erasure receipt answers 404 until the job has run; nothing else may complain.
    assert [e for e in visit.console_errors if "status of 404" not in e] == []
    assert visit.errors == []


TAMPERED_RECEIPTS = """async () => {
  const held = await fetch('/api/me?site=demo', {
    headers: { Authorization: 'ClearSignal-Visitor ' + localStorage.cs_id },
  }).then((response) => response.json())
  const receipt = held.receipts.find((item) => item.receipt.log.status === 'included').receipt
  const log = receipt.log
  const lines = log.checkpoint.split('\\n')
  const at = lines.findIndex((line) => line.startsWith('— '))
  const parts = lines[at].split(' ')
  const blob = Uint8Array.from(atob(parts[2]), (c) => c.charCodeAt(0))
  blob[10] ^= 1  // one bit of the Ed25519 signature
  parts[2] = btoa(String.fromCharCode(...blob))
  lines[at] = parts.join(' ')
  const variants = {
    as_served: {},
    entry: { entry: receipt.entry.replace('"granted"', '"denied"') },
    proof: { log: { ...log, inclusion_proof: [...log.inclusion_proof].reverse().concat(['AAAA']) } },
    index: { log: { ...log, log_index: log.log_index + log.tree_size } },
    signature: { log: { ...log, checkpoint: lines.join('\\n') } },
  }
  const found = {}
  for (const [name, change] of Object.entries(variants)) {
    const verdict = await clearsignalProof.verifyReceipt({ ...receipt, ...change }, held.log.verifier_key)
    found[name] = verdict.status + ': ' + verdict.detail
  }
  return found
}"""


def test_a_visitor_changes_and_withdraws_consent_on_the_page(
    make_visit: Callable[..., Visit],
) -> None:
    visit = make_visit()
    visit.open("pricing.html")
    visit.page.click("#allow")
    visit.wait_for(lambda: visit.page.evaluate(BROWSER_ID) is not None)
    subject = json.loads(visit.storage()["cs_receipt"])["subject"]
    visit.open("pricing.html")
    visit.stored(lambda rows: any(r["visitor_key"] == subject for r in rows))
    open_me_from_the_sites_link(visit)
    page = visit.page

    # The page's own receipt check fails on any change to a receipt.
    page.wait_for_selector("#receipt-rows td.verified")
    verdicts = page.evaluate(TAMPERED_RECEIPTS)
    assert verdicts["as_served"].startswith("verified")
    assert verdicts["entry"] == "failed: the leaf hash is not the hash of the entry"
    assert verdicts["proof"] == "failed: the inclusion proof does not lead to the signed root"
    assert verdicts["index"] == "failed: the inclusion proof does not lead to the signed root"
    assert verdicts["signature"] == "failed: the checkpoint signature does not verify"

    page.get_by_label(re.compile("^Personalization")).uncheck()
    page.get_by_role("button", name="Save my choices").click()
    page.wait_for_function(
        "() => document.getElementById('status').textContent.startsWith('Saved')"
    )
    assert page.locator("#receipt-rows tr").count() == 2
    newest = page.locator("#receipt-rows tr").first.inner_text()
    assert "analytics allowed, personalization not allowed" in newest
    assert not page.get_by_label(re.compile("^Personalization")).is_checked()

    page.get_by_role("button", name="Withdraw all consent").click()
    page.wait_for_function(
        "() => document.getElementById('status').textContent.startsWith('Consent withdrawn')"
    )
    assert "cs_id" not in visit.storage()
    assert page.locator("#consent-form").is_hidden()
    kinds = visit.collector.store.rows(
        "SELECT kind, method FROM consent_records WHERE visitor_key = {key:String} "
        "ORDER BY recorded_at",
        {"key": subject},
    )
    # Then the erasure's own record, once the job has run.
    assert [tuple(map(str, row)) for row in kinds][:3] == [
        ("consent", "banner"),
        ("consent", "page"),
        ("withdrawal", "page"),
    ]
    visit.wait_for(lambda: rows_of(visit, "events", subject) == 0, timeout=60)
    page.reload()
    page.wait_for_selector("#nothing:not([hidden])")


def test_a_visitor_without_consent_sees_that_nothing_is_linked(visit: Visit) -> None:
    visit.open("pricing.html")
    visit.page.goto(f"{visit.collector.origin}/me?site=demo")
    visit.page.wait_for_selector("#nothing:not([hidden])")
    page = visit.page
    assert page.locator("#nothing h2").inner_text() == "Nothing is linked to you"
    assert "keeps no ClearSignal id" in page.locator("#nothing-reason").inner_text()
    assert "48 hours" in page.locator("#anonymous-counting").inner_text()
    assert page.locator("#consent").is_hidden()
    assert page.locator("#actions").is_hidden()
    asked = [urlsplit(url) for url in visit.urls if "/api/me" in url]
    assert [(u.path, u.query) for u in asked] == [("/api/me/about", "site=demo")]
    levels = heading_levels(page)
    assert levels[0] == 1
    assert all(later <= earlier + 1 for earlier, later in pairwise(levels))


def test_one_visitors_page_shows_nothing_of_another(make_visit: Callable[..., Visit]) -> None:
    alice, bob = make_visit(), make_visit()
    alice_key, bob_key = allow_and_browse(alice), allow_and_browse(bob)
    open_me_from_the_sites_link(alice)
    with alice.page.expect_download() as download_info:
        alice.page.click("#download")
    exported = json.loads(Path(download_info.value.path()).read_text())
    urls = [event["url"] for event in exported["events"]["items"]]
    assert urls
    assert all(f"/{alice.run}/" in url for url in urls), urls
    assert bob_key not in json.dumps(exported)
    assert alice_key != bob_key
    assert rows_of(bob, "events", bob_key) > 0  # Bob's data is there, just not Alice's to see


def test_the_page_runs_under_a_strict_content_security_policy(visit: Visit) -> None:
    response = visit.page.goto(f"{visit.collector.origin}/me?site=demo")
    headers = response.headers
    assert headers["cache-control"] == "no-store"
    policy = headers["content-security-policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"):
        assert directive in policy
    visit.page.wait_for_selector("#nothing:not([hidden])")
    # An injected inline script is refused by the browser.
    visit.page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
        " document.body.append(s) }"
    )
    assert visit.page.evaluate("() => window.ran") is None
    assert any("Content Security Policy" in message for message in visit.console_errors)


def test_the_pages_key_parser_reads_keys_whose_base64_holds_a_plus(visit: Visit) -> None:
    keys = [Ed25519PrivateKey.generate().public_key() for _ in range(64)]
    vkeys = [verifier_key("clearsignal.local/consent-log", key) for key in keys]
    assert sum("+" in vkey.split("+", 2)[2] for vkey in vkeys) > 0  # the case that matters
    visit.open("pricing.html")
    visit.page.goto(f"{visit.collector.origin}/me?site=demo")
    visit.page.wait_for_selector("#nothing:not([hidden])")
    parsed = visit.page.evaluate(
        """(vkeys) => vkeys.map((vkey) => {
             const key = clearsignalProof.parseVerifierKey(vkey)
             return [key.name, key.keyHash, Array.from(key.publicKey)]
           })""",
        vkeys,
    )
    for vkey, key, (name, key_hash, public) in zip(vkeys, keys, parsed, strict=True):
        assert name == "clearsignal.local/consent-log"
        assert key_hash == vkey.split("+")[1]
        assert bytes(public) == key.public_bytes(Encoding.Raw, PublicFormat.Raw)
