"""``Cache-Control: no-store`` on every answer but the versioned static assets.

Tokens, the TOTP secret, recovery codes and hand-off tokens travel in API answers
and in pages; listing which of them carry one is a list that goes stale the day
a route is added. So everything is ``no-store`` unless a route already chose
(``/static/`` assets are immutable and say so themselves).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class NoStoreMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_no_store)
