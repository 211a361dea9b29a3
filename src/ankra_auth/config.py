"""Settings, read once from ``ANKRA_*`` environment variables."""

from __future__ import annotations

import logging
import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ankra_auth.mail.smtp_url import SmtpServer, parse_smtp_url
from ankra_auth.sso.config import SsoProvider, check_unique, parse_providers_json

log = logging.getLogger("ankra_auth.config")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ANKRA_", extra="ignore")

    database_url: str = "sqlite:///./ankra.db"
    secret_key: str | None = None
    # Earlier secret keys, comma-separated: what was sealed or keyed under them still
    # opens (see ``rotate-secrets``); new secrets are always made under ``secret_key``.
    secret_key_previous: str | None = None
    public_url: str = "http://localhost:8000"
    rp_id: str | None = None
    rp_name: str = "Ankra"
    allowed_origins: str | None = None
    totp_issuer: str = "Ankra"
    session_ttl_seconds: int = Field(default=12 * 3600, gt=0)
    event_retention_days: int = Field(default=365, gt=0)
    db_pool_size: int = Field(default=10, gt=0)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    # A pooled connection idle longer than this is pinged ("SELECT 1") before use, so one
    # the server or a firewall dropped is replaced instead of failing a request. Busy
    # connections skip the ping: it was a round trip on every request (see
    # docs/performance.md). 0 pings on every checkout.
    db_pool_ping_after_idle_seconds: float = Field(default=10.0, ge=0)
    # A transaction pooler (PgBouncer in transaction mode) sits between the service and
    # PostgreSQL: psycopg must not prepare statements on the server, because the next
    # transaction may run on a server connection that never saw them (see db.py).
    db_transaction_pooler: bool = False
    # Bounds concurrent argon2 hashing so a login storm cannot exhaust memory.
    password_hash_concurrency: int = Field(default=2, gt=0)
    # Threads that run second-factor sign-ins (see api/threads.py).
    second_factor_threads: int = Field(default=2, gt=0, le=64)
    # Unset: JSON lines, except text when standard output is a terminal (a person reads it).
    log_json: bool | None = None
    # How often (seconds, jittered) the service deletes expired short-lived rows; 0: never.
    prune_interval_seconds: float = Field(default=300.0, ge=0)
    # ``/metrics`` is served only on this port (bound to the service's host), never publicly.
    metrics_port: int | None = Field(default=None, gt=0, le=65535)
    # SIGTERM: requests in flight get this long to finish before the process exits; below
    # Docker's 10 s stop timeout, so the drain ends before a SIGKILL would.
    shutdown_grace_seconds: int = Field(default=8, gt=0)
    # Proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the
    # client; unset, the peer address is the client (no proxy is trusted).
    forwarded_allow_ips: str | None = None
    # Tests only: log every secret comparison (see comparisons.py); refused over https.
    log_comparisons: bool = False
    # Single sign-on: a JSON list of OpenID providers (see sso/config.py).
    sso_providers: Annotated[list[SsoProvider], NoDecode] = Field(default_factory=list)
    # Notifications (mail/): the SMTP server (unset: mails wait in the outbox), the sender
    # (default "Ankra <no-reply@HOST of the public URL>"), and how long a mail waits for
    # more events of its kind (a burst is one mail).
    smtp_url: str | None = None
    mail_from: str | None = None
    mail_burst_seconds: float = Field(default=30.0, ge=0, le=300)

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            parse_smtp_url(value)  # refuse a bad URL at start-up, with the reason
            return value.strip()
        return None

    @field_validator("mail_from")
    @classmethod
    def _mail_from(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            if "@" not in value or any(ch in value for ch in "\r\n"):
                raise ValueError("must be an address, such as Ankra <no-reply@auth.example.com>")
            return value.strip()
        return None

    @field_validator("sso_providers", mode="before")
    @classmethod
    def _sso_json(cls, value: object) -> object:
        return parse_providers_json(value)

    @field_validator("sso_providers")
    @classmethod
    def _unique_sso_ids(cls, value: list[SsoProvider]) -> list[SsoProvider]:
        return check_unique(value)

    @model_validator(mode="after")
    def _no_comparison_log_in_production(self) -> Settings:
        if self.log_comparisons and self.public_url.startswith("https://"):
            raise ValueError("ANKRA_LOG_COMPARISONS is for tests: refused with an https public URL")
        return self

    @property
    def effective_rp_id(self) -> str:
        return self.rp_id or (urlsplit(self.public_url).hostname or "localhost")

    @property
    def public_origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def origins(self) -> frozenset[str]:
        if self.allowed_origins:
            return frozenset(
                o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()
            )
        return frozenset({self.public_origin})

    @property
    def smtp_server(self) -> SmtpServer | None:
        return parse_smtp_url(self.smtp_url) if self.smtp_url else None

    @property
    def mail_sender(self) -> str:
        """The From of every mail."""
        host = urlsplit(self.public_url).hostname or "localhost"
        return self.mail_from or f"Ankra <no-reply@{host}>"

    @property
    def cookie_secure(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    @cached_property
    def secret(self) -> bytes:
        """The master secret; generated and persisted beside the SQLite file when unset."""
        if self.secret_key:
            return self.secret_key.encode()
        return _load_or_create_key_file(self.key_file_path()).encode()

    @property
    def secrets(self) -> tuple[bytes, ...]:
        """The master secret first, then every previous one (for opening, never for sealing)."""
        previous = (self.secret_key_previous or "").split(",")
        return (self.secret, *(key.strip().encode() for key in previous if key.strip()))

    def key_file_path(self) -> Path:
        """Where the generated secret key is kept: beside the SQLite file."""
        url = self.database_url
        if url.startswith("sqlite:///") and not url.endswith(":memory:"):
            return Path(url.removeprefix("sqlite:///")).resolve().parent / "secret.key"
        if url.startswith("sqlite"):
            return Path.cwd() / "secret.key"
        # Instances sharing a server database must share one key; a key generated per
        # instance would make each unable to read the others' TOTP secrets.
        raise MissingSecretKey("ANKRA_SECRET_KEY must be set when the database is not SQLite")


PUBLIC_URL_ENV = "ANKRA_PUBLIC_URL"


def default_public_url(port: int) -> str:
    """Where a service on ``port`` is opened when ``ANKRA_PUBLIC_URL`` is not set: localhost,
    never ``127.0.0.1``, since browsers refuse passkeys on an IP-address origin."""
    return f"http://localhost:{port}"


class MissingSecretKey(RuntimeError):
    """No secret key configured where one cannot be generated safely."""


def _load_or_create_key_file(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    # Write a private temporary file, then link it into place: a concurrent
    # starter either wins the link or reads the complete winner.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        return path.read_text().strip()
    finally:
        tmp.unlink()
    log.warning("ANKRA_SECRET_KEY is not set: generated one and stored it in %s (mode 0600)", path)
    return key


def get_settings() -> Settings:
    return Settings()
