"""The Starlette application factory: routes are data, the rooms are mounted, background
machinery lives in the lifespan.

The route table, top to bottom: the ingest endpoint, health and metrics, the OpenAPI
document, the visitor room's APIs and pages (consent, transparency, a visitor's own
signals and data, the snippet's files), then the ``/admin`` and ``/demo`` rooms. The
lifespan opens the runtime (``collector.runtime``) and yields each room's typed state
(``collector.state``); a refused request is answered by one exception handler.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from clearsignal.settings import Settings
from collector.admin.routes import admin_room
from collector.admin.runtime import ADMIN_STATE, AdminRuntime, open_admin
from collector.api_keys import ApiKeys
from collector.cors import SiteCORSMiddleware, SiteOrigins
from collector.demo.run_jobs import DEMO_STATE, DemoJobs
from collector.demo.shop import demo_shop_routes
from collector.errors import RequestRefused, refused_handler
from collector.ingest.endpoint import INGEST_PATH, IngestEndpoint, Ingestor
from collector.ingest.metrics import CollectorMetrics
from collector.ingest.server_events.deletions import DELETIONS_PATH, post_customer_deletions
from collector.ingest.server_events.endpoint import (
    SERVER_EVENTS_PATH,
    SERVER_EVENTS_STATE,
    ServerEventIngestor,
    post_server_events,
)
from collector.openapi import openapi_document
from collector.operators import operator_may_read
from collector.response.cases_api import CASES_API_STATE, CasesApi, cases_routes
from collector.runtime import Services, open_runtime
from collector.state import COLLECTOR_STATE, CollectorState, lifespan_state
from collector.stats.api import STATS_API_STATE, StatsApi, stats_routes
from collector.visitor.limits import VISITOR_LIMITS, VisitorLimits
from collector.visitor.me.page import ME_PAGE_ROUTES
from collector.visitor.routes import visitor_routes
from collector.visitor.snippet_files import SNIPPET_ROUTES

__all__ = ["CollectorApp", "Services", "create_app"]

T = TypeVar("T")
NO_STORE = {"Cache-Control": "no-store"}
GC_THRESHOLDS = (20_000, 20, 100)
"""Young, middle and old generation thresholds while serving (see ``_lifespan``)."""

# Endpoints a site's pages call from their own origin (simple text/plain POSTs).
CORS_PATHS = (INGEST_PATH, "/api/consent", "/api/visitor/signals", "/api/visitor/link")


class CollectorApp(Starlette):
    """Starlette, with ``POST /api/events`` answered before the middleware stack.

    Browsers send little else, and every request would pay for the stack: the error and
    exception middleware, CORS and the router, whose wrappers and objects cost about as
    much as a single-event request's own work. The endpoint adds its own CORS headers;
    its other methods take the usual way.
    """

    def __init__(self, settings: Settings, routes: list[BaseRoute]) -> None:
        super().__init__(
            routes=routes,
            lifespan=_lifespan,
            middleware=[Middleware(SiteCORSMiddleware, sites=settings.sites, paths=CORS_PATHS)],
            exception_handlers={RequestRefused: refused_handler},
        )
        self.settings = settings
        self.metrics = CollectorMetrics()
        self._services: Services | None = None
        self._ingestor: Ingestor | None = None
        self._state: dict[str, Any] = {}

    @property
    def services(self) -> Services:
        """What the lifespan opened (the CLI and tests reach the runtime through it)."""
        if self._services is None:
            raise RuntimeError("the app is not running: its lifespan has not started")
        return self._services

    def room_state(self, key: str, kind: type[T]) -> T:
        """What the lifespan opened for a room, outside a request (tests)."""
        return lifespan_state({"state": self._state}, key, kind)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ingestor = self._ingestor
        if (
            ingestor is not None
            and scope["type"] == "http"
            and scope["path"] == INGEST_PATH
            and scope["method"] == "POST"
        ):
            await ingestor(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def open(self) -> dict[str, Any]:
        """Open the runtime; the state every request sees, by room."""
        services = await run_in_threadpool(open_runtime, self.settings, self.metrics, True)
        self._services = services
        self._ingestor = Ingestor(
            services.pipeline,
            services.spool,
            services.unverified,
            services.lookups,
            self.metrics.ingest,
            SiteOrigins(self.settings.sites),
        )
        server_events = ServerEventIngestor(
            self.settings,
            ApiKeys(services.store, self.settings.ingest.api_key_cache_seconds),
            services.site_keys,
            services.server_spool,
            self.metrics.server_events,
        )
        admin = await run_in_threadpool(
            open_admin, self.settings, services.store, services.log_reader
        )
        shared = CollectorState(
            self.settings,
            services.store,
            services.ledger,
            services.log_reader,
            services.nudge,
            self.metrics.count_refused_link,
        )
        self._state = {
            COLLECTOR_STATE: shared,
            ADMIN_STATE: admin,
            DEMO_STATE: DemoJobs(services.run_every_job),
            VISITOR_LIMITS: VisitorLimits.from_settings(self.settings.limits),
            IngestEndpoint.STATE: self._ingestor,
            SERVER_EVENTS_STATE: server_events,
            CASES_API_STATE: CasesApi(
                self.settings, services.store, services.site_keys, admin.actions,
                ApiKeys(services.store, self.settings.ingest.api_key_cache_seconds),
            ),
            STATS_API_STATE: StatsApi(
                self.settings, services.store,
                ApiKeys(services.store, self.settings.ingest.api_key_cache_seconds),
            ),
        }  # fmt: skip
        return self._state

    async def close(self) -> None:
        services, ingestor, state = self._services, self._ingestor, self._state
        self._services, self._ingestor, self._state = None, None, {}
        if ingestor is not None:
            ingestor.heavy.close()
        server_events = state.get(SERVER_EVENTS_STATE)
        if isinstance(server_events, ServerEventIngestor):
            server_events.lane.close()
        admin = state.get(ADMIN_STATE)
        if isinstance(admin, AdminRuntime):
            admin.hashing.close()
        if services is not None:
            await run_in_threadpool(services.close)


@asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    assert isinstance(app, CollectorApp)
    state = await app.open()
    # What start-up made (modules, the engine's bindings, settings, caches) lives as long
    # as the server: out of the garbage collector's sight, its full collections stay
    # short, and so do the ingest latencies they would otherwise stretch.
    gc.freeze()
    # An ingest request holds a few thousand containers at once (a batch's events and
    # rows; the spool writer tens of thousands): at the default of 700 the collector
    # would visit each several times before refcounting frees it. bench/server_events.py
    # measured about a seventh of the interpreter's time in collections at 700.
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield state
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        await app.close()


def _app(request: Request) -> CollectorApp:
    app = request.app
    assert isinstance(app, CollectorApp)
    return app


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok\n")


async def readyz(request: Request) -> JSONResponse:
    """503 while the store does not answer (a balancer may route around this process;
    ingest goes on into the spool meanwhile). Operators also see the backlogs."""
    app = _app(request)
    services = app.services
    ready = await run_in_threadpool(services.store.ping)
    body: dict[str, object] = {"store": "ok" if ready else "unavailable"}
    if operator_may_read(request, app.settings.server):
        body |= {
            "spool_backlog_bytes": services.writer.backlog(),
            "unverified_backlog_bytes": services.unverified_writer.backlog(),
            "last_write_error": services.writer.last_error,
        }
    return JSONResponse(body, status_code=200 if ready else 503, headers=NO_STORE)


async def metrics(request: Request) -> Response:
    app = _app(request)
    if not operator_may_read(request, app.settings.server):
        return JSONResponse(
            {
                "error": "forbidden",
                "detail": "send the bearer token of server.metrics_token, or scrape from one "
                "of server.metrics_networks",
            },
            status_code=403,
            headers=NO_STORE,
        )
    return Response(app.metrics.exposition(), media_type="text/plain; version=0.0.4")


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())


def create_app(settings: Settings) -> CollectorApp:
    routes: list[BaseRoute] = [
        # POSTs are answered by CollectorApp before the router; this route answers the
        # other methods (405), and preflights pass the CORS middleware as on the other paths.
        Route(INGEST_PATH, IngestEndpoint(), methods=["POST"]),
        Route(SERVER_EVENTS_PATH, post_server_events, methods=["POST"]),
        Route(DELETIONS_PATH, post_customer_deletions, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/api/openapi.json", openapi, methods=["GET"]),
        *cases_routes(),
        *stats_routes(),
        *visitor_routes(),
        *SNIPPET_ROUTES,
        *ME_PAGE_ROUTES,
        admin_room(),
        *demo_shop_routes(settings),
    ]
    return CollectorApp(settings, routes)
