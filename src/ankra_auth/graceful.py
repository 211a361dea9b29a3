"""A graceful stop that drops no request a client (or nginx) has already sent.

On SIGTERM uvicorn stops listening, then closes every connection that has no request
in progress. Two kinds of connection would lose a request on the wire that way, and
nginx does not resend a POST it has sent:

- one the kernel has queued but the event loop has not accepted yet: closing the
  listener resets it. ``DrainingServer`` accepts what is queued, then closes.
- one accepted a moment ago whose request has not been read yet: closing it resets
  that request. ``DrainingH11Protocol`` gives an idle connection a short while to
  deliver its request; one that does is answered inside the drain, then closed.
"""

from __future__ import annotations

import asyncio
import os
import socket

import uvicorn
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


class DrainingServer(uvicorn.Server):
    """uvicorn's server, taking the connections queued on its listeners before closing them."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # No await between the last accept and the close: nothing is queued in between
        # that the event loop could have taken.
        queued = [conn for server in self.servers for conn in _accept_queued(server)]
        for server in self.servers:
            server.close()
        loop = asyncio.get_running_loop()
        for conn in queued:
            await loop.connect_accepted_socket(self._new_connection, conn, ssl=self.config.ssl)
        await super().shutdown(sockets)  # each connection, queued or not, gets the drain

    def _new_connection(self) -> DrainingH11Protocol:
        return DrainingH11Protocol(
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state
        )


def _accept_queued(server: asyncio.Server) -> list[socket.socket]:
    accepted = []
    for listening in server.sockets:
        # A duplicate descriptor of the same listening socket, ours to make non-blocking.
        with socket.socket(fileno=os.dup(listening.fileno())) as listener:
            listener.setblocking(False)
            while True:
                try:
                    conn, _ = listener.accept()
                except BlockingIOError:
                    break
                accepted.append(conn)
    return accepted
