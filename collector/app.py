"""The Starlette application factory: routes are data, background machinery lives in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from aggregator.jobs import JobRunner, deployment_jobs
from aggregator.migrations import migrate
from aggregator.scheduler import Scheduler
from aggregator.store import Store, open_store
from clearsignal.settings import Settings
from collector.consent_api import delete_me, get_erasure, get_receipt, post_consent
from collector.ingest import Ingestor, post_events
from collector.metrics import CollectorMetrics
from collector.openapi import openapi_document
from collector.pipeline import IngestPipeline
from collector.spool import Spool
from collector.spool_writer import SpoolWriter
from collector.transparency_api import (
    get_checkpoint,
    get_consistency,
    get_inclusion,
    get_public_key,
)
from consent.ledger import ConsentLedger
from consent.log_keys import LogKeys
from consent.log_reader import LogReader
from consent.pseudonyms import SiteKeys
from consent.salts import DailySalts

__all__ = ["Services", "create_app"]


@dataclass
class Services:
    """What the lifespan opens, in the order it opens it (and closes it in reverse)."""

    store: Store
    spool: Spool
    writer: SpoolWriter
    ledger: ConsentLedger
    log_reader: LogReader
    pipeline: IngestPipeline
    jobs: JobRunner
    scheduler: Scheduler | None


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok\n")


async def readyz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    ready = await run_in_threadpool(services.store.ping)
    body = {
        "store": "ok" if ready else "unavailable",
        "spool_backlog_bytes": services.writer.backlog(),
        "last_write_error": services.writer.last_error,
    }
    return JSONResponse(body, status_code=200 if ready else 503)


async def metrics(request: Request) -> Response:
    collector_metrics: CollectorMetrics = request.app.state.metrics
    return Response(collector_metrics.exposition(), media_type="text/plain; version=0.0.4")


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())


def create_app(settings: Settings) -> Starlette:
    collector_metrics = CollectorMetrics()

    def open_services() -> Services:
        store = open_store(settings.dsn, settings.store.database, settings.store.cluster)
        migrate(store)
        site_keys = SiteKeys(settings.site_key_dir)
        ledger = ConsentLedger(store, settings, site_keys)
        pipeline = IngestPipeline(settings, site_keys, DailySalts(store), ledger)
        spool = Spool(settings.spool_dir)
        writer = SpoolWriter(spool, store, collector_metrics)
        writer.start()
        log_reader = LogReader(
            store, LogKeys.load(settings.log_origin, settings.log_key_path).verifier
        )

        def flush_spool() -> None:
            while writer.drain_once():
                pass

        jobs = JobRunner(store, deployment_jobs(store, settings, ledger, flush_spool))
        scheduler = Scheduler(jobs) if settings.jobs.in_process else None
        if scheduler is not None:
            scheduler.start()
        return Services(store, spool, writer, ledger, log_reader, pipeline, jobs, scheduler)

    def close_services(services: Services) -> None:
        if services.scheduler is not None:
            services.scheduler.stop()
        services.writer.stop(flush=True)
        services.spool.close()
        services.store.close()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services = await run_in_threadpool(open_services)
        app.state.services = services
        app.state.nudge = services.scheduler.nudge if services.scheduler else None
        app.state.ingestor = Ingestor(services.pipeline, services.spool, collector_metrics)
        try:
            yield
        finally:
            await run_in_threadpool(close_services, services)

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/api/openapi.json", openapi, methods=["GET"]),
        Route("/api/events", post_events, methods=["POST"]),
        Route("/api/consent", post_consent, methods=["POST"]),
        Route("/api/consent/receipts/{receipt_id}", get_receipt, methods=["GET"]),
        Route("/api/erasures/{request_receipt_id}", get_erasure, methods=["GET"]),
        Route("/api/me", delete_me, methods=["DELETE"]),
        Route("/api/transparency/checkpoint", get_checkpoint, methods=["GET"]),
        Route("/api/transparency/public-key", get_public_key, methods=["GET"]),
        Route("/api/transparency/inclusion", get_inclusion, methods=["GET"]),
        Route("/api/transparency/consistency", get_consistency, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = collector_metrics
    return app
