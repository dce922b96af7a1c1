"""Every job on the cluster gives the tables it gives on a single node, row for row, for
the same simulated month: the same inputs are copied to both, the same jobs run on each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

from aggregator.jobs.registry import deployment_jobs
from aggregator.jobs.runner import JobRunner
from aggregator.store.client import Store, open_configured_store
from aggregator.store.migrations import migrate
from clearsignal.settings import Settings, WebhookSettings
from consent.ledger import ConsentLedger
from consent.pseudonyms import SiteKeys
from simulator.simulation import simulate
from tests.support.webhook_receiver import WebhookReceiver

JOBS = (
    "consent.sequence", "analytics.rollup", "sessions.compute", "signals.compute", "cases.open",
    "summaries.compute",
    "signals.validate", "retention.purge", "salts.rotate", "consent.erase", "webhooks.deliver",
)  # fmt: skip
INPUTS = (
    "events", "consent_records", "salts", "simulation_truth", "server_events", "customer_links",
)  # fmt: skip
COMPARED = (
    "sessions", "signals", "site_summaries", "signal_validation", "consent_log",
    "consent_log_nodes", "consent_log_receipts", "events", "salts", "webhook_deliveries",
    "server_events", "customer_links", "visitor_days", "visitor_numbers", "cases",
)  # fmt: skip
# A new day's salt is random: compare its days. A delivery's times are the sender's clock.
RANDOM = {
    "salts": ("salt", "created_at"),
    "webhook_deliveries": ("attempted_at", "next_attempt_at"),
    "visitor_days": ("computed_at",),
    "cases": ("opened_at", "expires_at"),
}
END = datetime.now(UTC).replace(microsecond=0)
VISITORS, DAYS, SEED = 200, 30, 5


def run_jobs(store: Store, settings: Settings) -> dict[str, str]:
    ledger = ConsentLedger(store, settings, SiteKeys(settings.site_key_dir))
    runner = JobRunner(store, deployment_jobs(store, settings, ledger, before_erase=lambda: None))
    outcomes = {name: runner.run(name) for name in JOBS}
    return {name: f"{o.status} {o.error}".strip() for name, o in outcomes.items()}


def snapshot(store: Store, table: str) -> list[tuple[Any, ...]]:
    columns = [
        str(name)
        for (name,) in store.rows(
            "SELECT name FROM system.columns WHERE database = currentDatabase() "
            "AND table = {t:String} AND name NOT IN {skip:Array(String)} ORDER BY position",
            {"t": table, "skip": ["integrated_at", "inserted_at", *RANDOM.get(table, ())]},
        )
    ]
    engine = store.scalar(
        "SELECT engine FROM system.tables WHERE database = currentDatabase() "
        "AND name IN ({t:String}, {t:String} || '_local') AND engine LIKE '%MergeTree'",
        {"t": table},
    )
    final = " FINAL" if engine != "MergeTree" else ""
    return store.rows(f"SELECT {', '.join(columns)} FROM {table}{final} ORDER BY ALL")


def visitor_sets(store: Store) -> list[tuple[Any, ...]]:
    """The bitmaps of ``row_visitors`` as the numbers they hold (a shard holds those of
    its own visitors)."""
    return store.rows(
        "SELECT site, day, breakdown, row, hits, "
        "arraySort(bitmapToArray(groupBitmapOrState(visitors))) "
        "FROM row_visitors FINAL GROUP BY ALL ORDER BY ALL"
    )


def hooked(settings: Settings, receiver: WebhookReceiver) -> Settings:
    """``settings`` with the site's webhook pointing at ``receiver``."""
    webhook = WebhookSettings(url=receiver.url, secret=SecretStr("s" * 32))
    site = settings.sites[0].model_copy(update={"webhook": webhook})
    return settings.model_copy(update={"sites": [site]})


def test_every_job_gives_the_single_nodes_tables_row_for_row(
    single_node: Settings, cluster_settings: Settings, cluster_store: Store
) -> None:
    with WebhookReceiver() as receiver:
        compare_jobs(
            hooked(single_node, receiver), hooked(cluster_settings, receiver), cluster_store
        )
        assert receiver.requests, "the webhooks job delivered nothing to compare"


def compare_jobs(single_node: Settings, cluster_settings: Settings, cluster_store: Store) -> None:
    reference = open_configured_store(single_node)
    try:
        migrate(reference)
        simulate(reference, single_node, VISITORS, DAYS, SEED, end=END)
        for table in INPUTS:
            rows = reference.arrow(f"SELECT * FROM {table}")
            if rows.num_rows:
                cluster_store.insert_arrow(table, rows)
        assert run_jobs(reference, single_node) == dict.fromkeys(JOBS, "ok")
        assert run_jobs(cluster_store, cluster_settings) == dict.fromkeys(JOBS, "ok")
        for table in COMPARED:
            expected = snapshot(reference, table)
            assert expected or table in ("consent_log_receipts",), f"{table} is empty"
            assert snapshot(cluster_store, table) == expected, table
        expected = visitor_sets(reference)
        assert expected
        assert visitor_sets(cluster_store) == expected
    finally:
        reference.close()
    for table in ("sessions", "signals"):
        assert derived_on_each_node(cluster_store, table) == [
            node.scalar(f"SELECT count() FROM {table}_local") for node in cluster_store.nodes
        ], table


def derived_on_each_node(store: Store, table: str) -> list[int]:
    """Rows each node wrote into its own ``<table>_local`` with statements that read its own
    ``events_local``, by its query log: the derivation ran where the events are."""
    written = []
    for node in store.nodes:
        node.command("SYSTEM FLUSH LOGS")
        written.append(
            int(
                node.scalar(
                    "SELECT sum(written_rows) FROM system.query_log WHERE type = 'QueryFinish' "
                    "AND current_database = currentDatabase() AND query_kind = 'Insert' "
                    "AND position(query, {into:String}) > 0 AND position(query, 'events_local') > 0",
                    {"into": f"INSERT INTO {table}_local "},
                )
            )
        )
    print(f"{table}: each node derived from its own events: {written} rows")
    return written
