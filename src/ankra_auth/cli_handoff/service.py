"""The CLI login hand-off: a pending login finished in a browser and handed back to the terminal.

``authorize`` turns the CLI's ``mfa_token`` into a grant with a browser URL; the hand-off
page completes the second factor through the same verification as ``/auth/mfa/*``
(:mod:`ankra_auth.accounts.login`), which approves the grant. The terminal then
redeems it (:mod:`ankra_auth.cli_handoff.exchange`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ankra_auth.accounts import login
from ankra_auth.challenges import service as challenges
from ankra_auth.cli_handoff.models import CliGrant
from ankra_auth.cli_handoff.redirects import is_loopback_redirect, with_code
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.db import affected_rows
from ankra_auth.errors import InvalidRedirectUri, MfaTokenInvalid
from ankra_auth.events import service as events
from ankra_auth.passkeys import service as passkeys
from ankra_auth.security import tokens

CODE_TTL = timedelta(seconds=60)
DEVICE_INTERVAL = 5
# RFC 8628 section 6.1: consonants only, so no word and nothing to misread (0/O, 1/I).
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"


@dataclass(frozen=True, slots=True)
class LoopbackStarted:
    browser_url: str


@dataclass(frozen=True, slots=True)
class DeviceStarted:
    browser_url: str
    user_code: str
    device_code: str
    interval: int
    expires_in: int


@dataclass(frozen=True, slots=True)
class Handoff:
    methods: list[str]
    user_code: str | None
    expires_in: int


def new_user_code() -> str:
    """Eight letters shown as ``XXXX-XXXX`` for the person to compare, e.g. ``WDJB-MJHT``."""
    letters = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
    return f"{letters[:4]}-{letters[4:]}"


def authorize(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    mfa_token: str,
    redirect_uri: str | None,
    state: str | None,
    code_challenge: str,
) -> LoopbackStarted | DeviceStarted:
    """Hand a pending login to the browser; without ``redirect_uri``, a device hand-off.

    Raises :class:`InvalidRedirectUri` or :class:`MfaTokenInvalid`.
    """
    if redirect_uri is not None and not is_loopback_redirect(redirect_uri):
        raise InvalidRedirectUri(
            "redirect_uri must be http://127.0.0.1:PORT/..., http://[::1]:PORT/... "
            "or http://localhost:PORT/..."
        )
    pending = challenges.load_active(db, mfa_token=mfa_token, now=ctx.now)
    browser_token = tokens.new_token()
    grant = CliGrant(
        pending_login_id=pending.id,
        user_id=pending.user_id,
        browser_token_hash=tokens.hash_token(browser_token),
        redirect_uri=redirect_uri,
        state=state if redirect_uri is not None else None,
        code_challenge=code_challenge,
        created_at=ctx.now,
        expires_at=pending.expires_at,  # the grant lives exactly as long as its login
        interval=DEVICE_INTERVAL,
    )
    device_code = None
    if redirect_uri is None:
        device_code = tokens.new_token()
        grant.user_code = new_user_code()
        grant.device_code_hash = tokens.hash_token(device_code)
    db.add(grant)
    db.commit()
    browser_url = f"{settings.public_url.rstrip('/')}/cli/login/{browser_token}"
    if device_code is None or grant.user_code is None:
        return LoopbackStarted(browser_url=browser_url)
    return DeviceStarted(
        browser_url=browser_url,
        user_code=grant.user_code,
        device_code=device_code,
        interval=grant.interval,
        expires_in=_seconds_left(grant, ctx),
    )


def _seconds_left(grant: CliGrant, ctx: RequestContext) -> int:
    return max(0, int((grant.expires_at - ctx.now).total_seconds()))


def _open_grant(db: Session, *, token: str, ctx: RequestContext) -> CliGrant:
    grant = db.scalar(
        select(CliGrant).where(CliGrant.browser_token_hash == tokens.hash_token(token))
    )
    if grant is None or grant.approved_at is not None or grant.expires_at <= ctx.now:
        raise MfaTokenInvalid("This sign-in has expired or was already used: sign in again")
    return grant


def describe(db: Session, *, token: str, ctx: RequestContext) -> Handoff:
    """What the hand-off page offers; raises :class:`MfaTokenInvalid` once it is over."""
    grant = _open_grant(db, token=token, ctx=ctx)
    challenges.load_active_by_id(db, pending_login_id=grant.pending_login_id, now=ctx.now)
    return Handoff(
        methods=challenges.methods_for(db, grant.user_id),
        user_code=grant.user_code,
        expires_in=_seconds_left(grant, ctx),
    )


def approve_with_totp(
    db: Session, *, settings: Settings, ctx: RequestContext, token: str, code: str
) -> str | None:
    """Complete the hand-off with an authenticator code; returns the redirect URL (loopback).

    Fails exactly like ``/auth/mfa/totp``: :class:`InvalidCode`, :class:`TooManyAttempts`,
    :class:`MfaTokenInvalid`, :class:`RateLimited`.
    """
    grant = _open_grant(db, token=token, ctx=ctx)
    login.with_totp(
        db, settings=settings, ctx=ctx, pending_login_id=grant.pending_login_id, code=code
    )
    return _approve(db, grant=grant, method="totp", ctx=ctx)


def approve_with_recovery_code(
    db: Session, *, settings: Settings, ctx: RequestContext, token: str, code: str
) -> str | None:
    grant = _open_grant(db, token=token, ctx=ctx)
    login.with_recovery_code(
        db, settings=settings, ctx=ctx, pending_login_id=grant.pending_login_id, code=code
    )
    return _approve(db, grant=grant, method="recovery_code", ctx=ctx)


def passkey_options(
    db: Session, *, settings: Settings, ctx: RequestContext, token: str
) -> dict[str, Any]:
    grant = _open_grant(db, token=token, ctx=ctx)
    pending = challenges.load_active_by_id(db, pending_login_id=grant.pending_login_id, now=ctx.now)
    return passkeys.login_options(db, settings=settings, ctx=ctx, pending=pending)


def approve_with_passkey(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    token: str,
    credential: dict[str, Any],
) -> str | None:
    grant = _open_grant(db, token=token, ctx=ctx)
    passkeys.with_passkey(
        db,
        settings=settings,
        ctx=ctx,
        pending_login_id=grant.pending_login_id,
        credential=credential,
    )
    return _approve(db, grant=grant, method=passkeys.METHOD, ctx=ctx)


def _approve(db: Session, *, grant: CliGrant, method: str, ctx: RequestContext) -> str | None:
    """Approve the grant in the transaction that finished its pending login (commits).

    Loopback grants get their single-use code here; the redirect URL carries it.
    """
    code = tokens.new_token() if grant.redirect_uri is not None else None
    approved = db.execute(
        update(CliGrant)
        .where(CliGrant.id == grant.id, CliGrant.approved_at.is_(None))
        .values(
            approved_at=ctx.now,
            approved_method=method,
            code_hash=tokens.hash_token(code) if code is not None else None,
            # Device grants use the same deadline to be redeemed by the polling terminal.
            code_expires_at=ctx.now + CODE_TTL,
        )
    )
    if affected_rows(approved) != 1:
        db.rollback()  # the factor stays unspent
        raise MfaTokenInvalid("This sign-in has expired or was already used: sign in again")
    detail = f"user code {grant.user_code}" if grant.user_code else None
    events.record(
        db,
        user_id=grant.user_id,
        type=events.CLI_LOGIN_APPROVED,
        method=method,
        ctx=ctx,
        detail=detail,
    )
    db.commit()
    if grant.redirect_uri is None or code is None:
        return None
    return with_code(grant.redirect_uri, code=code, state=grant.state)
