"""The jobs every deployment runs, wired to its store and settings, in pipeline order.

Consent first (sequence the log, erase who asked), then what is derived from events
(sessions, signals, cases, summaries, validation), then housekeeping (retention, salts) and
delivery (webhooks). ``clearsignal jobs run-once all`` runs them in this order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from aggregator.jobs.alerts import AlertJob
from aggregator.jobs.analytics import AnalyticsJob
from aggregator.jobs.cases import CasesJob
from aggregator.jobs.digests import DigestJob
from aggregator.jobs.retention import RetentionJob
from aggregator.jobs.runner import Job, JobContext, JobResult
from aggregator.jobs.sessions import SessionsJob
from aggregator.jobs.signals import SignalsJob
from aggregator.jobs.summaries import SummariesJob
from aggregator.jobs.validation import ValidationJob
from aggregator.jobs.webhooks import WebhookJob
from aggregator.store.client import Store
from clearsignal.settings import Settings
from consent.erasure import Eraser
from consent.ledger import ConsentLedger
from consent.log_keys import LogKeys
from consent.salts import DailySalts
from consent.sequencer import Sequencer

__all__ = ["deployment_jobs"]


def deployment_jobs(
    store: Store,
    settings: Settings,
    ledger: ConsentLedger,
    before_erase: Callable[[], object],
    on_sequenced: Callable[[], None] | None = None,
) -> list[Job]:
    sequencer = Sequencer(store, LogKeys.load(settings.log_origin, settings.log_key_path))
    eraser = Eraser(
        store,
        ledger,
        before_erase=before_erase,
        settle=timedelta(seconds=settings.jobs.erasure_settle_seconds),
    )
    salts = DailySalts(store)
    sessions = SessionsJob(store, settings)
    analytics = AnalyticsJob(store, settings)
    signals = SignalsJob(store, settings)
    summaries = SummariesJob(store, settings)
    validation = ValidationJob(store, settings)
    retention = RetentionJob(store, settings)
    webhooks = WebhookJob(store, settings)
    cases = CasesJob(store, settings)
    digests = DigestJob(store, settings)
    alerts = AlertJob(store, settings)

    def sequence(_: JobContext) -> JobResult:
        run = sequencer.run_once()
        if on_sequenced is not None and run.checkpoint is not None:
            on_sequenced()
        return JobResult(run.integrated, run.integrated, f"tree size {run.tree_size}")

    def erase(_: JobContext) -> JobResult:
        run = eraser.run_once()
        late = sum(run.late_rows_deleted.values())
        deleted = sum(run.rows_deleted.values()) + late
        found_late = f"; {late} rows that landed after an erasure" if late else ""
        return JobResult(len(run.erased), deleted, f"{len(run.erased)} erasures{found_late}")

    def compute_sessions(context: JobContext) -> JobResult:
        run = sessions.run_once(context.since, context.progress)
        return JobResult(run.visitors, run.sessions, f"{run.visitors} visitors recomputed")

    def compute_signals(context: JobContext) -> JobResult:
        run = signals.run_once(since=context.since, progress=context.progress)
        found = sum(run.found.values())
        return JobResult(run.sites, found, f"{found} new findings over {run.sites} sites")

    def compute_summaries(context: JobContext) -> JobResult:
        run = summaries.run_once(context.since, context.progress)
        return JobResult(
            run.days, run.published, f"{run.days} days, {run.suppressed} groups suppressed"
        )

    def validate(context: JobContext) -> JobResult:
        run = validation.run_once(context.progress)
        return JobResult(run.rules, run.rules - run.suppressed, f"{run.suppressed} suppressed")

    def purge(context: JobContext) -> JobResult:
        run = retention.run_once(context.progress)
        deleted = sum(run.rows_deleted.values())
        return JobResult(0, deleted, f"deleted {run.rows_deleted}" if deleted else "")

    def rotate_salts(_: JobContext) -> JobResult:
        salts.prepare()
        destroyed = salts.destroy_expired()
        return JobResult(0, len(destroyed), f"destroyed salts of {destroyed}")

    def deliver(_: JobContext) -> JobResult:
        run = webhooks.run_once()
        return JobResult(
            run.queued,
            run.delivered,
            f"{run.delivered} delivered, {run.retrying} to retry, {run.failed} failed, "
            f"{run.cancelled} cancelled",
        )

    def open_the_cases(_: JobContext) -> JobResult:
        run = cases.run_once()
        forgotten = f"; forgot the cases of {run.forgotten} visitors" if run.forgotten else ""
        return JobResult(run.opened, run.opened, f"{run.opened} cases opened{forgotten}")

    def roll_up(context: JobContext) -> JobResult:
        run = analytics.run_once(context.since, context.progress)
        return JobResult(run.days, run.days, f"{run.days} days of {run.sites} sites rolled up")

    def send_digests(_: JobContext) -> JobResult:
        run = digests.run_once()
        return JobResult(run.sent + run.failed, run.sent, f"{run.sent} sent, {run.failed} failed")

    def send_alerts(_: JobContext) -> JobResult:
        run = alerts.run_once()
        return JobResult(
            run.found, run.sent, f"{run.found} alerts, {run.sent} sent, {run.failed} failed"
        )

    every = settings.jobs
    return [
        Job(
            "consent.sequence",
            "integrate recorded consent decisions into the transparency log and sign a checkpoint",
            every.sequencer_seconds,
            sequence,
            after_writes=True,
        ),
        Job(
            "consent.erase",
            "erase the events and signals of visitors who withdrew consent or asked for "
            "deletion, and log an erasure receipt",
            every.erasure_seconds,
            erase,
            personal=True,
            after_writes=True,
            due=lambda: settings.jobs.erasure_settle_seconds > 0,
        ),
        Job(
            "analytics.rollup",
            "count each visitor's day with new events into the analytics' rollup (visitor_days)",
            every.analytics_seconds,
            roll_up,
            personal=True,
            after_writes=True,
        ),
        Job(
            "sessions.compute",
            "split the events of visitors with new events into sessions (30 minutes of "
            "inactivity ends one)",
            every.sessions_seconds,
            compute_sessions,
            personal=True,
            after_writes=True,
        ),
        Job(
            "signals.compute",
            "run every signal rule in ClickHouse for visitors with new events (and time-based "
            "rules for all consented visitors)",
            every.signals_seconds,
            compute_signals,
            personal=True,
            after_writes=True,
            due=signals.recheck_due,
        ),
        Job(
            "cases.open",
            "open a case in the inbox for each new finding of an actionable rule about a "
            "customer who allows personalization; forget the cases of those who no longer do",
            every.cases_seconds,
            open_the_cases,
            personal=True,
            after_writes=True,
        ),
        Job(
            "summaries.compute",
            "recompute the daily site summaries of days with new events, suppressing groups "
            "under the site's k",
            every.summaries_seconds,
            compute_summaries,
            after_writes=True,
        ),
        Job(
            "signals.validate",
            "compare the later goal rate of visitors with and without each signal",
            every.validation_seconds,
            validate,
        ),
        Job(
            "alerts.check",
            "alert each site's team (webhook, e-mail) when a signal's prevalence rises or a "
            "funnel step's conversion falls against the four weeks before, or when cases are "
            "resolved in time less often than the target",
            3600.0,
            send_alerts,
            aligned=True,
        ),
        Job(
            "retention.purge",
            "delete events, signals and sessions older than each site's retention",
            every.retention_seconds,
            purge,
        ),
        Job(
            "salts.rotate",
            "create tomorrow's measurement salt and destroy, at the top of each hour, the "
            "salts whose day began 48 hours ago",
            3600.0,
            rotate_salts,
            aligned=True,
        ),
        Job(
            "digests.send",
            "e-mail each site's weekly digest on its day (visitors, signals and their change, "
            "open and overdue cases, resolution in time), once a week",
            3600.0,
            send_digests,
            aligned=True,
        ),
        Job(
            "webhooks.deliver",
            "send signed webhooks for new signals of visitors who allow personalization, "
            "retrying failed deliveries with backoff",
            every.webhooks_seconds,
            deliver,
            personal=True,
            after_writes=True,
            due=webhooks.retry_due,
        ),
    ]
