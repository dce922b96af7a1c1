"""The Starlette application factory: routes are data, background machinery lives in the lifespan."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from clearsignal.settings import Settings
from collector.admin import admin_routes, open_admin
from collector.cors import SiteCORSMiddleware, SiteOrigins
from collector.demo.shop import demo_shop_routes
from collector.ingest.endpoint import INGEST_PATH, IngestEndpoint, Ingestor
from collector.ingest.metrics import CollectorMetrics
from collector.openapi import openapi_document
from collector.runtime import Services, open_runtime
from collector.visitor.consent_api import get_erasure, get_receipt, post_consent
from collector.visitor.me.api import me_routes
from collector.visitor.me.page import ME_PAGE_ROUTES
from collector.visitor.signals_api import get_visitor_signals, post_visitor_signals
from collector.visitor.snippet_files import SNIPPET_ROUTES
from collector.visitor.transparency_api import (
    get_checkpoint,
    get_consistency,
    get_inclusion,
    get_public_key,
)

__all__ = ["Services", "create_app"]

# Endpoints a site's pages call from their own origin (simple text/plain POSTs).
CORS_PATHS = (INGEST_PATH, "/api/consent", "/api/visitor/signals")


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


class CollectorApp(Starlette):
    """Starlette, with ``POST /api/events`` answered before the middleware stack.

    Browsers send little else, and every request would pay for the stack: the error and
    exception middleware, CORS and the router, whose wrappers and objects cost about as
    much as a single-event request's own work. The endpoint adds its own CORS headers;
    its other methods take the usual way.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == INGEST_PATH and scope["method"] == "POST":
            ingestor: Ingestor = self.state.ingestor
            await ingestor(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(settings: Settings) -> Starlette:
    collector_metrics = CollectorMetrics()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services = await run_in_threadpool(open_runtime, settings, collector_metrics, True)
        app.state.services = services
        app.state.nudge = services.scheduler.nudge if services.scheduler else None
        app.state.ingestor = Ingestor(
            services.pipeline, services.spool, collector_metrics.ingest, SiteOrigins(settings.sites)
        )
        app.state.admin = await run_in_threadpool(
            open_admin, settings, services.store, services.log_reader
        )
        # What start-up made (modules, the engine's bindings, settings, caches) lives as
        # long as the server: out of the garbage collector's sight, its full collections
        # stay short, and so do the ingest latencies they would otherwise stretch.
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            await run_in_threadpool(services.close)

    routes = [
        # POSTs are answered by CollectorApp before the router; this route answers the
        # other methods (405), and preflights pass the CORS middleware as on the other paths.
        Route(INGEST_PATH, IngestEndpoint(), methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/api/openapi.json", openapi, methods=["GET"]),
        Route("/api/consent", post_consent, methods=["POST"]),
        Route("/api/consent/receipts/{receipt_id}", get_receipt, methods=["GET"]),
        Route("/api/erasures/{request_receipt_id}", get_erasure, methods=["GET"]),
        *me_routes(),
        Route("/api/visitor/signals", post_visitor_signals, methods=["POST"]),
        Route("/api/visitor/signals", get_visitor_signals, methods=["GET"]),
        Route("/api/transparency/checkpoint", get_checkpoint, methods=["GET"]),
        Route("/api/transparency/public-key", get_public_key, methods=["GET"]),
        Route("/api/transparency/inclusion", get_inclusion, methods=["GET"]),
        Route("/api/transparency/consistency", get_consistency, methods=["GET"]),
        *SNIPPET_ROUTES,
        *ME_PAGE_ROUTES,
        *admin_routes(),
        *demo_shop_routes(settings),
    ]
    cors = Middleware(SiteCORSMiddleware, sites=settings.sites, paths=CORS_PATHS)
    app = CollectorApp(routes=routes, lifespan=lifespan, middleware=[cors])
    app.state.settings = settings
    app.state.metrics = collector_metrics
    return app
