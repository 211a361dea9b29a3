"""The CLI login hand-off: a pending login finished in a browser and handed back to the terminal.

``authorize`` turns the CLI's ``mfa_token`` into a grant with a browser URL; the hand-off
page completes the second factor through the same verification as ``/auth/mfa/*``
(:mod:`ankra_auth.signin`), which approves the grant. The terminal then
redeems it (:mod:`ankra_auth.cli_handoff.exchange`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ankra_auth.accounts.models import User
from ankra_auth.challenges import service as challenges
from ankra_auth.challenges.models import PendingLogin
from ankra_auth.cli_handoff import address_throttle, user_codes
from ankra_auth.cli_handoff.models import CliGrant
from ankra_auth.cli_handoff.redirects import is_loopback_redirect, with_code
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.db import affected_rows
from ankra_auth.errors import AnkraError, InvalidRedirectUri, InvalidUserCode, MfaTokenInvalid
from ankra_auth.events import service as events
from ankra_auth.events.types import SignInMethod
from ankra_auth.passkeys import service as passkeys
from ankra_auth.security import tokens
from ankra_auth.signin import passkey, second_factor

CODE_TTL = timedelta(seconds=60)
DEVICE_INTERVAL = 5
DEVICE_TTL = timedelta(minutes=10)
DEVICE_PAGE = "/cli/device"
# Which page a grant's token belongs to: the hand-off page ("loopback": /cli/login/..., or
# the page a single sign-on callback renders) or /cli/device's approval handle ("device").
# One page's token never opens the other's calls.
Kind = Literal["loopback", "device"]


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
    """What a hand-off page shows before the second factor: whose sign-in, and how."""

    methods: list[str]
    email: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class DeviceApproval:
    """A device hand-off found by its user code: what is being approved, and the handle
    the page sends to the factor endpoints.

    For ``ankra login --sso --no-browser`` the account is not known yet: ``email`` is
    ``None``, ``methods`` empty, and ``sso_provider`` (id, name) is where the page goes
    first (``sso_grants.device_start``).
    """

    approval_token: str
    email: str | None
    ip: str | None
    requested_at: datetime
    methods: list[str]
    expires_in: int
    sso_provider: tuple[str, str] | None = None


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
    # Loopback: the page's secret. Device: a hash nobody holds until the code is typed.
    browser_token = tokens.new_token()
    grant = CliGrant(
        pending_login_id=pending.id,
        user_id=pending.user_id,
        browser_token_hash=tokens.hash_token(browser_token),
        redirect_uri=redirect_uri,
        state=state if redirect_uri is not None else None,
        code_challenge=code_challenge,
        created_at=ctx.now,
        expires_at=pending.expires_at,  # a loopback grant lives exactly as long as its login
        interval=DEVICE_INTERVAL,
    )
    if redirect_uri is not None:
        db.add(grant)
        db.commit()
        base = settings.public_url.rstrip("/")
        return LoopbackStarted(browser_url=f"{base}/cli/login/{browser_token}")
    return _start_device(db, settings=settings, ctx=ctx, grant=grant, pending=pending)


def _start_device(
    db: Session, *, settings: Settings, ctx: RequestContext, grant: CliGrant, pending: PendingLogin
) -> DeviceStarted:
    """The device hand-off takes the pending login over for its 10 minutes: the login's
    ``mfa_token`` stops working (re-keyed) and only the typed user code leads to it."""
    taken = db.execute(
        update(PendingLogin)
        .where(PendingLogin.id == pending.id, PendingLogin.finished_at.is_(None))
        .values(token_hash=tokens.hash_token(tokens.new_token()), expires_at=ctx.now + DEVICE_TTL)
    )
    if affected_rows(taken) != 1:
        db.rollback()
        raise MfaTokenInvalid("This sign-in has expired or was already used: sign in again")
    return start_device(db, settings=settings, ctx=ctx, grant=grant)


def start_device(
    db: Session, *, settings: Settings, ctx: RequestContext, grant: CliGrant
) -> DeviceStarted:
    """Give a new grant its user code and device code (10 minutes) and store it (commits).

    Its page token stays a hash nobody holds until the right user code is typed.
    """
    user_code = user_codes.new_user_code()
    device_code = tokens.new_token()
    grant.expires_at = ctx.now + DEVICE_TTL
    grant.user_code_hash = user_codes.keyed_hash(settings, user_codes.normalize(user_code) or "")
    grant.device_code_hash = tokens.hash_token(device_code)
    grant.requested_ip = ctx.ip
    db.add(grant)
    db.commit()
    return DeviceStarted(
        browser_url=f"{settings.public_url.rstrip('/')}{DEVICE_PAGE}",
        user_code=user_code,
        device_code=device_code,
        interval=grant.interval,
        expires_in=int(DEVICE_TTL.total_seconds()),
    )


def _seconds_left(grant: CliGrant, ctx: RequestContext) -> int:
    return max(0, int((grant.expires_at - ctx.now).total_seconds()))


def _over() -> AnkraError:
    return MfaTokenInvalid("This sign-in has expired or was already used: sign in again")


def _kind_of(grant: CliGrant) -> Kind:
    """Whose token the grant holds now. A device grant's is the approval handle of
    /cli/device, until ``ankra login --sso --no-browser`` starts its provider's sign-in:
    from then on only the hand-off page that the callback renders holds one (as for
    ``ankra login --sso``), and the approval handle opens nothing more."""
    return "device" if grant.redirect_uri is None and grant.sso_started_at is None else "loopback"


def _open_grant(db: Session, *, token: str, kind: Kind, ctx: RequestContext) -> CliGrant:
    """The grant a page's token names, while it can still be approved.

    Spent (redeemed), burned by a wrong ``code_verifier`` (also redeemed), approved or
    expired grants are refused here, before any factor is looked at.
    """
    grant = db.scalar(
        select(CliGrant).where(CliGrant.browser_token_hash == tokens.hash_token(token))
    )
    if (
        grant is None
        or _kind_of(grant) != kind
        or grant.approved_at is not None
        or grant.redeemed_at is not None
        or grant.expires_at <= ctx.now
    ):
        raise _over()
    return grant


def _pending_id(grant: CliGrant) -> str:
    # None only while an `ankra login --sso` grant waits for its provider: nothing to approve.
    if grant.pending_login_id is None:
        raise _over()
    return grant.pending_login_id


def _user_id(grant: CliGrant) -> str:
    if grant.user_id is None:
        raise _over()
    return grant.user_id


def _email(db: Session, user_id: str) -> str:
    return str(db.scalar(select(User.email).where(User.id == user_id)))


def describe(db: Session, *, token: str, ctx: RequestContext) -> Handoff:
    """What the loopback page offers; raises :class:`MfaTokenInvalid` once it is over."""
    grant = _open_grant(db, token=token, kind="loopback", ctx=ctx)
    challenges.load_active_by_id(db, pending_login_id=_pending_id(grant), now=ctx.now)
    return Handoff(
        methods=challenges.methods_for(db, _user_id(grant)),
        email=_email(db, _user_id(grant)),
        expires_in=_seconds_left(grant, ctx),
    )


def _login_open(db: Session, *, grant: CliGrant, ctx: RequestContext) -> bool:
    try:
        challenges.load_active_by_id(db, pending_login_id=_pending_id(grant), now=ctx.now)
    except MfaTokenInvalid:
        return False
    return True


def open_device(
    db: Session, *, settings: Settings, ctx: RequestContext, user_code: str
) -> DeviceApproval:
    """The device hand-off whose user code was typed on /cli/device (RFC 8628 section 5.4).

    The attempt is counted on the client address before the code is looked up (by its
    keyed hash); a right code gets its count back and a fresh approval handle, which
    replaces any earlier one. A single sign-on grant opens only until its provider's
    sign-in starts (once, see ``sso_grants.device_start``). Raises :class:`RateLimited`
    or :class:`InvalidUserCode`.
    """
    key = address_throttle.address_key(ctx.ip)
    address_throttle.reserve(db, key=key, now=ctx.now)
    canonical = user_codes.normalize(user_code)
    grant = None
    if canonical is not None:
        grant = db.scalar(
            select(CliGrant)
            .where(
                CliGrant.user_code_hash == user_codes.keyed_hash(settings, canonical),
                CliGrant.approved_at.is_(None),
                CliGrant.redeemed_at.is_(None),
                CliGrant.sso_started_at.is_(None),
                CliGrant.expires_at > ctx.now,
            )
            .limit(1)
        )
    if (
        grant is not None
        and grant.sso_provider is None
        and not _login_open(db, grant=grant, ctx=ctx)
    ):
        grant = None  # its pending login was voided (too many failed factors): over
    if grant is None:
        db.rollback()
        raise InvalidUserCode(
            "That code is not valid: check the code your terminal shows, or run `ankra login` again"
        )
    approval_token = tokens.new_token()
    opened = db.execute(
        update(CliGrant)
        .where(
            CliGrant.id == grant.id,
            CliGrant.approved_at.is_(None),
            CliGrant.sso_started_at.is_(None),
        )
        .values(browser_token_hash=tokens.hash_token(approval_token))
    )
    if affected_rows(opened) != 1:
        db.rollback()
        raise _over()
    address_throttle.refund(db, key=key)
    if grant.sso_provider is not None:
        names = {p.id: p.name for p in settings.sso_providers}
        result = DeviceApproval(
            approval_token=approval_token,
            email=None,  # known only after the provider's sign-in
            ip=grant.requested_ip,
            requested_at=grant.created_at,
            methods=[],
            expires_in=_seconds_left(grant, ctx),
            sso_provider=(grant.sso_provider, names.get(grant.sso_provider, grant.sso_provider)),
        )
    else:
        result = DeviceApproval(
            approval_token=approval_token,
            email=_email(db, _user_id(grant)),
            ip=grant.requested_ip,
            requested_at=grant.created_at,
            methods=challenges.methods_for(db, _user_id(grant)),
            expires_in=_seconds_left(grant, ctx),
        )
    db.commit()
    return result


def approve_with_totp(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    token: str,
    code: str,
    kind: Kind = "loopback",
) -> str | None:
    """Complete the hand-off with an authenticator code; returns the redirect URL (loopback).

    Fails exactly like ``/auth/mfa/totp``: :class:`InvalidCode`, :class:`TooManyAttempts`,
    :class:`MfaTokenInvalid`, :class:`RateLimited`.
    """
    grant = _open_grant(db, token=token, kind=kind, ctx=ctx)
    second_factor.with_totp(
        db, settings=settings, ctx=ctx, pending_login_id=_pending_id(grant), code=code
    )
    return approve(db, grant=grant, method="totp", ctx=ctx)


def approve_with_recovery_code(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    token: str,
    code: str,
    kind: Kind = "loopback",
) -> str | None:
    grant = _open_grant(db, token=token, kind=kind, ctx=ctx)
    second_factor.with_recovery_code(
        db, settings=settings, ctx=ctx, pending_login_id=_pending_id(grant), code=code
    )
    return approve(db, grant=grant, method="recovery_code", ctx=ctx)


def passkey_options(
    db: Session, *, settings: Settings, ctx: RequestContext, token: str, kind: Kind = "loopback"
) -> dict[str, Any]:
    grant = _open_grant(db, token=token, kind=kind, ctx=ctx)
    pending = challenges.load_active_by_id(db, pending_login_id=_pending_id(grant), now=ctx.now)
    return passkey.login_options(db, settings=settings, ctx=ctx, pending=pending)


def approve_with_passkey(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    token: str,
    credential: dict[str, Any],
    kind: Kind = "loopback",
) -> str | None:
    grant = _open_grant(db, token=token, kind=kind, ctx=ctx)
    passkey.with_passkey(
        db,
        settings=settings,
        ctx=ctx,
        pending_login_id=_pending_id(grant),
        credential=credential,
    )
    return approve(db, grant=grant, method=passkeys.METHOD, ctx=ctx)


def approve(
    db: Session, *, grant: CliGrant, method: SignInMethod, ctx: RequestContext
) -> str | None:
    """Approve the grant in the transaction that finished its pending login (commits).

    The update re-checks that the grant is still open (not approved, not redeemed or
    burned by a poll meanwhile, not expired); if not, the whole transaction, the spent
    factor with it, is rolled back. Loopback grants get their single-use code here; the
    redirect URL carries it.
    """
    code = tokens.new_token() if grant.redirect_uri is not None else None
    approved = db.execute(
        update(CliGrant)
        .where(
            CliGrant.id == grant.id,
            CliGrant.approved_at.is_(None),
            CliGrant.redeemed_at.is_(None),
            CliGrant.expires_at > ctx.now,
        )
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
        raise _over()
    detail = None
    if grant.redirect_uri is None:
        detail = f"device hand-off requested from {grant.requested_ip or 'an unknown address'}"
    events.record(
        db,
        user_id=_user_id(grant),
        type=events.CLI_LOGIN_APPROVED,
        method=method,
        ctx=ctx,
        detail=detail,
    )
    db.commit()
    if grant.redirect_uri is None or code is None:
        return None
    return with_code(grant.redirect_uri, code=code, state=grant.state)
