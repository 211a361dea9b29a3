"""``ankra login --sso``: a CLI hand-off whose first factor is single sign-on.

``authorize`` makes a grant that knows no account yet. With a loopback ``redirect_uri``
it answers a ``browser_url`` at the provider's start route. Without one
(``--no-browser``) it is a device hand-off: the terminal shows the fixed /cli/device
page and a user code; only once the right code is typed there does the page get the
approval handle, which ``device_start`` trades (once) for that same start link.
A device hand-off's start link opens only in the browser that typed the code: trading
the handle sets a cookie there (``device_start``), and ``claim`` checks it. The first
browser to open a start link spends its token (``claim``) and the grant is then finished
only by that browser's flow: after the provider's callback it goes to the second-factor
step (``to_second_factor``, the same page as after a password), or is refused with the
reason sent to the terminal (``refuse``: to the loopback, or to the next device poll).
An account without 2FA is approved by the callback only on the loopback (whose redirect
reaches only the opener's own machine: ``approve``); a device hand-off waits for the
person's "Approve" on the page that shows what is approved (``await_approval``), since
the provider may sign in whoever opens a link silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, and_, case, literal, or_, select, update
from sqlalchemy.orm import Session

from ankra_auth.cli_handoff import service
from ankra_auth.cli_handoff.models import CliGrant
from ankra_auth.cli_handoff.redirects import require_loopback, with_error
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.db import UTCDateTime, affected_rows
from ankra_auth.device_tokens import service as device_tokens
from ankra_auth.errors import AnkraError, MfaTokenInvalid, NotFound
from ankra_auth.security import tokens

# As long as a single sign-on flow may take; the second factor then has its login's time.
SSO_TTL = timedelta(minutes=10)
METHOD: Final = "sso"


@dataclass(frozen=True, slots=True)
class Approved:
    """Where the browser goes now: the loopback's redirect, or ``None`` for a device
    hand-off (the terminal collects it by polling; the page says to go back there)."""

    redirect_url: str | None


def authorize(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    provider_id: str,
    redirect_uri: str | None,
    state: str | None,
    code_challenge: str,
    device_token: str | None = None,
) -> service.LoopbackStarted | service.DeviceStarted:
    """Without ``redirect_uri``, a device hand-off. ``device_token`` is the CLI's: the
    second factor after the provider counts on it. Raises :class:`InvalidRedirectUri`, or
    :class:`NotFound` for an unknown provider."""
    require_loopback(redirect_uri)
    if provider_id not in {p.id for p in settings.sso_providers}:
        raise NotFound("No single sign-on provider has that id (see /api/v1/auth/sso/providers)")
    # Loopback: the start link's token. Device: a hash nobody holds until the code is typed.
    start_token = tokens.new_token()
    grant = CliGrant(
        browser_token_hash=tokens.hash_token(start_token),
        redirect_uri=redirect_uri,
        state=state if redirect_uri is not None else None,
        code_challenge=code_challenge,
        created_at=ctx.now,
        expires_at=ctx.now + SSO_TTL,
        interval=service.DEVICE_INTERVAL,
        sso_provider=provider_id,
        device_token_hash=None if device_token is None else tokens.hash_token(device_token),
    )
    if redirect_uri is None:
        return service.start_device(db, settings=settings, ctx=ctx, grant=grant)
    db.add(grant)
    db.commit()
    return service.LoopbackStarted(browser_url=_start_url(settings, provider_id, start_token))


def _start_url(settings: Settings, provider_id: str, token: str) -> str:
    return f"{settings.public_url.rstrip('/')}/auth/sso/{provider_id}/start?cli={token}"


@dataclass(frozen=True, slots=True)
class DeviceStart:
    """The provider's start link, and the cookie value that binds it to this browser."""

    start_url: str
    binding: str


def device_start(
    db: Session, *, settings: Settings, ctx: RequestContext, approval_token: str
) -> DeviceStart:
    """The start link of a single sign-on device hand-off, for the page that typed its
    code (committed): the approval handle is spent for a fresh start token, and the grant
    is bound to a new cookie for this browser, so ``claim`` takes the link once and only
    here: a link sent to someone else opens nothing.

    Raises :class:`MfaTokenInvalid` for any other handle, or once the grant is over or
    its provider's sign-in has started.
    """
    start_token = tokens.new_token()
    binding = tokens.new_token()
    traded = db.execute(
        update(CliGrant)
        .where(
            CliGrant.browser_token_hash == tokens.hash_token(approval_token),
            CliGrant.redirect_uri.is_(None),
            CliGrant.sso_provider.is_not(None),
            CliGrant.sso_started_at.is_(None),
            CliGrant.expires_at > ctx.now,
            *_open(),
        )
        .values(
            browser_token_hash=tokens.hash_token(start_token),
            browser_binding_hash=tokens.hash_token(binding),
        )
        .returning(CliGrant.sso_provider)
    ).first()
    db.commit()
    if traded is None or traded[0] is None:
        raise MfaTokenInvalid(
            "This sign-in has expired or was already started: "
            "run `ankra login --sso --no-browser` again"
        )
    return DeviceStart(_start_url(settings, str(traded[0]), start_token), binding)


def _open() -> list[ColumnElement[bool]]:
    """Still waiting for its account: not bound, approved, refused or redeemed."""
    return [
        CliGrant.user_id.is_(None),
        CliGrant.approved_at.is_(None),
        CliGrant.redeemed_at.is_(None),
    ]


def claim(
    db: Session, *, token: str, provider_id: str, binding: str | None, ctx: RequestContext
) -> str | None:
    """Spend the start link's token (committed): the grant's id, once, or ``None``.

    A device hand-off's link works only with ``binding``, the cookie of the browser that
    typed its user code. The token is replaced by one nobody holds, so the URL in the
    browser's history opens nothing any more; from here the grant follows the flow bound
    to this browser.
    """
    bound_here = CliGrant.browser_binding_hash == tokens.hash_token(binding or "")
    claimed = db.execute(
        update(CliGrant)
        .where(
            CliGrant.browser_token_hash == tokens.hash_token(token),
            CliGrant.sso_provider == provider_id,
            CliGrant.sso_started_at.is_(None),
            CliGrant.expires_at > ctx.now,
            or_(CliGrant.redirect_uri.is_not(None), bound_here),
            *_open(),
        )
        .values(sso_started_at=ctx.now, browser_token_hash=tokens.hash_token(tokens.new_token()))
        .returning(CliGrant.id)
    ).first()
    db.commit()
    return None if claimed is None else str(claimed[0])


def _bind(
    db: Session,
    *,
    grant_id: str,
    ctx: RequestContext,
    values: dict[str, object],
) -> bool:
    result = db.execute(
        update(CliGrant)
        .where(
            CliGrant.id == grant_id,
            CliGrant.sso_started_at.is_not(None),
            CliGrant.expires_at > ctx.now,
            *_open(),
        )
        .values(**values)
    )
    return affected_rows(result) == 1


def to_second_factor(
    db: Session,
    *,
    grant_id: str,
    user_id: str,
    pending_login_id: str,
    pending_expires_at: datetime,
    ctx: RequestContext,
) -> str | None:
    """The account is known and has 2FA: the grant takes its pending login, and a fresh
    token for the hand-off page (rendered in the callback's answer, in no URL). ``None``
    when the grant is over (committed)."""
    page_token = tokens.new_token()
    # As for a password: the login's lifetime; a device hand-off keeps its own 10 minutes
    # if they end first (its terminal stops polling then).
    until = literal(pending_expires_at, UTCDateTime())
    device_ends_first = and_(CliGrant.redirect_uri.is_(None), CliGrant.expires_at < until)
    bound = _bind(
        db,
        grant_id=grant_id,
        ctx=ctx,
        values={
            "user_id": user_id,
            "pending_login_id": pending_login_id,
            "browser_token_hash": tokens.hash_token(page_token),
            "expires_at": case((device_ends_first, CliGrant.expires_at), else_=until),
        },
    )
    db.commit()
    return page_token if bound else None


def await_approval(db: Session, *, grant_id: str, user_id: str, ctx: RequestContext) -> str | None:
    """A device hand-off for an account without 2FA: bound to the account, with a fresh
    token for the page that asks the person to approve (rendered in the callback's answer,
    in no URL). ``None`` when the grant is over (committed)."""
    page_token = tokens.new_token()
    bound = _bind(
        db,
        grant_id=grant_id,
        ctx=ctx,
        values={"user_id": user_id, "browser_token_hash": tokens.hash_token(page_token)},
    )
    db.commit()
    return page_token if bound else None


def approve(db: Session, *, grant_id: str, user_id: str, ctx: RequestContext) -> Approved | None:
    """A loopback hand-off for an account without 2FA: approved by the provider's sign-in
    alone, as on the web (its redirect reaches only the opener's own loopback). ``None``
    when the grant is over (committed)."""
    if not _bind(db, grant_id=grant_id, ctx=ctx, values={"user_id": user_id}):
        db.rollback()
        return None
    grant = db.scalar(select(CliGrant).where(CliGrant.id == grant_id))
    assert grant is not None  # noqa: S101 - bound just above, in this transaction
    try:
        return Approved(service.approve_without_factor(db, grant=grant, method=METHOD, ctx=ctx))
    except AnkraError:  # over meanwhile (rolled back): the page says so
        return None


def is_device(db: Session, *, grant_id: str) -> bool:
    """Whether the grant is a device hand-off (no loopback redirect)."""
    redirect = db.scalar(select(CliGrant.redirect_uri).where(CliGrant.id == grant_id))
    return redirect is None


def device_token_of(db: Session, *, grant_id: str, user_id: str, ctx: RequestContext) -> str | None:
    """The id of the CLI's device token the grant was started with, while it is a valid
    token of ``user_id``."""
    token_hash = db.scalar(select(CliGrant.device_token_hash).where(CliGrant.id == grant_id))
    return device_tokens.valid_id_of_hash(db, token_hash=token_hash, user_id=user_id, now=ctx.now)


def refuse(db: Session, *, grant_id: str, description: str, ctx: RequestContext) -> str | None:
    """End the grant (committed) and answer where to tell the terminal why, or ``None``.

    A device hand-off keeps the reason for its terminal's next poll (``access_denied``).
    """
    grant = db.scalar(select(CliGrant).where(CliGrant.id == grant_id))
    values: dict[str, object] = {"redeemed_at": ctx.now}
    if grant is not None and grant.redirect_uri is None:
        values["refusal"] = description
    ended = db.execute(
        update(CliGrant)
        .where(
            CliGrant.id == grant_id, CliGrant.approved_at.is_(None), CliGrant.redeemed_at.is_(None)
        )
        .values(**values)
    )
    db.commit()
    if grant is None or grant.redirect_uri is None or affected_rows(ended) != 1:
        return None
    return with_error(
        grant.redirect_uri, error="access_denied", description=description, state=grant.state
    )
