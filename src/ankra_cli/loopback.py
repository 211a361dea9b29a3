"""The loopback listener (RFC 8252 section 7.3): where the browser hands the login back.

Listens on 127.0.0.1 on a port the system picks, answers the one redirect it waits for
with a small page, and reports its ``code`` once ``state`` matched. Anything else (another
path, a wrong or missing ``state``: a stray tab, a page probing local ports) gets 400 and
the listener keeps waiting, so it cannot end the sign-in.
"""

from __future__ import annotations

import hmac
import html
import queue
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CALLBACK_PATH = "/callback"
STRAY = (
    400,
    "Sign-in refused",
    "This request does not belong to the sign-in your terminal started.",
)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto">
<h1>{title}</h1><p>{message}</p></body></html>
"""


@dataclass(frozen=True, slots=True)
class Callback:
    """What the redirect brought: a code when ``state`` matched, else why it failed."""

    code: str | None
    error: str | None


class LoopbackListener:
    def __init__(self, *, state: str) -> None:
        self._state = state
        self._results: queue.Queue[Callback] = queue.Queue(maxsize=1)
        self._server = HTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}{CALLBACK_PATH}"

    def __enter__(self) -> LoopbackListener:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait(self, timeout: float) -> Callback | None:
        """The first redirect, or ``None`` after ``timeout`` seconds."""
        try:
            return self._results.get(timeout=timeout)
        except queue.Empty:
            return None

    def _receive(self, query: dict[str, list[str]]) -> tuple[int, str, str]:
        """Judge one redirect; returns the status, title and message for the browser."""
        state = query.get("state", [""])[0]
        code = query.get("code", [""])[0]
        if not hmac.compare_digest(state.encode(), self._state.encode()):
            return STRAY  # not ours: refused, and the real redirect is still awaited
        if not code:
            error = query.get("error", ["no code"])[0]
            # The server's reason (RFC 6749 section 4.1.2.1), e.g. a refusal at single sign-on.
            reason = query.get("error_description", [""])[0][:1000]
            result = Callback(None, reason or f"The browser came back without a code ({error})")
            message = f"{reason} " if reason else ""
            page = (400, "Sign-in failed", f"{message}Return to your terminal.")
        else:
            result = Callback(code, None)
            page = (200, "Signed in", "You can close this window and return to your terminal.")
        try:
            self._results.put_nowait(result)
        except queue.Full:  # only the first redirect counts
            return 409, "Already handled", "Return to your terminal."
        return page

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != CALLBACK_PATH:
                    self._answer(*STRAY)
                    return
                self._answer(*listener._receive(parse_qs(parts.query)))

            def _answer(self, status: int, title: str, message: str) -> None:
                page = _PAGE.format(title=html.escape(title), message=html.escape(message))
                body = page.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the terminal is for the person, not an access log

        return Handler
