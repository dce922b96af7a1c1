"""``clearsignal jobs`` and ``clearsignal audit`` as a privacy officer runs them.

The commands run as separate processes against the loopback ClickHouse HTTP endpoint
(the embedded engine allows one data directory per process, and this one has its own).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
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
from consent.log_reader import LogReader
from consent.pseudonyms import SiteKeys
from tests.conftest import unique_database
from tests.support.cli import clearsignal, store_env
from tests.support.clickhouse_http import ClickHouseHttpServer


@dataclass
class Deployment:
    path: Path
    env: dict[str, str]
    store: Store
    settings: Settings
    receipts: list[str]

    def run(self, *args: str) -> tuple[int, str]:
        result = clearsignal(*args, cwd=self.path, env=self.env)
        return result.returncode, result.stdout + result.stderr


@pytest.fixture
def deployment(tmp_path: Path, clickhouse_http: ClickHouseHttpServer) -> Iterator[Deployment]:
    database = unique_database()
    env = store_env(tmp_path / "data", clickhouse_http.url, database)
    settings = Settings(
        data_dir=tmp_path / "data", store=StoreSettings(dsn=clickhouse_http.url, database=database)
    )
    store = open_store(clickhouse_http.url, database)
    migrate(store)
    ledger = ConsentLedger(store, settings, SiteKeys(settings.site_key_dir))
    receipts = [
        ledger.record(
            ConsentDecision(
                "demo", secrets.token_urlsafe(16), {Purpose.ANALYTICS: granted}, "1", "banner"
            )
        ).receipt_id
        for granted in (True, False, True)
    ]
    try:
        yield Deployment(tmp_path, env, store, settings, receipts)
    finally:
        store.command(f"DROP DATABASE IF EXISTS `{database}`")
        store.close()


def test_jobs_list_and_run_the_sequencer(deployment: Deployment) -> None:
    code, out = deployment.run("jobs", "list")
    assert code == 0, out
    for job in ("consent.sequence", "consent.erase", "signals.compute", "salts.rotate"):
        assert job in out
    code, out = deployment.run("jobs", "run-once", "consent.sequence")
    assert code == 0, out
    assert "consent.sequence: ok" in out
    assert "tree size 3" in out
    code, out = deployment.run("jobs", "list")
    assert "last: ok" in out


def test_jobs_run_names_unknown_jobs(deployment: Deployment) -> None:
    code, out = deployment.run("jobs", "run-once", "nosuch")
    assert code == 2
    assert "no job named nosuch" in out


def test_audit_verify_passes_then_names_the_altered_index(deployment: Deployment) -> None:
    assert deployment.run("jobs", "run-once", "consent.sequence")[0] == 0
    vkey = LogKeys.load(
        deployment.settings.log_origin, deployment.settings.log_key_path
    ).verifier.vkey
    code, out = deployment.run("audit", "verify", "--public-key", vkey)
    assert code == 0, out
    assert "log verified: 3 entries, 1 signed checkpoints" in out
    deployment.store.command(
        "ALTER TABLE consent_log UPDATE entry = replace(entry, 'denied', 'granted') "
        "WHERE log_index = 1 SETTINGS mutations_sync = 2"
    )
    code, out = deployment.run("audit", "verify", "--public-key", vkey)
    assert code == 1
    assert "FAILED at index 1" in out


def test_audit_verify_with_the_published_key_of_another_log_fails(
    deployment: Deployment, tmp_path: Path
) -> None:
    assert deployment.run("jobs", "run-once", "consent.sequence")[0] == 0
    other = LogKeys.load(deployment.settings.log_origin, tmp_path / "other.key")
    (tmp_path / "other.vkey").write_text(other.verifier.vkey + "\n")
    code, out = deployment.run("audit", "verify", "--public-key", str(tmp_path / "other.vkey"))
    assert code == 1
    assert "does not verify" in out


def test_audit_prove_checks_a_receipt_offline(deployment: Deployment, tmp_path: Path) -> None:
    assert deployment.run("jobs", "run-once", "consent.sequence")[0] == 0
    keys = LogKeys.load(deployment.settings.log_origin, deployment.settings.log_key_path)
    receipt = LogReader(deployment.store, keys.verifier).receipt(deployment.receipts[1])
    assert receipt is not None
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt))
    vkey = keys.verifier.vkey
    code, out = deployment.run("audit", "prove", str(path), "--public-key", vkey)
    assert code == 0, out
    assert f"receipt {deployment.receipts[1]} verifies" in out
    assert "entry 1 of the log" in out
    receipt["purposes"][1]["choice"] = "granted"
    path.write_text(json.dumps(receipt))
    code, out = deployment.run("audit", "prove", str(path), "--public-key", vkey)
    assert code == 1
    assert "does NOT verify" in out


def test_audit_export_writes_csv_and_jsonl(deployment: Deployment) -> None:
    assert deployment.run("jobs", "run-once", "consent.sequence")[0] == 0
    result = clearsignal(
        "audit", "export", "--site", "demo", "--format", "csv", cwd=deployment.path,
        env=deployment.env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["receipt_id"] for r in rows] == deployment.receipts
    assert [r["log_index"] for r in rows] == ["0", "1", "2"]
    assert [r["analytics"] for r in rows] == ["True", "False", "True"]
    out = deployment.path / "records.jsonl"
    code, text = deployment.run("audit", "export", "--site", "demo", "-o", str(out))
    assert code == 0, text
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["receipt_id"] for r in records] == deployment.receipts
    assert json.loads(records[0]["entry"])["receipt_id"] == deployment.receipts[0]
    code, text = deployment.run(
        "audit", "export", "--site", "demo", "--since", "2999-01-01", "-o", str(out)
    )
    assert code == 0
    assert out.read_text() == ""


def test_audit_ropa_is_generated_from_the_settings(deployment: Deployment) -> None:
    code, out = deployment.run("audit", "ropa")
    assert code == 0, out
    assert out.startswith("# Record of processing activities (GDPR Art. 30)")
    assert "## Site `demo`" in out
    assert "| analytics | consent (Art. 6(1)(a))" in out
    assert "| measurement | legitimate interest (Art. 6(1)(f))" in out
    assert "180 days" in out


def test_jobs_run_schedules_the_sequencer_until_stopped(deployment: Deployment) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CLEARSIGNAL_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "clearsignal", "jobs", "run"],
        cwd=deployment.path,
        env=environment | deployment.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        signed = 0
        while time.monotonic() < deadline and not signed:
            signed = deployment.store.scalar("SELECT count() FROM checkpoints WHERE tree_size = 3")
            time.sleep(0.2)
        assert signed == 1
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    running = re.search(r"running (\d+) jobs", output)
    assert running is not None, output
    listed = re.findall(r"^\S+ +every [\d.]+ s", deployment.run("jobs", "list")[1], re.MULTILINE)
    assert int(running.group(1)) == len(listed) >= 8
