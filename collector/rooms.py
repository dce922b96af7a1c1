"""A room of the app: its routes mounted under one path, so the route table shows it.

``Room("/admin", routes, entrance=home)`` is a Starlette ``Mount`` whose routes are
written relative to ``/admin``, and whose bare path (``/admin``, which a ``Mount`` alone
would redirect to ``/admin/``) is answered by its ``entrance``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import Receive, Scope, Send

__all__ = ["Room"]


class Room(Mount):
    def __init__(
        self,
        path: str,
        routes: Sequence[BaseRoute],
        entrance: Callable[[Request], Awaitable[Response]],
    ) -> None:
        super().__init__(path, routes=list(routes))
        self.entrance = Route(path, entrance, methods=["GET"])

    def _at_entrance(self, scope: Scope) -> bool:
        if scope["type"] != "http":
            return False
        root: str = scope.get("root_path", "")
        path: str = scope["path"]
        return (path.removeprefix(root) if root else path) == self.path

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self._at_entrance(scope):
            return self.entrance.matches(scope)
        return super().matches(scope)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._at_entrance(scope):
            await self.entrance.handle(scope, receive, send)
        else:
            await super().handle(scope, receive, send)
