"""A graceful stop that drops no request a client (or nginx) has already sent.

On SIGTERM uvicorn stops listening, then closes every connection that has no request
in progress. A connection it accepted a moment ago may have a request on the wire that
it has not read yet: closing it resets that request, and nginx does not resend a POST
it has sent. So an idle connection gets a short while to deliver its request before it
is closed; one that does is answered inside the drain, then closed.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol

# Covers a request already on its way on an accepted connection; well inside the drain.
REQUEST_GRACE_SECONDS = 0.5


class DrainingH11Protocol(H11Protocol):
    _stopping = False

    def shutdown(self) -> None:
        busy = self.cycle is not None and not self.cycle.response_complete
        if busy or self._stopping:
            super().shutdown()  # a request in progress: finish it, then close
            return
        self._stopping = True
        asyncio.get_running_loop().call_later(REQUEST_GRACE_SECONDS, self._shutdown_now)

    def handle_events(self) -> None:
        super().handle_events()
        if self._stopping and self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False  # a request that came in the grace: close after it

    def _shutdown_now(self) -> None:
        if not self.transport.is_closing():
            super().shutdown()
