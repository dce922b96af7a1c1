"""``clearsignal simulate`` as an operator runs it: separate processes against the loopback
ClickHouse HTTP endpoint, straight into the store or through a running server."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from aggregator.store.client import Store, open_store
from aggregator.store.migrations import migrate
from clearsignal.settings import demo_site
from tests.conftest import unique_database
from tests.support.cli import clearsignal, store_env
from tests.support.clickhouse_http import ClickHouseHttpServer
from tests.support.server_events import LINK_SECRET

SUMMARY = re.compile(r"in [\d.]+ s: ([\d,]+) events .*?, ([\d,]+) visitors with analytics")
TRUTH_LINE = re.compile(r"^  ([a-z_]+)\s+(\d+)\s+(\d+)$", re.MULTILINE)


@dataclass
class Deployment:
    path: Path
    env: dict[str, str]
    store: Store

    def run(self, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
        result = clearsignal(*args, cwd=self.path, env=self.env, stdin=stdin)
        return result.returncode, result.stdout, result.stderr


@pytest.fixture
def deployment(tmp_path: Path, clickhouse_http: ClickHouseHttpServer) -> Iterator[Deployment]:
    database = unique_database()
    env = store_env(tmp_path / "data", clickhouse_http.url, database)
    store = open_store(clickhouse_http.url, database)
    migrate(store)
    try:
        yield Deployment(tmp_path, env, store)
    finally:
        store.command(f"DROP DATABASE IF EXISTS `{database}`")
        store.close()


def summary_of(out: str) -> tuple[int, int, dict[str, tuple[int, int]]]:
    match = SUMMARY.search(out)
    assert match, out
    truth = {rule: (int(p), int(lk)) for rule, p, lk in TRUTH_LINE.findall(out)}
    return int(match[1].replace(",", "")), int(match[2].replace(",", "")), truth


def test_simulate_writes_events_consent_and_truth_into_the_store(deployment: Deployment) -> None:
    code, out, err = deployment.run("simulate", "--visitors", "40", "--days", "30", "--seed", "3")
    assert code == 0, err
    assert out.startswith("Simulated 40 visitors of site 'demo' over 30 days (seed 3, via store)")
    events, consented, truth = summary_of(out)
    assert len(truth) == 17  # the browser's nine rules and eight over the site's systems
    store = deployment.store
    assert store.scalar("SELECT count() FROM events") == events
    assert store.scalar("SELECT count() FROM consent_records") == consented
    assert (
        store.scalar("SELECT uniqExact(visitor_key) FROM events WHERE identity = 'analytics'")
        == consented
    )
    counts = dict.fromkeys(truth, (0, 0))
    for rule, planted, lookalike in store.rows(
        "SELECT rule_id, countIf(role = 'planted'), countIf(role = 'lookalike') "
        "FROM simulation_truth GROUP BY rule_id"
    ):
        counts[rule] = (planted, lookalike)
    assert counts == truth


def test_simulate_says_what_is_wrong(deployment: Deployment) -> None:
    code, _, err = deployment.run("simulate", "--via", "http", "--days", "5")
    assert code == 1
    assert "at most 2 days" in err
    assert "--via store" in err
    code, _, err = deployment.run("simulate", "--site", "shop")
    assert code == 1
    assert "no site 'shop'" in err
    code, _, err = deployment.run("simulate", "--visitors", "0")
    assert code == 2
    assert "must be at least 1" in err
    code, _, err = deployment.run("simulate", "--api-key", "cs_sk_x")
    assert code == 2
    assert "--api-key is for --via http" in err
    code, _, err = deployment.run(
        "simulate", "--via", "http", "--url", "http://shop.example:8000", "--api-key", "cs_sk_x"
    )
    assert code == 2
    assert "an API key goes only over HTTPS or to this machine" in err
    code, _, err = deployment.run(
        "simulate", "--via", "http", "--url", f"http://127.0.0.1:{free_port()}"
    )
    assert code == 1
    assert "cannot reach ClearSignal" in err
    assert deployment.store.scalar("SELECT count() FROM events") == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(deployment: Deployment) -> Iterator[int]:
    """``clearsignal serve`` of the deployment on a free port, stopped (its spools written
    to the store) when the block ends."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CLEARSIGNAL_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "clearsignal", "serve", "--port", str(port)],
        cwd=deployment.path,
        env=environment | deployment.env | {"CLEARSIGNAL_JOBS__IN_PROCESS": "false"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        yield port
    finally:
        server.send_signal(signal.SIGTERM)  # stopping writes the spool to the store
        output, _ = server.communicate(timeout=60)
    # uvicorn shuts down cleanly, then re-raises the signal it caught.
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output


def test_simulate_via_http_through_a_running_server(deployment: Deployment) -> None:
    with serving(deployment) as port:
        code, out, err = deployment.run(
            "simulate", "--via", "http", "--url", f"http://127.0.0.1:{port}", "--visitors", "12",
            "--days", "1", "--seed", "5", "--truth-file", "truth.jsonl",
        )  # fmt: skip
        assert code == 0, err
    events, consented, truth = summary_of(out)
    assert "via http" in out
    assert "The site's systems were not simulated: pass --api-key" in out
    store = deployment.store
    assert store.scalar("SELECT count() FROM events") == events
    assert store.scalar("SELECT count() FROM consent_records") == consented
    rows = [
        orjson.loads(line) for line in (deployment.path / "truth.jsonl").read_bytes().splitlines()
    ]
    assert len(rows) == sum(p + lk for p, lk in truth.values())
    analytics = {
        key for (key,) in store.rows(
            "SELECT DISTINCT visitor_key FROM events WHERE identity = 'analytics'"
        )
    }  # fmt: skip
    assert {row["visitor_key"] for row in rows} <= analytics
    assert store.scalar("SELECT count() FROM simulation_truth") == 0  # the file has it


def test_simulate_via_http_plays_the_sites_systems_with_a_key_from_standard_input(
    deployment: Deployment,
) -> None:
    site = demo_site().model_dump(mode="json") | {"touchpoints": {"link_secret": LINK_SECRET}}
    deployment.env["CLEARSIGNAL_SITES"] = json.dumps([site])
    made = clearsignal("keys", "create", "demo", cwd=deployment.path, env=deployment.env)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    with serving(deployment) as port:
        code, out, err = deployment.run(
            "simulate", "--via", "http", "--url", f"http://127.0.0.1:{port}", "--visitors", "12",
            "--days", "1", "--seed", "5", "--truth-file", "truth.jsonl", "--api-key", "-",
            stdin=key + "\n",
        )  # fmt: skip
        assert code == 0, err
    sent = int(re.search(r"([\d,]+) events of the site's systems", out)[1].replace(",", ""))  # type: ignore[index]
    assert sent > 0
    store = deployment.store
    assert store.scalar("SELECT count() FROM server_events FINAL") == sent
    assert store.scalar("SELECT countIf(visitor_key = '') FROM server_events FINAL") == 0
    assert "not simulated" not in out
