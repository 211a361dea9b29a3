"""Is there an Ankra server at this address? Asked before anyone types a password.

``check`` makes one request that needs no session (the sign-in providers, ``GET
/api/v1/auth/sso/providers``) and turns what can go wrong into one sentence with the
likely fix: nothing listening, an unknown host, ``https://`` to a server that speaks plain
HTTP, or an address with a path (``http://host/login``) where the server's own is meant.
"""

from __future__ import annotations

import errno
import socket
import ssl
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from ankra_cli.errors import CliError, ConnectionFailed

if TYPE_CHECKING:
    from ankra_cli.client import AnkraClient

PROBE = "/auth/sso/providers"  # public, answers a JSON list, reads no database
HINT = "Check the server address (--server or ANKRA_SERVER) and that it is running."


def check(client: AnkraClient) -> None:
    """Return if ``client.server`` answers as an Ankra server; else raise :class:`CliError`."""
    server = client.server
    try:
        response = client.get(PROBE)
    except httpx.TimeoutException as exc:
        raise ConnectionFailed(f"{server} did not answer in time", hint=HINT) from exc
    except httpx.TransportError as exc:
        raise transport_failure(server, exc) from exc
    if _is_ankra(response):
        return
    raise _not_ankra(server, response)


def transport_failure(server: str, exc: httpx.TransportError) -> ConnectionFailed:
    """What a failed connection to ``server`` means, in words (used by every command)."""
    cause = _root_cause(exc)
    prefix = f"Could not connect to {server}"
    if isinstance(cause, ssl.SSLCertVerificationError):
        return ConnectionFailed(
            f"{prefix}: its certificate could not be verified ({cause.verify_message})",
            hint="Check the address; a server with a self-signed certificate is not trusted.",
        )
    if isinstance(cause, ssl.SSLError) and server.startswith("https://"):
        plain = "http://" + server.removeprefix("https://")
        if _answers(plain):
            return ConnectionFailed(
                f"{prefix}: the server there does not speak HTTPS. Did you mean {plain}?",
                hint=f"Use --server {plain}",
            )
        return ConnectionFailed(
            f"{prefix}: the server there does not speak HTTPS (TLS failed: {cause.reason})",
            hint=HINT,
        )
    if isinstance(cause, socket.gaierror):
        host = urlsplit(server).hostname or server
        return ConnectionFailed(f"{prefix}: no host is named {host!r}", hint=HINT)
    if isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED:
        return ConnectionFailed(
            f"{prefix}: nothing is listening there. Is the Ankra server running "
            "(`ankra-auth serve`)?",
            hint=HINT,
        )
    return ConnectionFailed(f"{prefix} ({exc.__class__.__name__}: {exc})", hint=HINT)


def _root_cause(exc: BaseException) -> BaseException:
    seen: BaseException = exc
    while True:
        following = seen.__cause__ or seen.__context__
        if following is None:
            return seen
        seen = following


def _is_ankra(response: httpx.Response) -> bool:
    if response.status_code != 200:
        return False
    try:
        return isinstance(response.json(), list)
    except ValueError:
        return False


def _answers(server: str) -> bool:
    """``server`` is an Ankra server (a second look, for a suggestion)."""
    from ankra_cli.client import AnkraClient

    with AnkraClient(server, timeout=5) as other:
        try:
            return _is_ankra(other.get(PROBE))
        except httpx.HTTPError:
            return False


def _not_ankra(server: str, response: httpx.Response) -> CliError:
    parts = urlsplit(server)
    origin = f"{parts.scheme}://{parts.netloc}"
    if response.is_redirect:
        target = urlsplit(str(response.next_request.url) if response.next_request else "")
        moved = f"{target.scheme}://{target.netloc}"
        if target.netloc and moved != origin and _answers(moved):
            return CliError(f"{server} redirects to {moved}: did you mean {moved}?")
    if parts.path.strip("/") and _answers(origin):
        return CliError(
            f"{server} is a page of the server, not its address: did you mean {origin}?",
            hint=f"Use --server {origin}",
        )
    reason = response.reason_phrase or "an unexpected answer"
    return CliError(
        f"{server} does not look like an Ankra server: "
        f"GET {response.request.url} answered {response.status_code} {reason}",
        hint=HINT,
    )
