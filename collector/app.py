"""The Starlette application factory: routes are data, background machinery lives in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from aggregator.store import Store, open_store
from clearsignal.settings import Settings

__all__ = ["create_app"]


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok\n")


async def readyz(request: Request) -> JSONResponse:
    store: Store = request.app.state.store
    ready = await run_in_threadpool(store.ping)
    body = {"store": "ok" if ready else "unavailable"}
    return JSONResponse(body, status_code=200 if ready else 503)


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = await run_in_threadpool(
            open_store, settings.dsn, settings.store.database, settings.store.cluster
        )
        app.state.store = store
        try:
            yield
        finally:
            await run_in_threadpool(store.close)

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    return app
