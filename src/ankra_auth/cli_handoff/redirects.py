"""Loopback redirect URIs (RFC 8252 section 7.3): what a CLI may ask the browser to return to."""

from __future__ import annotations

from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

from ankra_auth.errors import InvalidRedirectUri

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def require_loopback(redirect_uri: str | None) -> None:
    """Raise :class:`InvalidRedirectUri` unless ``redirect_uri`` is None (a device
    hand-off) or a loopback redirect."""
    if redirect_uri is not None and not is_loopback_redirect(redirect_uri):
        raise InvalidRedirectUri(
            "redirect_uri must be http://127.0.0.1:PORT/..., http://[::1]:PORT/... "
            "or http://localhost:PORT/..."
        )


def is_loopback_redirect(uri: str) -> bool:
    """True only for ``http://127.0.0.1:PORT/...``, ``http://[::1]:PORT/...`` or
    ``http://localhost:PORT/...``: explicit port, no user info, no fragment.

    The netloc must be exactly ``host:port`` as written, so spellings that
    parsers disagree on (``127.0.0.1.evil.example``, ``x@127.0.0.1``, ``:08000``,
    a backslash) never pass.
    """
    if not uri.isprintable() or any(c.isspace() for c in uri) or "\\" in uri:
        return False
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return False
    host = parts.hostname
    if parts.scheme != "http" or host not in LOOPBACK_HOSTS or port is None:
        return False
    if not 0 < port < 65536 or "@" in parts.netloc or parts.fragment or "#" in uri:
        return False
    expected = f"[{host}]:{port}" if host == "::1" else f"{host}:{port}"
    return parts.netloc.lower() == expected and parts.path.startswith("/")


def with_code(uri: str, *, code: str, state: str | None) -> str:
    """``uri`` with ``code`` and ``state`` added to its query.

    The existing query is kept byte for byte, except any ``code`` or ``state`` of its
    own, which would make the answer ambiguous.
    """
    parts = urlsplit(uri)
    kept = [
        pair
        for pair in parts.query.split("&")
        if pair and unquote_plus(pair.partition("=")[0]) not in {"code", "state"}
    ]
    added = {"code": code} if state is None else {"code": code, "state": state}
    query = "&".join([*kept, urlencode(added)])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def with_error(uri: str, *, error: str, description: str, state: str | None) -> str:
    """``uri`` with an RFC 6749 section 4.1.2.1 error answer: the terminal learns why."""
    parts = urlsplit(uri)
    kept = [
        pair
        for pair in parts.query.split("&")
        if pair
        and unquote_plus(pair.partition("=")[0])
        not in {"code", "state", "error", "error_description"}
    ]
    added = {"error": error, "error_description": description}
    if state is not None:
        added["state"] = state
    query = "&".join([*kept, urlencode(added)])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
