"""What a running ClearSignal holds open, built in one place for the server and the CLI.

``open_runtime`` connects and migrates the store, then builds the consent ledger, the
ingest pipeline, the spool and its writer, the log reader and the jobs; ``close`` stops
them in reverse. The server starts the writer thread and (with ``jobs.in_process``) the
scheduler; ``clearsignal jobs`` runs jobs by hand on the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from aggregator.jobs.lease import JobLease
from aggregator.jobs.registry import deployment_jobs
from aggregator.jobs.runner import JobOutcome, JobRunner
from aggregator.jobs.scheduler import Scheduler
from aggregator.store.client import Store, open_configured_store
from aggregator.store.migrations import migrate
from clearsignal.settings import Settings
from collector.chores import Chore, Chores
from collector.ingest.consent_lookup import ConsentLookups
from collector.ingest.metrics import CollectorMetrics
from collector.ingest.pipeline import IngestPipeline
from collector.ingest.server_events.writer import SERVER_EVENT_SPOOL, ServerEventWriter
from collector.ingest.spool import Spool
from collector.ingest.unverified import UNVERIFIED_SPOOL, UnverifiedWriter
from collector.ingest.writer import SpoolWriter
from consent.cosigned import CosignedCheckpoints
from consent.ledger import ConsentLedger
from consent.log_keys import LogKeys
from consent.log_reader import LogReader
from consent.pseudonyms import SiteKeys
from consent.salts import DailySalts

__all__ = ["Services", "flush_spools", "open_runtime"]


def flush_spools(*writers: SpoolWriter) -> int:
    """Write out each spool in turn (erasure's first step, "Run jobs now", the tests'
    harness); returns the rows written."""
    return sum(writer.flush() for writer in writers)


@dataclass
class Services:
    """What the runtime opens, in the order it opens it (and closes it in reverse)."""

    store: Store
    spool: Spool
    writer: SpoolWriter
    unverified: Spool
    unverified_writer: UnverifiedWriter
    server_spool: Spool
    server_writer: ServerEventWriter
    site_keys: SiteKeys
    ledger: ConsentLedger
    lookups: ConsentLookups
    log_reader: LogReader
    pipeline: IngestPipeline
    chores: Chores
    jobs: JobRunner
    scheduler: Scheduler | None = None

    def run_every_job(self) -> list[JobOutcome]:
        """Write out the spool, then run each job once, in the deployment's order (the
        demo's "Run jobs now" and its seeding)."""
        self.flush()
        return [self.jobs.run(name) for name in self.jobs.jobs]

    def flush(self) -> int:
        """Write out what this process spooled, browser events and server events."""
        return flush_spools(self.writer, self.server_writer)

    def nudge(self, job: str) -> None:
        """Run ``job`` soon; without an in-process scheduler, its next run does it."""
        if self.scheduler is not None:
            self.scheduler.nudge(job)

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.jobs.lease is not None:
            self.jobs.lease.release()
        self.chores.stop()
        self.lookups.close()
        self.writer.stop(flush=True)
        self.server_writer.stop(flush=True)
        self.unverified_writer.stop(flush=False)  # its rows wait for their delay
        self.spool.close()
        self.server_spool.close()
        self.unverified.close()
        self.store.close()


def open_runtime(settings: Settings, metrics: CollectorMetrics, serving: bool) -> Services:
    """Open everything; with ``serving``, start the spool writer and in-process scheduler."""
    store = open_configured_store(settings)
    migrate(store)
    site_keys = SiteKeys(settings.site_key_dir)
    ledger = ConsentLedger(store, settings, site_keys)
    lookups = ConsentLookups(ledger, timeout=settings.ingest.consent_lookup_seconds)
    salts = DailySalts(store)
    salts.prepare()  # today's and tomorrow's: the request path never waits for one
    pipeline = IngestPipeline(settings, site_keys, salts, ledger)
    spool = Spool(settings.spool_dir)
    writer = SpoolWriter(spool, store, metrics)
    unverified = Spool(settings.spool_dir / UNVERIFIED_SPOOL)
    unverified_writer = UnverifiedWriter(
        unverified, store, metrics, delay=settings.ingest.unverified_delay_seconds
    )
    server_spool = Spool(settings.spool_dir / SERVER_EVENT_SPOOL)
    server_writer = ServerEventWriter(server_spool, store, metrics, settings)
    log_keys = LogKeys.load(settings.log_origin, settings.log_key_path)
    witnesses = settings.transparency
    cosigned = CosignedCheckpoints(store, log_keys.verifier, witnesses.witnesses, witnesses.quorum)
    log_reader = LogReader(store, log_keys.verifier, cosigned)
    chores = Chores([
        Chore("consent decisions kept during an outage", 5.0, ledger.flush_pending),
        Chore("the coming days' measurement salts", 600.0, salts.prepare),
    ])  # fmt: skip

    # The jobs' statements run in a lane of their own: beside the requests', not ahead.
    jobs_store = store.lane()
    jobs = JobRunner(
        jobs_store,
        deployment_jobs(
            jobs_store,
            settings,
            ledger,
            partial(flush_spools, writer, server_writer),
            log_reader.forget_latest,
        ),
        # The embedded engine is one process's: no other can run the jobs, and a lease kept
        # every few seconds would keep an engine that stops when unused from stopping.
        JobLease(jobs_store, ttl=timedelta(seconds=settings.jobs.lease_seconds))
        if store.target.embedded_path is None
        else None,
    )
    services = Services(
        store, spool, writer, unverified, unverified_writer, server_spool, server_writer,
        site_keys, ledger, lookups, log_reader, pipeline, chores, jobs,
    )  # fmt: skip
    if serving:
        writer.start()
        server_writer.start()
        unverified_writer.start()
        chores.start()
        if settings.jobs.in_process:
            services.scheduler = Scheduler(services.jobs)
            services.scheduler.start()
    return services
