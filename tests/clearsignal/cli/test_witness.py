"""``clearsignal witness`` and ``clearsignal audit verify`` against a real collector and a
dishonest operator, each command a separate process as the people involved run them.

The log holds 8 decisions, the 7th a withdrawal. A witness cosigns checkpoint 8 over
HTTP. The operator then rewrites the tail (deletes leaves 6 and up and the withdrawal, and
lets the sequencer re-append and re-sign): the store-only audit still passes, but the
audit given the witness's checkpoint fails, and the witness refuses and keeps evidence.
"""

from __future__ import annotations

import http.client
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aggregator.store.client import Store, open_store
from aggregator.store.migrations import migrate
from clearsignal.purposes import Purpose
from clearsignal.settings import Settings, StoreSettings
from consent.entries import ConsentDecision
from consent.ledger import ConsentLedger
from consent.log_keys import LogKeys
from consent.pseudonyms import SiteKeys
from tests.conftest import unique_database
from tests.support.cli import clearsignal, store_env
from tests.support.clickhouse_http import ClickHouseHttpServer
from tests.support.serve import Serve

SYNC = " SETTINGS mutations_sync = 2"


@dataclass
class Operated:
    path: Path
    env: dict[str, str]
    store: Store
    ledger: ConsentLedger
    log_key: str
    serve: Serve

    def run(self, *args: str) -> tuple[int, str]:
        result = clearsignal(*args, cwd=self.path, env=self.env)
        return result.returncode, result.stdout + result.stderr

    def sequence(self) -> None:
        code, out = self.run("jobs", "run-once", "consent.sequence")
        assert code == 0, out

    def decide(self, granted: bool = True, browser_id: str | None = None) -> str:
        decision = ConsentDecision(
            "demo", browser_id or secrets.token_urlsafe(16), {Purpose.ANALYTICS: granted}, "1",
            "banner",
        )  # fmt: skip
        return self.ledger.record(decision).receipt_id

    def checkpoint(self) -> str:
        connection = http.client.HTTPConnection("127.0.0.1", self.serve.port, timeout=30)
        try:
            connection.request("GET", "/api/transparency/checkpoint")
            return connection.getresponse().read().decode()
        finally:
            connection.close()


@pytest.fixture
def operated(tmp_path: Path, clickhouse_http: ClickHouseHttpServer) -> Iterator[Operated]:
    database = unique_database()
    data_dir = tmp_path / "data"
    env = store_env(data_dir, clickhouse_http.url, database) | {
        "CLEARSIGNAL_JOBS__IN_PROCESS": "false",  # the test runs the sequencer itself
    }
    settings = Settings(
        data_dir=data_dir, store=StoreSettings(dsn=clickhouse_http.url, database=database)
    )
    store = open_store(clickhouse_http.url, database)
    migrate(store)
    ledger = ConsentLedger(store, settings, SiteKeys(settings.site_key_dir))
    log_key = LogKeys.load(settings.log_origin, settings.log_key_path).verifier.vkey
    code = clearsignal(
        "witness", "init", "--state", str(tmp_path / "witness"), "--name", "auditor.example/w1",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert code.returncode == 0, code.stderr
    witness_key = code.stdout.strip()
    env["CLEARSIGNAL_TRANSPARENCY__WITNESSES"] = json.dumps([witness_key])
    serve = Serve(data_dir, env=env)
    serve.start()
    try:
        yield Operated(tmp_path, env, store, ledger, log_key, serve)
    finally:
        serve.stop()
        store.command(f"DROP DATABASE IF EXISTS `{database}`")
        store.close()


def rewrite_tail(operated: Operated, withdrawal: str) -> None:
    """The withdrawal and every leaf from the 7th on go; the sequencer re-appends the
    rest and a new decision, and signs a new checkpoint of 8. The log's fence remembers
    the indexes it appended, so the operator switches insert deduplication off first."""
    for sql in (
        "ALTER TABLE consent_log MODIFY SETTING non_replicated_deduplication_window = 0",
        f"ALTER TABLE consent_records DELETE WHERE receipt_id = '{withdrawal}'",
        "ALTER TABLE checkpoint_cosignatures DELETE WHERE tree_size > 6",
        "ALTER TABLE checkpoints DELETE WHERE tree_size > 6",
        "ALTER TABLE consent_log_nodes DELETE WHERE bitShiftLeft(node_index + 1, level) > 6",
        "ALTER TABLE consent_log DELETE WHERE log_index >= 6",
        "ALTER TABLE consent_log_receipts DELETE WHERE log_index >= 6",
    ):
        operated.store.command(sql + SYNC)
    operated.decide()
    operated.sequence()


def rewrite_everything(operated: Operated, withdrawal: str) -> None:
    """The whole log goes with the withdrawal; the sequencer rebuilds it from the records
    and two new decisions, and re-signs every checkpoint with the same key."""
    operated.store.command(
        f"ALTER TABLE consent_records DELETE WHERE receipt_id = '{withdrawal}'" + SYNC
    )
    for table in ("checkpoint_cosignatures", "checkpoints", "consent_log_nodes", "consent_log",
                  "consent_log_receipts"):  # fmt: skip
        operated.store.command(f"TRUNCATE TABLE {table}")
    operated.decide()
    operated.decide()
    operated.sequence()


@pytest.mark.parametrize(
    ("rewrite", "size", "refusal"),
    [
        (rewrite_tail, 8, "(409): two checkpoints of 8 entries with different roots"),
        (rewrite_everything, 9, "(422): the checkpoint of 9 entries is not an extension"),
    ],
    ids=["tail", "full"],
)
def test_a_witness_catches_a_rewrite_that_the_store_only_audit_misses(
    operated: Operated, rewrite: Callable[[Operated, str], None], size: int, refusal: str
) -> None:
    browsers = [secrets.token_urlsafe(16) for _ in range(7)]
    for browser in browsers[:6]:
        operated.decide(browser_id=browser)
    operated.sequence()
    withdrawal = operated.decide(granted=False, browser_id=browsers[0])
    operated.decide(browser_id=browsers[6])
    operated.sequence()
    state = operated.path / "witness"
    witness_run = ("witness", "run", "--state", str(state), "--log",
                   f"http://127.0.0.1:{operated.serve.port}", "--log-key", operated.log_key)  # fmt: skip
    code, out = operated.run(*witness_run)
    assert code == 0, out
    assert "cosigned clearsignal.local/consent-log at 8 entries (+8); cosignature handed" in out
    assert "\n— auditor.example/w1 " in operated.checkpoint()
    [held] = (state / "logs").iterdir()
    witness_key = json.loads(operated.env["CLEARSIGNAL_TRANSPARENCY__WITNESSES"])[0]
    audit = ("audit", "verify", "--public-key", operated.log_key)
    with_evidence = (*audit, "--checkpoint", str(held), "--witness", witness_key)
    code, before = operated.run(*with_evidence)
    print(f"$ clearsignal audit verify --public-key K --checkpoint HELD --witness W\n{before}")
    assert code == 0, before

    rewrite(operated, withdrawal)
    code, store_only = operated.run(*audit)
    print(f"after {rewrite.__name__}:\n$ clearsignal audit verify --public-key K\n{store_only}")
    assert code == 0, store_only
    assert f"log verified: {size} entries" in store_only
    code, caught = operated.run(*with_evidence)
    print(f"$ clearsignal audit verify --public-key K --checkpoint HELD --witness W\n{caught}")
    assert code == 1
    assert "do not have the root of the held checkpoint of 8 entries" in caught
    code, refused = operated.run(*witness_run)
    print(f"$ clearsignal witness run ...\n{refused}")
    assert code == 1
    assert f"witness REFUSED {refusal}" in refused
    evidence = state / "evidence"
    [kept] = evidence.iterdir()
    assert {p.name for p in kept.iterdir()} == {
        "held.checkpoint", "offered.checkpoint", "add-checkpoint.request", "reason.txt",
    }  # fmt: skip
    assert (kept / "held.checkpoint").read_text() == held.read_text()


def test_audit_verify_needs_a_pinned_key(operated: Operated) -> None:
    code, out = operated.run("audit", "verify")
    assert code == 2
    assert "--public-key" in out
