"""The collector as the browser tests run it: the real app, plus what only tests need.

    python tests/browser/server.py --host 127.0.0.1 --port 8123 --snippet-dir DIR

Settings come from ``CLEARSIGNAL_*`` variables, exactly as for ``clearsignal serve``.
On top of ``collector.app.create_app(settings)`` this adds:

* the snippet routes (``collector.visitor.snippet_files``), serving ``--snippet-dir``; they
  replace the app's own when app.py serves the snippet, so tests see the build under test;
* ``GET /fixtures/{run}/{name}``: an HTML page from tests/browser/fixtures, with its
  ``<!-- clearsignal -->`` comment replaced by the snippet's script tag, built from the
  query string (``?data-site=demo&data-debug=``: each parameter one attribute; ``src``
  defaults to /cs.js; ``cs-link=<token>`` puts the link add-on, with that ``data-link``,
  in place of a ``<!-- clearsignal-link -->`` comment; ``router`` is the page's own, for
  router.html, and not put on the tag). ``run`` is any token: it keeps one test's
  stored URLs apart from another's;
* ``GET /fixtures/{run}/router-app.bundle.js``: router.html's single-page app
  (fixtures/router-app.js, Vue and vue-router), bundled by esbuild from js_snippet's
  node_modules (fixtures/build-router-app.mjs) on the first request, once per process;
  a failed build answers 500 with esbuild's messages. The URLs the app pushes in
  history mode (``/fixtures/{run}/app/orders/42``) have no route: tests never reload them;
* ``POST /_test/faults`` ``{"path": "/api/events", "statuses": [500, 429]}``: the next
  requests to that path get those statuses (one each) instead of reaching the app
  (``"clear": true`` first drops what is still pending);
* ``GET /_test/received``: every POST to /api/ so far, as received (body, content type,
  User-Agent) with the status it was answered;
* ``POST /_test/run-jobs`` ``{"names": ["consent.erase", ...]}``: the spools written out,
  then those jobs run once, in this process, which holds the job lease (a
  ``clearsignal jobs run-once`` beside it would stand by); answers each job's outcome.

Test support only: never imported by the product.
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
import subprocess
import tempfile
import threading
from collections import defaultdict, deque
from pathlib import Path
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearsignal.process_memory import decline_data_frame_libraries
from clearsignal.settings import load_settings
from collector.app import CollectorApp, create_app
from collector.visitor.snippet_files import snippet_routes

FIXTURES = Path(__file__).resolve().with_name("fixtures")
ROUTER_APP_BUILD = FIXTURES / "build-router-app.mjs"
PLACEHOLDER = "<!-- clearsignal -->"
LINK_PLACEHOLDER = "<!-- clearsignal-link -->"
SNIPPET_PATHS = {
    "/cs.js",
    "/cs-more.js",
    "/cs-signals.js",
    "/cs-link.js",
    "/snippet.json",
    "/cs.{version}.js",
    "/cs-more.{version}.js",
    "/cs-signals.{version}.js",
    "/cs-link.{version}.js",
}


class TestControls:
    """Fault injection and a log of every POST to /api/, as the collector received it.

    A beacon the page sends on pagehide may reach the collector after the page is
    gone, where Playwright no longer reports it: the log here has it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.pending: defaultdict[str, deque[int]] = defaultdict(deque)
        self.received: list[dict[str, object]] = []

    def _run_jobs(self, names: list[str]) -> list[dict[str, str]]:
        assert isinstance(self.app, CollectorApp)
        services = self.app.services
        services.flush()
        outcomes = [services.jobs.run(name) for name in names]
        return [{"job": o.job, "status": o.status, "error": o.error} for o in outcomes]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if path == "/_test/faults" and method == "POST":
            asked = json.loads(await Request(scope, receive).body())
            if asked.get("clear"):
                self.pending[asked["path"]].clear()
            self.pending[asked["path"]].extend(int(s) for s in asked["statuses"])
            await JSONResponse({"pending": list(self.pending[asked["path"]])})(scope, receive, send)
            return
        if path == "/_test/run-jobs" and method == "POST":
            names = json.loads(await Request(scope, receive).body())["names"]
            outcomes = await run_in_threadpool(self._run_jobs, names)
            await JSONResponse(outcomes)(scope, receive, send)
            return
        if path == "/_test/received" and method == "GET":
            await JSONResponse(self.received)(scope, receive, send)
            return
        if method != "POST" or not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        body = await Request(scope, receive).body()
        entry: dict[str, object] = {
            "path": path,
            "body": body.decode("utf-8", "replace"),
            "content_type": _header(scope, b"content-type"),
            "user_agent": _header(scope, b"user-agent"),
            "status": None,
        }
        self.received.append(entry)
        if self.pending[path]:
            status = self.pending[path].popleft()
            entry["status"] = status
            headers = {"Retry-After": "1"} if status == 429 else None
            await JSONResponse({"error": "injected"}, status, headers)(scope, receive, send)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            await send(message)

        await self.app(scope, replay, noting_status)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


async def fixture_page(request: Request) -> Response:
    name = request.path_params["name"]
    path = (FIXTURES / name).resolve()
    if path.parent != FIXTURES or path.suffix != ".html" or not path.is_file():
        return PlainTextResponse(f"no fixture {name}", status_code=404)
    asked = dict(parse_qsl(request.url.query, keep_blank_values=True))
    link = asked.pop("cs-link", "")
    asked.pop("router", None)  # router.html's own: history or hash
    asked.setdefault("src", "/cs.js")
    attributes = "".join(
        f' {html.escape(key)}="{html.escape(value)}"' if value else f" {html.escape(key)}"
        for key, value in asked.items()
    )
    tag = f"<script defer{attributes}></script>"
    page = path.read_text(encoding="utf-8").replace(PLACEHOLDER, tag)
    if link:
        linking = f'<script defer src="/cs-link.js" data-link="{html.escape(link)}"></script>'
        page = page.replace(LINK_PLACEHOLDER, linking)
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


class RouterAppBundle:
    """router-app.js bundled by esbuild, built on the first request and then kept."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.code: bytes | None = None

    def _build(self) -> tuple[bytes | None, str]:
        with self.lock:
            if self.code is not None:
                return self.code, ""
            node = shutil.which("node")
            if node is None:
                return None, "no node to run esbuild with: apt-get install nodejs"
            with tempfile.TemporaryDirectory(prefix="router-app-") as directory:
                outfile = Path(directory) / "router-app.bundle.js"
                result = subprocess.run(
                    [node, str(ROUTER_APP_BUILD), str(outfile)],
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=False,
                )
                if result.returncode != 0:
                    return None, f"{result.stdout}{result.stderr}"
                self.code = outfile.read_bytes()
            return self.code, ""

    async def serve(self, request: Request) -> Response:
        code, error = await run_in_threadpool(self._build)
        if code is None:
            return PlainTextResponse(f"router-app.js did not build:\n{error}", status_code=500)
        return Response(code, media_type="text/javascript", headers={"Cache-Control": "no-store"})


def build_app(snippet_dir: Path) -> ASGIApp:
    app: Starlette = create_app(load_settings())
    own: list[BaseRoute] = [
        *snippet_routes(snippet_dir),
        Route("/fixtures/{run}/router-app.bundle.js", RouterAppBundle().serve, methods=["GET"]),
        Route("/fixtures/{run}/{name}", fixture_page, methods=["GET"]),
    ]
    # Ahead of the app's routes: the snippet under test wins over js_snippet/dist.
    app.router.routes[:0] = own
    app.router.routes[:] = [
        route
        for index, route in enumerate(app.router.routes)
        if index < len(own) or getattr(route, "path", None) not in SNIPPET_PATHS
    ]
    return TestControls(app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--snippet-dir", type=Path, required=True)
    args = parser.parse_args()
    decline_data_frame_libraries()  # as in clearsignal serve
    uvicorn.run(
        build_app(args.snippet_dir),
        host=args.host,
        port=args.port,
        access_log=False,
        server_header=False,
        log_level="warning",
        lifespan="on",
    )


if __name__ == "__main__":
    main()
