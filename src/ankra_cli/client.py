"""``AnkraClient``: the one place that knows the base URL, the token, timeouts and errors."""

from __future__ import annotations

import platform
from typing import Any

import httpx

from ankra_cli import __version__
from ankra_cli.errors import ApiError, ConnectionFailed

DEFAULT_TIMEOUT = 30.0
# Names the program and its system, so "Where you're signed in" can say "ankra CLI on Linux".
USER_AGENT = (
    f"ankra-cli/{__version__} ({platform.system() or 'unknown'}; "
    f"Python {platform.python_version()})"
)


class AnkraClient(httpx.Client):
    """An ``httpx.Client`` on ``{server}/api/v1`` that turns problem+json into :class:`ApiError`."""

    def __init__(
        self, server: str, *, token: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.server = server.rstrip("/")
        super().__init__(
            base_url=f"{self.server}/api/v1",
            headers=headers,
            timeout=timeout,
            # Plain http never uses TLS; skipping the CA bundle saves ~0.15 s per command.
            verify=not self.server.startswith("http://"),
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """The decoded JSON answer (``None`` for 204); raises :class:`ApiError` or
        :class:`ConnectionFailed`."""
        try:
            response = self.request(method, path, json=json, params=params)
        except httpx.TimeoutException as exc:
            raise ConnectionFailed(f"{self.server} did not answer in time") from exc
        except httpx.TransportError as exc:
            from ankra_cli.server_check import transport_failure

            raise transport_failure(self.server, exc) from exc
        if response.is_error:
            raise api_error(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ConnectionFailed(
                f"{self.server} answered with something that is not JSON"
            ) from exc


def api_error(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "code" not in body:
        reason = response.reason_phrase or "error"
        return ApiError(
            status=response.status_code,
            code="http_error",
            detail=f"The server answered HTTP {response.status_code} {reason}",
            body={},
        )
    detail = str(body.get("detail") or body.get("title") or "Request failed")
    return ApiError(status=response.status_code, code=str(body["code"]), detail=detail, body=body)


def path_segment(value: str) -> str:
    """An id as one URL path segment: a ``/`` or ``?`` in it can't reach another route."""
    from urllib.parse import quote

    return quote(value, safe="")
