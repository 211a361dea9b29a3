"""``AnkraClient``: the one place that knows the base URL, the token, timeouts and errors.

Built on the standard library's ``http.client`` rather than httpx: every command pays
for its client's import, and httpx (with httpcore, h11, anyio, idna) was the largest
share of ``ankra profile auth status`` start-up. The CLI makes a handful of plain JSON
requests on one keep-alive connection, which is all this does. ``HTTPS_PROXY`` /
``HTTP_PROXY`` / ``NO_PROXY`` are honoured as httpx honoured them.
"""

from __future__ import annotations

import json as json_module
import os
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from ankra_cli import __version__
from ankra_cli.errors import ApiError, ConnectionFailed

if TYPE_CHECKING:
    import http.client

DEFAULT_TIMEOUT = 30.0


class Response:
    """What :meth:`AnkraClient.call` read: status, reason and body."""

    def __init__(self, status_code: int, reason_phrase: str, content: bytes) -> None:
        self.status_code = status_code
        self.reason_phrase = reason_phrase
        self.content = content

    @property
    def is_error(self) -> bool:
        return self.status_code >= 400

    def json(self) -> Any:
        return json_module.loads(self.content)


def _proxy_for(scheme: str, host: str) -> str | None:
    """The proxy URL the environment names for this request, or ``None``."""
    env = {k.lower(): v for k, v in os.environ.items() if k.lower().endswith("_proxy")}
    proxy = env.get(f"{scheme}_proxy") or env.get("all_proxy")
    if not proxy:
        return None
    for entry in (e.strip().lower() for e in env.get("no_proxy", "").split(",")):
        if entry == "*" or (
            entry and (host == entry.lstrip(".") or host.endswith("." + entry.lstrip(".")))
        ):
            return None
    return proxy if "://" in proxy else f"http://{proxy}"


class AnkraClient:
    """JSON calls on ``{server}/api/v1``; problem+json answers become :class:`ApiError`."""

    def __init__(
        self, server: str, *, token: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.headers = {"User-Agent": f"ankra-cli/{__version__}", "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.server = server.rstrip("/")
        self.timeout = timeout
        parts = urlsplit(self.server)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConnectionFailed(f"Not an http:// or https:// server address: {server}")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._prefix = parts.path.rstrip("/") + "/api/v1"
        self._proxy = _proxy_for(parts.scheme, parts.hostname)
        self._conn: http.client.HTTPConnection | None = None

    def __enter__(self) -> AnkraClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is not None:
            return self._conn
        import http.client

        host, port = self._host, self._port
        if self._proxy is not None:
            proxy = urlsplit(self._proxy)
            host, port = proxy.hostname or "", proxy.port or 80
        if self._scheme == "https":
            import ssl

            self._conn = http.client.HTTPSConnection(
                host, port, timeout=self.timeout, context=ssl.create_default_context()
            )
            if self._proxy is not None:
                self._conn.set_tunnel(self._host, self._port)
        else:
            self._conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
        return self._conn

    def _target(self, path: str, params: dict[str, Any] | None) -> str:
        target = self._prefix + path
        if params:
            query = {k: v for k, v in params.items() if v is not None}
            if query:
                target += "?" + urlencode(query, doseq=True)
        if self._proxy is not None and self._scheme == "http":
            # A plain-http proxy takes the absolute URL.
            target = f"http://{self._host}:{self._port}{target}"
        return target

    def request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> Response:
        """Send one request (retrying once on a keep-alive connection the server closed)."""
        import http.client

        headers = dict(self.headers)
        body = None
        if json is not None:
            body = json_module.dumps(json).encode()
            headers["Content-Type"] = "application/json"
        target = self._target(path, params)
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, target, body=body, headers=headers)
                raw = conn.getresponse()
                response = Response(raw.status, raw.reason, raw.read())
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2:
                    raise
                continue
            except BaseException:
                self.close()
                raise
            if raw.will_close:
                self.close()
            return response
        raise AssertionError("unreachable")  # pragma: no cover

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
        import http.client

        try:
            response = self.request(method, path, json=json, params=params)
        except TimeoutError as exc:  # socket.timeout is TimeoutError
            raise ConnectionFailed(f"{self.server} did not answer in time") from exc
        except (OSError, http.client.HTTPException) as exc:
            name = "ConnectError" if isinstance(exc, OSError) else "ProtocolError"
            raise ConnectionFailed(
                f"Could not connect to {self.server} ({name}: {exc})",
                hint="Check the server address (--server or ANKRA_SERVER) and that it is running.",
            ) from exc
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


def api_error(response: Response) -> ApiError:
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
