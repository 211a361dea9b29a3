"""Per request: an id (echoed as ``X-Request-ID``), a latency observation, one access line.

The access line carries the route template, never the raw path with its query
string, headers or body: tokens and codes travel in those (an unmatched path
such as a mistyped hand-off URL included), and a log line must never hold one.
A request that matched no route is logged and counted as ``unmatched``.
"""

from __future__ import annotations

import logging
from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ankra_auth.errors import InternalError, problem
from ankra_auth.observability import metrics
from ankra_auth.observability.logging import REQUEST_ID, request_id_from

access_log = logging.getLogger("ankra_auth.access")

HEADER = b"x-request-id"


def route_template(scope: Scope) -> str:
    """The matched route's template (``/api/v1/.../{id}``); a fixed label when none matched."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            return bytes(value).decode("latin-1")
    return None


class ObservabilityMiddleware:
    """Pure ASGI (no per-request Request object): this runs on every call, hot path included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(_incoming_id(scope))
        # Not reset afterwards: the error handler outside this middleware logs
        # with it, and each request runs in its own task (its own context).
        REQUEST_ID.set(request_id)
        header = (HEADER, request_id.encode("latin-1"))
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        begin = perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if not started:  # answer here so even a 500 carries the request id
                await problem(InternalError("Something went wrong on our side"))(
                    scope, receive, send_with_id
                )
            raise  # the app's error handler logs it
        finally:
            seconds = perf_counter() - begin
            route = route_template(scope)
            method = metrics.method_label(scope["method"])
            metrics.observe_request(route=route, method=method, status=status, seconds=seconds)
            access_log.info(
                "%s %s %s",
                method,
                route,
                status,
                extra={
                    "method": method,
                    "path": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )
