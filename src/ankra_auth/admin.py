"""The ``ankra-auth`` command: serve, migrate, user administration, the OpenAPI spec."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from ankra_auth.config import PUBLIC_URL_ENV, MissingSecretKey, default_public_url, get_settings

log = logging.getLogger("ankra_auth.admin")

cli = typer.Typer(
    help="Ankra Auth service administration.", no_args_is_help=True, add_completion=False
)
users_cli = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
events_cli = typer.Typer(help="Manage the security log.", no_args_is_help=True)
mail_cli = typer.Typer(help="The outbox of notification mails.", no_args_is_help=True)
cli.add_typer(users_cli, name="users")
cli.add_typer(events_cli, name="events")
cli.add_typer(mail_cli, name="mail")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@cli.command()
def migrate() -> None:
    """Apply pending database migrations."""
    from sqlalchemy.exc import OperationalError

    from ankra_auth import migrate as migrations
    from ankra_auth.db import make_engine
    from ankra_auth.errors import database_failure
    from ankra_auth.schema_check import describe

    settings = get_settings()
    try:
        migrations.upgrade(make_engine(settings))
    except OperationalError as exc:  # unreachable, refused, read-only: one line, no traceback
        _fail(
            f"cannot migrate the database {describe(settings.database_url)}: "
            f"{database_failure(exc)}"
        )
    typer.echo(f"database {describe(settings.database_url)} is up to date")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            help="Serve Prometheus /metrics on this port (same host); default "
            "ANKRA_METRICS_PORT, else not served",
        ),
    ] = None,
) -> None:
    """Serve the API and pages; pending migrations are applied once the database answers."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    from ankra_auth import startup
    from ankra_auth.db import make_engine
    from ankra_auth.graceful import DrainingH11Protocol, DrainingServer
    from ankra_auth.observability import serving
    from ankra_auth.observability.logging import json_lines_for

    derived = _public_url_from_port(port)
    settings = get_settings()
    login_url = settings.public_url.rstrip("/") + "/login"
    log_config = serving.prepare(
        json_lines=json_lines_for(settings.log_json, sys.stdout),
        workers=workers,
        open_url=login_url,
    )
    if derived and not _is_loopback(host):
        log.warning(
            "ANKRA_PUBLIC_URL is not set: the pages sign in only at %s; set it to the "
            "address people type",
            settings.public_url,
        )
    try:
        _ = settings.secret  # generate the key once, before workers race for it
    except MissingSecretKey as exc:
        _fail(str(exc))
    # Listen at once (/healthz 200, /readyz 503) and migrate when the database appears.
    startup.migrate_in_background(make_engine(settings))
    startup.exit_zero_after_drain()
    metrics_port = metrics_port or settings.metrics_port
    if metrics_port is not None:
        if metrics_port == port:
            _fail("--metrics-port must differ from --port: /metrics is never public")
        try:
            serving.serve_metrics(host=host, port=metrics_port)
        except OSError as exc:
            _fail(f"cannot serve metrics on {host}:{metrics_port}: {exc.strerror}")
    config = uvicorn.Config(
        "ankra_auth.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=settings.forwarded_allow_ips is not None,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        server_header=False,
        log_config=log_config,
        access_log=False,  # ours (ankra_auth.access) leaves out the query string
        # SIGTERM: stop listening, let requests in flight finish for this long, exit 0.
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        http=DrainingH11Protocol,  # h11, giving requests already on the wire their answer
    )
    if workers > 1:
        # uvicorn's supervisor; its workers stop as uvicorn's own server does (README:
        # a rolling restart that must drop no request runs one worker per replica).
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    server = DrainingServer(config)
    try:
        server.run()
    except KeyboardInterrupt:  # Ctrl-C: uvicorn drained, then re-raised it for us
        pass
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def _public_url_from_port(port: int) -> bool:
    """``ANKRA_PUBLIC_URL`` for this port unless it is set; True when derived.

    Set in the environment, not on a Settings object: every worker process reads its
    settings from the environment, and must see the same public URL.
    """
    if os.environ.get(PUBLIC_URL_ENV, "").strip():
        return False
    os.environ[PUBLIC_URL_ENV] = default_public_url(port)
    return True


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@cli.command()
def openapi() -> None:
    """Print the OpenAPI spec as JSON."""
    from ankra_auth.app import create_app
    from ankra_auth.config import Settings

    settings = Settings(database_url="sqlite://", secret_key="openapi")  # noqa: S106 - no data
    spec = create_app(settings).openapi()
    typer.echo(json.dumps(spec, indent=2, sort_keys=True))


def _require_migrated() -> None:
    """Every admin command that reads or writes accounts starts here: on a database that is
    missing or not migrated it stops in one line, before any prompt and creating nothing."""
    from ankra_auth.schema_check import DatabaseNotReady, require_current

    try:
        require_current(get_settings())
    except DatabaseNotReady as exc:
        _fail(str(exc))


def _session() -> object:
    from ankra_auth.db import make_engine, make_session_factory

    return make_session_factory(make_engine(get_settings()))()


@users_cli.command("create")
def users_create(
    email: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create a user; the password is prompted for (or read from standard input)."""
    from pydantic import ValidationError

    from ankra_auth.accounts import service as accounts
    from ankra_auth.accounts.schemas import UserCreate
    from ankra_auth.clock import SystemClock
    from ankra_auth.errors import AnkraError

    _require_migrated()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        email = UserCreate.model_validate({"email": email, "password": password}).email
    except ValidationError as exc:
        _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    with _session() as db:  # type: ignore[attr-defined]
        try:
            user = accounts.create_user(
                db, email=email, password=password, settings=get_settings(), now=SystemClock().now()
            )
        except AnkraError as exc:
            _fail(exc.detail)
    typer.echo(f"created user {user.email} ({user.id})")


@users_cli.command("reset-2fa")
def users_reset_2fa(email: str) -> None:
    """Remove every second factor of a locked-out user and sign out all their sessions
    (they sign in and enroll again)."""
    from ankra_auth.accounts import service as accounts
    from ankra_auth.clock import SystemClock
    from ankra_auth.context import RequestContext
    from ankra_auth.profile import service as profile
    from ankra_auth.text import CONTROL

    if CONTROL.search(email):
        _fail("the email must not contain control characters")
    _require_migrated()
    with _session() as db:  # type: ignore[attr-defined]
        user = accounts.find_user_by_email(db, email)
        if user is None:
            _fail(f"no user with email {email}")
            return
        profile.admin_reset(
            db,
            user_id=user.id,
            ctx=RequestContext(now=SystemClock().now(), user_agent="ankra-auth admin"),
        )
    typer.echo(f"two-factor authentication reset for {email}")


@mail_cli.command("status")
def mail_status(
    json_output: Annotated[bool, typer.Option("--json", help="Print the figures as JSON")] = False,
) -> None:
    """Mails queued, sent and failed, and how long the oldest queued one has waited."""
    from ankra_auth.clock import SystemClock
    from ankra_auth.mail import status

    _require_migrated()
    with _session() as db:  # type: ignore[attr-defined]
        figures = status.read(db, now=SystemClock().now())
    typer.echo(json.dumps(figures.as_dict()) if json_output else figures.describe())


@events_cli.command("prune")
def events_prune() -> None:
    """Delete security events (and organisations' log lines) older than
    ANKRA_EVENT_RETENTION_DAYS (default 365)."""
    from ankra_auth.clock import SystemClock
    from ankra_auth.events import service as events
    from ankra_auth.orgs import log as org_log

    settings = get_settings()
    _require_migrated()
    with _session() as db:  # type: ignore[attr-defined]
        now, days = SystemClock().now(), settings.event_retention_days
        count = events.prune(db, now=now, retention_days=days)
        org_lines = org_log.prune(db, now=now, retention_days=days)
    typer.echo(f"deleted {count} events older than {days} days")
    if org_lines:
        typer.echo(f"deleted {org_lines} organisation log lines older than {days} days")


@cli.command("prune")
def prune_expired() -> None:
    """Delete expired pending logins, challenges, hand-offs, sign-in links and sessions now.

    ``serve`` does this by itself every ANKRA_PRUNE_INTERVAL_SECONDS; this is the same run.
    """
    from ankra_auth import pruning
    from ankra_auth.clock import SystemClock
    from ankra_auth.db import make_engine

    _require_migrated()
    deleted = pruning.prune(make_engine(get_settings()), now=SystemClock().now())
    if not deleted:
        typer.echo("another instance is pruning right now; nothing done")
        return
    typer.echo(", ".join(f"{table}: {n} deleted" for table, n in deleted.items()))


@cli.command("rotate-secrets")
def rotate_secrets() -> None:
    """Re-seal every TOTP secret under ANKRA_SECRET_KEY (opened with ANKRA_SECRET_KEY_PREVIOUS).

    Idempotent and safe while serving. Recovery-code hashes cannot be re-keyed: keep the
    old key in ANKRA_SECRET_KEY_PREVIOUS until users have regenerated their codes.
    """
    from ankra_auth.db import make_engine
    from ankra_auth.totp.rotation import reseal_all

    _require_migrated()  # first: a missing SQLite database must not get a key file either
    settings = get_settings()
    try:
        _ = settings.secret
    except MissingSecretKey as exc:
        _fail(str(exc))
    done = reseal_all(make_engine(settings), settings=settings)
    typer.echo(
        f"TOTP secrets: {done.resealed} re-sealed, {done.current} already under the current key"
        + (f", {done.unreadable} opened by no configured key" if done.unreadable else "")
    )
    if done.unreadable:
        raise typer.Exit(1)


@cli.command("backup")
def backup_database(
    path: Annotated[Path, typer.Argument(help="The copy to write (a new file)")],
) -> None:
    """Back up the SQLite database to PATH, safe while the service serves.

    The secret key file goes beside it (PATH.secret.key, mode 0600). PostgreSQL: pg_dump.
    """
    from ankra_auth import backups

    settings = get_settings()
    try:
        done = backups.backup(settings, path)
    except backups.BackupError as exc:
        _fail(str(exc))
        return
    typer.echo(f"backed up {backups.database_file(settings)} to {done.database}")
    if done.key_file is not None:
        typer.echo(f"secret key copied to {done.key_file}: keep it with the backup")
    else:
        typer.echo("the secret key comes from ANKRA_SECRET_KEY: keep it with the backup")


@cli.command("restore")
def restore_database(
    path: Annotated[Path, typer.Argument(help="A copy made by `ankra-auth backup`")],
) -> None:
    """Restore the SQLite database from a backup made by `ankra-auth backup`.

    Its secret key file is restored too. Refused while `ankra-auth serve` holds the database.
    """
    from ankra_auth import backups

    try:
        done = backups.restore(get_settings(), path)
    except backups.BackupError as exc:
        _fail(str(exc))
        return
    typer.echo(f"restored {path} into {done.database}")
    if done.key_file is not None:
        typer.echo(f"secret key restored to {done.key_file}")


def main() -> None:
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    try:
        cli()
    except ValidationError as exc:  # a bad ANKRA_* value: which one and why, never the value
        for problem in exc.errors():
            name, *path = problem["loc"]
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
            typer.echo(f"error: ANKRA_{str(name).upper()}{where}: {problem['msg']}", err=True)
        raise SystemExit(2) from None
    except SettingsError as exc:  # not parseable at all (e.g. ANKRA_SSO_PROVIDERS not JSON)
        typer.echo(f"error: {exc} (JSON values such as ANKRA_SSO_PROVIDERS must parse)", err=True)
        raise SystemExit(2) from None
