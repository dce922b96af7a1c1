"""A refused request is answered by the app's one handler, with what to fix."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from collector.errors import CollectorError, PageRefused, RequestRefused, refused_handler
from collector.visitor.auth import VISITOR_SCHEME, VisitorRefused


async def refuse(request: Request) -> Response:
    kind = request.query_params["kind"]
    if kind == "request":
        raise RequestRefused(409, {"error": "conflict", "detail": "try again"}, {"X-A": "b"})
    raise VisitorRefused(401 if kind == "anonymous" else 400, {"error": "invalid"})


def client() -> TestClient:
    app = Starlette(
        routes=[Route("/refuse", refuse)], exception_handlers={RequestRefused: refused_handler}
    )
    return TestClient(app)


def test_a_refusal_is_its_status_and_json_body_with_its_headers() -> None:
    with client() as http:
        answer = http.get("/refuse", params={"kind": "request"})
    assert (answer.status_code, answer.json()) == (
        409,
        {"error": "conflict", "detail": "try again"},
    )
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-a"] == "b"


def test_a_visitors_refusal_is_never_cached_and_a_401_names_the_scheme() -> None:
    with client() as http:
        anonymous = http.get("/refuse", params={"kind": "anonymous"})
        invalid = http.get("/refuse", params={"kind": "invalid"})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == VISITOR_SCHEME
    assert anonymous.headers["cache-control"] == "no-store"
    assert invalid.status_code == 400
    assert "www-authenticate" not in invalid.headers
    assert invalid.headers["cache-control"] == "no-store"


def test_every_refusal_shares_one_root() -> None:
    assert issubclass(VisitorRefused, CollectorError)
    assert issubclass(PageRefused, CollectorError)
