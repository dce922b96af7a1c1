"""The browser snippet, served by the collector from the build directory (js_snippet/dist).

Routes, as data (``SNIPPET_ROUTES``, or ``snippet_routes(directory)`` for another build):

* ``GET /cs.js``; ``GET /cs-more.js``, the piece cs.js loads once a page needs it (by
  its versioned URL and SRI hash, which the build writes into cs.js); and the optional
  add-ons ``GET /cs-signals.js`` (``clearsignal.signals()``) and ``GET /cs-link.js``
  (``clearsignal.link()``): the current build, ``Cache-Control: public, max-age=300``
  and an ``ETag``; 304 on a matching ``If-None-Match``. A site that embeds these picks
  up a new build within minutes.
* ``GET /cs.<version>.js``, ``GET /cs-more.<version>.js``, ``GET /cs-signals.<version>.js``,
  ``GET /cs-link.<version>.js``: the same bytes under a content-addressed URL
  (``version``: the first 16 hex digits of their SHA-256),
  ``Cache-Control: public, max-age=31536000, immutable``. Only the current build is
  kept: another version answers 404, naming the current URL.
* ``GET /snippet.json``: for each file its versioned URL, size and Subresource
  Integrity hash (``integrity="sha384-..."`` on the site's script tag).

Every file is sent gzip-compressed to clients that accept it (``Vary: Accept-Encoding``;
the budget in js_snippet/package.json is about that form), with
``Access-Control-Allow-Origin: *`` so that a site on another origin may use SRI.
A file that has not been built answers 503 with what to run, never an error page.
Files are re-read when they change on disk, so a rebuild needs no restart.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from collector.headers import snippet_file_headers

__all__ = [
    "DEFAULT_SNIPPET_DIR",
    "IMMUTABLE",
    "LATEST",
    "SNIPPET_FILES",
    "SNIPPET_ROUTES",
    "SnippetBuild",
    "SnippetFile",
    "snippet_routes",
]

DEFAULT_SNIPPET_DIR = Path(__file__).resolve().parents[2] / "js_snippet" / "dist"
SNIPPET_FILES = ("cs.js", "cs-more.js", "cs-signals.js", "cs-link.js")

LATEST = "public, max-age=300"
IMMUTABLE = "public, max-age=31536000, immutable"
VERSION_DIGITS = 16

MEDIA_TYPE = "text/javascript; charset=utf-8"

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


@dataclass(frozen=True)
class SnippetBuild:
    """One built file as served: its bytes, gzip form, version and SRI hash."""

    name: str
    content: bytes
    gzipped: bytes
    version: str
    integrity: str

    @classmethod
    def of(cls, name: str, content: bytes) -> SnippetBuild:
        return cls(
            name=name,
            content=content,
            # mtime=0: the same bytes on every start and every collector.
            gzipped=gzip.compress(content, compresslevel=9, mtime=0),
            version=hashlib.sha256(content).hexdigest()[:VERSION_DIGITS],
            integrity="sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode(),
        )

    @property
    def versioned_path(self) -> str:
        stem = self.name.removesuffix(".js")
        return f"/{stem}.{self.version}.js"


class SnippetFile:
    """A file of the build directory, read again whenever it changes on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._build: SnippetBuild | None = None

    def current(self) -> SnippetBuild | None:
        """The file as it is now, or None if it has not been built."""
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if stamp != self._stamp or self._build is None:
                try:
                    content = self.path.read_bytes()
                except OSError:
                    return None
                self._build, self._stamp = SnippetBuild.of(self.path.name, content), stamp
            return self._build


def _not_built(name: str) -> Response:
    return PlainTextResponse(
        f"{name} has not been built. Run `make snippet` (or `npm ci && npm run build` in "
        "js_snippet/) on the collector host; it is served as soon as the file exists.\n",
        status_code=503,
        headers={"Cache-Control": "no-store", "Retry-After": "60"},
    )


def _accepts_gzip(request: Request) -> bool:
    """True when Accept-Encoding lists gzip (or *) with a quality above 0."""
    for part in request.headers.get("accept-encoding", "").lower().split(","):
        coding, *params = (item.strip() for item in part.split(";"))
        if coding not in ("gzip", "*"):
            continue
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        return quality > 0
    return False


def _etag_matches(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match")
    if wanted is None:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in wanted.split(",")]
    return "*" in tags or etag in tags


def _send(request: Request, build: SnippetBuild, cache_control: str) -> Response:
    compressed = _accepts_gzip(request)
    # A representation of its own per encoding: its own strong ETag.
    etag = f'"{build.version}.gz"' if compressed else f'"{build.version}"'
    headers = snippet_file_headers(cache_control) | {"ETag": etag}
    if _etag_matches(request, etag):
        return Response(status_code=304, headers=headers)
    if compressed:
        headers["Content-Encoding"] = "gzip"
    body = build.gzipped if compressed else build.content
    return Response(body, headers=headers, media_type=MEDIA_TYPE)


def _latest_endpoint(file: SnippetFile, name: str) -> Endpoint:
    async def latest(request: Request) -> Response:
        build = file.current()
        if build is None:
            return _not_built(name)
        return _send(request, build, LATEST)

    return latest


def _versioned_endpoint(file: SnippetFile, name: str) -> Endpoint:
    async def versioned(request: Request) -> Response:
        build = file.current()
        if build is None:
            return _not_built(name)
        if request.path_params["version"] != build.version:
            return PlainTextResponse(
                f"This version of {name} is not served here any more (only the current build "
                f"is). Use {build.versioned_path}, or /{name}; /snippet.json lists both.\n",
                status_code=404,
                headers={"Cache-Control": "no-store"},
            )
        return _send(request, build, IMMUTABLE)

    return versioned


def _manifest_endpoint(files: dict[str, SnippetFile]) -> Endpoint:
    async def manifest(request: Request) -> Response:
        body: dict[str, object] = {}
        for name, file in files.items():
            build = file.current()
            body[name] = (
                None
                if build is None
                else {
                    "url": build.versioned_path,
                    "version": build.version,
                    "bytes": len(build.content),
                    "gzipped_bytes": len(build.gzipped),
                    "integrity": build.integrity,
                }
            )
        headers = {"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"}
        return JSONResponse(body, headers=headers)

    return manifest


def snippet_routes(directory: Path = DEFAULT_SNIPPET_DIR) -> list[Route]:
    """The snippet's routes, serving the files built into ``directory``."""
    files = {name: SnippetFile(directory / name) for name in SNIPPET_FILES}
    routes = []
    for name, file in files.items():
        stem = name.removesuffix(".js")
        routes.append(Route(f"/{name}", _latest_endpoint(file, name), methods=["GET"]))
        routes.append(
            Route(f"/{stem}.{{version}}.js", _versioned_endpoint(file, name), methods=["GET"])
        )
    routes.append(Route("/snippet.json", _manifest_endpoint(files), methods=["GET"]))
    return routes


SNIPPET_ROUTES = snippet_routes()
