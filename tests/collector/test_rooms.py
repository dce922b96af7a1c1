"""Rooms: mounted routes, and the bare path answered by the room's entrance."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from collector.rooms import Room


async def entrance(request: Request) -> Response:
    return PlainTextResponse(f"entrance {request.url.path}")


async def inside(request: Request) -> Response:
    return PlainTextResponse(f"inside {request.url.path} {request.path_params}")


def client() -> TestClient:
    room = Room("/room", [Route("/page/{n}", inside), Route("/", inside)], entrance=entrance)
    return TestClient(Starlette(routes=[room, Route("/roomy", inside)]))


def test_the_bare_path_is_the_entrance_and_the_rest_is_inside() -> None:
    with client() as http:
        assert http.get("/room", follow_redirects=False).text == "entrance /room"
        assert http.get("/room/").text == "inside /room/ {}"
        assert http.get("/room/page/3").text == "inside /room/page/3 {'n': '3'}"
        # A path that only starts like the room is not in it.
        assert http.get("/roomy").text == "inside /roomy {}"
        assert http.get("/room/nothing").status_code == 404


def test_the_entrance_answers_get_only() -> None:
    with client() as http:
        assert http.post("/room").status_code == 405
