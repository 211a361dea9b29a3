"""The stop takes what the kernel has already queued on the listener.

A connection whose handshake the kernel completed is nginx's "connected": it sends its
POST and will not resend it. If the event loop has not accepted that connection when
the stop closes the listener, the kernel resets it. Here the connections are made while
the event loop is not running, so every one of them waits in the accept queue when the
stop begins: plain uvicorn resets them (the hole), ``DrainingServer`` answers them.
"""

from __future__ import annotations

import socket

import uvicorn
from starlette.types import Receive, Scope, Send

from ankra_auth.graceful import DrainingH11Protocol, DrainingServer
from tests.helpers import run_on_a_loop

QUEUED = 8
REQUEST = b"POST /users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}"


async def created(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send(
        {"type": "http.response.start", "status": 201, "headers": [(b"content-length", b"4")]}
    )
    await send({"type": "http.response.body", "body": b"made"})


def answers_after_a_stop(server_class: type[uvicorn.Server]) -> list[bytes]:
    config = uvicorn.Config(
        created,
        host="127.0.0.1",
        port=0,
        lifespan="off",
        log_config=None,
        http=DrainingH11Protocol,
    )
    config.load()
    server = server_class(config)

    async def scenario() -> list[socket.socket]:
        # Server.serve's own steps, with the stop called at a chosen moment.
        server.lifespan = config.lifespan_class(config)
        await server.startup()
        port = server.servers[0].sockets[0].getsockname()[1]
        # No await from here to the stop: the event loop accepts none of these.
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(QUEUED)]
        for client in clients:
            client.sendall(REQUEST)
        await server.shutdown()
        return clients

    clients = run_on_a_loop(scenario())
    answers = []
    for client in clients:
        client.settimeout(5)
        answer = b""
        try:
            while chunk := client.recv(65536):
                answer += chunk
        except ConnectionResetError:
            answer += b"<reset>"
        client.close()
        answers.append(answer)
    return answers


def test_connections_queued_when_the_stop_begins_are_answered() -> None:
    answers = answers_after_a_stop(DrainingServer)
    assert len(answers) == QUEUED
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 201"), answer
        assert answer.endswith(b"made"), answer


def test_plain_uvicorn_resets_them() -> None:
    """The hole DrainingServer closes; if uvicorn ever closes it, DrainingServer can go."""
    answers = answers_after_a_stop(uvicorn.Server)
    assert answers == [b"<reset>"] * QUEUED, answers
