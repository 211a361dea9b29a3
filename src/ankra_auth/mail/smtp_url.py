"""``ANKRA_SMTP_URL``: where mail goes, read once at start-up (a bad URL stops the service
with the reason, as a bad provider entry does).

``smtp://[user:password@]host[:port]`` speaks STARTTLS when the server offers it;
``smtps://...`` is TLS from the first byte (RFC 8314, port 465 by default). Query
parameters: ``starttls=required`` refuses to send in plain text, ``timeout=SECONDS``
bounds each network step (default 20).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_TIMEOUT: Final = 20.0
_PORTS: Final = {"smtp": 25, "smtps": 465}


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    starttls_required: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT

    def describe(self) -> str:
        """For logs: never the password."""
        security = (
            "TLS"
            if self.implicit_tls
            else ("STARTTLS required" if self.starttls_required else "STARTTLS when offered")
        )
        who = f"{self.username}@" if self.username else ""
        return f"{who}{self.host}:{self.port} ({security})"


def parse_smtp_url(url: str) -> SmtpServer:
    """The server ``url`` names. Raises ValueError saying what is wrong (never echoing a
    password)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _PORTS:
        raise ValueError("must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("names no host")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("takes no path: smtp://[user:password@]host:port")
    try:
        port = parts.port or _PORTS[scheme]
    except ValueError as exc:
        raise ValueError("has an invalid port") from exc
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"starttls", "timeout"})
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r} (starttls, timeout)")
    starttls = query.get("starttls", ["auto"])[-1].lower()
    if starttls not in ("auto", "required"):
        raise ValueError("starttls must be 'required' (or left out)")
    if scheme == "smtps" and starttls == "required":
        raise ValueError("smtps:// is TLS already; starttls applies to smtp://")
    timeout = DEFAULT_TIMEOUT
    if "timeout" in query:
        try:
            timeout = float(query["timeout"][-1])
        except ValueError:
            timeout = 0
        if not 0 < timeout <= 600:
            raise ValueError("timeout must be a number of seconds, 1 to 600")
    return SmtpServer(
        host=parts.hostname,
        port=port,
        implicit_tls=scheme == "smtps",
        starttls_required=starttls == "required",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        timeout=timeout,
    )
