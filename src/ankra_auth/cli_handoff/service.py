"""The CLI login hand-off: a pending login finished in a browser and handed back to the terminal.

``authorize`` turns the CLI's ``mfa_token`` into a grant with a browser URL; the hand-off
page completes the second factor through the same verification as ``/auth/mfa/*``
(:mod:`ankra_auth.signin`), which approves the grant. The terminal then
redeems it (:mod:`ankra_auth.cli_handoff.exchange`).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import CTE, ColumnElement, bindparam, exists, select, update
from sqlalchemy.orm import Session

from ankra_auth import comparisons, db_flow
from ankra_auth.accounts.models import User
from ankra_auth.challenges import service as challenges
from ankra_auth.challenges.models import PendingLogin
from ankra_auth.challenges.second_step import Factor, Grant, second_step
from ankra_auth.cli_handoff import address_throttle, user_codes
from ankra_auth.cli_handoff.models import CliGrant
from ankra_auth.cli_handoff.redirects import require_loopback, with_code
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.db import UTCDateTime, affected_rows, table
from ankra_auth.errors import AnkraError, InvalidUserCode, MfaTokenInvalid
from ankra_auth.events import service as events
from ankra_auth.events.types import EventType, SignInMethod
from ankra_auth.recovery_codes import service as recovery_codes
from ankra_auth.security import tokens
from ankra_auth.signin import passkey, rows
from ankra_auth.signin.second_factor import RECOVERY_CODE_USED
from ankra_auth.totp import service as totp

CODE_TTL = timedelta(seconds=60)
DEVICE_INTERVAL = 5
DEVICE_TTL = timedelta(minutes=10)
DEVICE_PAGE = "/cli/device"
_GRANTS = table(CliGrant)
DENIED = "The sign-in was denied in the browser"
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
    """What a hand-off page shows before the second factor: whose sign-in, and how; for a
    device hand-off also the terminal's address and the time it asked."""

    methods: list[str]
    email: str | None
    expires_in: int
    device: bool = False
    ip: str | None = None
    requested_at: datetime | None = None
    passkey_alone: bool = False  # `ankra login --passkey`: the account is not known yet


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
    passkey_alone: bool = False  # `ankra login --passkey --no-browser`: no account yet


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
    require_loopback(redirect_uri)
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


def open_grant(db: Session, *, token: str, kind: Kind, ctx: RequestContext) -> CliGrant:
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


def email_of(db: Session, user_id: str) -> str:
    return str(db.scalar(select(User.email).where(User.id == user_id)))


def describe(db: Session, *, token: str, ctx: RequestContext) -> Handoff:
    """What the hand-off page offers; raises :class:`MfaTokenInvalid` once it is over."""
    grant = open_grant(db, token=token, kind="loopback", ctx=ctx)
    if grant.passkey_first and grant.user_id is None:
        return Handoff(
            methods=[], email=None, expires_in=_seconds_left(grant, ctx), passkey_alone=True
        )
    if grant.pending_login_id is not None:
        challenges.load_active_by_id(db, pending_login_id=grant.pending_login_id, now=ctx.now)
        methods = challenges.methods_for(db, _user_id(grant))
    elif _awaits_approval(grant):
        methods = []
    else:
        raise _over()
    device = grant.redirect_uri is None
    return Handoff(
        methods=methods,
        email=email_of(db, _user_id(grant)),
        expires_in=_seconds_left(grant, ctx),
        device=device,
        ip=grant.requested_ip if device else None,
        requested_at=grant.created_at if device else None,
    )


def _awaits_approval(grant: CliGrant) -> bool:
    """A single sign-on device hand-off for an account without 2FA, after the provider:
    it waits for the person's Approve (or Deny) on the page."""
    return (
        grant.redirect_uri is None
        and grant.sso_provider is not None
        and grant.user_id is not None
        and grant.pending_login_id is None
    )


def approve_on_page(
    db: Session, *, token: str, binding: str | None, method: SignInMethod, ctx: RequestContext
) -> None:
    """The person's "Approve" on the hand-off page of a device hand-off whose account has
    no second factor (committed). Only in the browser that typed the user code (its
    ``binding`` cookie), and only while the account still has no second factor (else the
    factor is asked: sign in again). Raises :class:`MfaTokenInvalid` otherwise."""
    grant = open_grant(db, token=token, kind="loopback", ctx=ctx)
    bound = grant.browser_binding_hash is not None and hmac.compare_digest(
        grant.browser_binding_hash, tokens.hash_token(binding or "")
    )
    has_factor = {"passkey", "totp"} & set(challenges.methods_for(db, _user_id(grant)))
    if not _awaits_approval(grant) or not bound or has_factor:
        db.rollback()
        raise _over()
    approve_without_factor(db, grant=grant, method=method, ctx=ctx)


def deny_on_page(db: Session, *, token: str, ctx: RequestContext, kind: Kind = "loopback") -> None:
    """The person's "Deny" on a device hand-off's page (the page a single sign-on callback
    answers, or /cli/device with its approval handle): it ends, and the terminal's next
    poll is told so (committed)."""
    grant = open_grant(db, token=token, kind=kind, ctx=ctx)
    if grant.redirect_uri is not None:
        raise _over()
    ended = db.execute(
        update(CliGrant)
        .where(
            CliGrant.id == grant.id, CliGrant.approved_at.is_(None), CliGrant.redeemed_at.is_(None)
        )
        .values(redeemed_at=ctx.now, refusal=DENIED)
    )
    db.commit()
    if affected_rows(ended) != 1:
        raise _over()


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
        comparisons.note("user_code", key)
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
    if grant is not None and grant.passkey_first and grant.user_id is not None:
        # A passkey named the account on the page that typed the code: from then on only
        # that page's handle approves it, and the code opens it no more (whoever else
        # holds the code, the terminal's owner included, cannot approve it elsewhere).
        grant = None
    elif (
        grant is not None
        and grant.sso_provider is None
        and not grant.passkey_first
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
    if grant.passkey_first:
        result = DeviceApproval(
            approval_token=approval_token,
            email=None,  # known only once a passkey signs in on this page
            ip=grant.requested_ip,
            requested_at=grant.created_at,
            methods=[],
            expires_in=_seconds_left(grant, ctx),
            passkey_alone=True,
        )
    elif grant.sso_provider is not None:
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
            email=email_of(db, _user_id(grant)),
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
    grant = open_grant(db, token=token, kind=kind, ctx=ctx)
    return _approve_with(db, grant=grant, factor=totp.Code(settings, code, ctx.now), ctx=ctx)


def approve_with_recovery_code(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    token: str,
    code: str,
    kind: Kind = "loopback",
) -> str | None:
    grant = open_grant(db, token=token, kind=kind, ctx=ctx)
    dialect = db.get_bind().dialect.name
    factor = recovery_codes.Code(settings=settings, code=code, now=ctx.now, dialect=dialect)
    return _approve_with(db, grant=grant, factor=factor, ctx=ctx, also=RECOVERY_CODE_USED)


def passkey_options(
    db: Session, *, settings: Settings, ctx: RequestContext, token: str, kind: Kind = "loopback"
) -> dict[str, Any]:
    grant = open_grant(db, token=token, kind=kind, ctx=ctx)
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
    grant = open_grant(db, token=token, kind=kind, ctx=ctx)
    factor = passkey.Assertion(settings=settings, ctx=ctx, credential=credential)
    return _approve_with(db, grant=grant, factor=factor, ctx=ctx)


def _approve_with(
    db: Session,
    *,
    grant: CliGrant,
    factor: Factor,
    ctx: RequestContext,
    also: tuple[tuple[EventType, SignInMethod], ...] = (),
) -> str | None:
    """The second-factor step for the grant's pending login, with the grant's approval as
    what it grants (committed together, or not at all: an approval refused because the
    grant ended meanwhile leaves the factor unspent)."""
    pending_login_id = _pending_id(grant)
    db.commit()  # the grant was read in its own transaction; the step opens another

    dialect = db.get_bind().dialect.name

    def grant_for(_pending: challenges.Pending) -> Grant[str | None]:
        return approval(grant, dialect=dialect, method=factor.method, ctx=ctx, also=also)

    step = second_step(
        dialect=dialect,
        named=challenges.Named.id(pending_login_id),
        factor=factor,
        grant_for=grant_for,
        ctx=ctx,
    )
    return db_flow.run(db, step)


def _approval_ctes(
    finished: CTE,
    events_columns: tuple[rows.Columns, ...],
    mailed: rows.Mailed,
    binds_account: bool = False,
) -> tuple[tuple[CTE, ...], ColumnElement[bool]]:
    """PostgreSQL: the approval as a CTE acting only once ``finished`` returned a row, and
    its events (and the mails they ask for) only once it approved."""
    statement = _APPROVE_AS if binds_account else _APPROVE
    approved = statement.where(exists(select(finished.c[0]))).cte("approved_grant")
    made = exists(select(approved.c.id))
    return (approved, *rows.event_ctes(events_columns, made, mailed)), made


_APPROVE = (
    update(_GRANTS)
    .where(
        _GRANTS.c.id == bindparam("grant_id"),
        _GRANTS.c.approved_at.is_(None),
        _GRANTS.c.redeemed_at.is_(None),
        _GRANTS.c.expires_at > bindparam("now", type_=UTCDateTime),
    )
    # Named apart from every column: in a statement that also spends a factor, a parameter
    # named like a column (recovery_codes.code_hash) would be taken as a value to SET there.
    .values(
        approved_at=bindparam("now", type_=UTCDateTime),
        approved_method=bindparam("approval_method"),
        code_hash=bindparam("approval_code_hash"),
        # Device grants use the same deadline to be redeemed by the polling terminal.
        code_expires_at=bindparam("approval_code_expires_at", type_=UTCDateTime),
    )
    .returning(_GRANTS.c.id)
)
# `ankra login --passkey`: the passkey named the account, which the grant takes with its
# approval (only a grant that had none; named apart from the passkey's own user_id).
_APPROVE_AS = _APPROVE.where(_GRANTS.c.user_id.is_(None)).values(user_id=bindparam("bound_user_id"))


def approval(
    grant: CliGrant,
    *,
    dialect: str,
    method: SignInMethod,
    ctx: RequestContext,
    also: tuple[tuple[EventType, SignInMethod], ...] = (),
    owner: str | None = None,
) -> Grant[str | None]:
    """The grant approved by ``method`` (the ``cli_login_approved`` event with it), re-checked
    open: not approved, not redeemed or burned by a poll meanwhile, not expired. A
    loopback grant gets its single-use code here; its redirect URL (the result) carries it.
    ``owner``: the account a passkey alone named, bound to a grant that had none.
    """
    code = tokens.new_token() if grant.redirect_uri is not None else None
    detail = None
    if grant.redirect_uri is None:
        detail = f"device hand-off requested from {grant.requested_ip or 'an unknown address'}"
    user_id = owner if owner is not None else _user_id(grant)
    recorded: tuple[tuple[EventType, SignInMethod, str | None], ...] = tuple(
        (type_, event_method, None) for type_, event_method in also
    ) + ((events.CLI_LOGIN_APPROVED, method, detail),)
    event_rows = [
        events.row(user_id=user_id, type=t, method=m, ctx=ctx, detail=d) for t, m, d in recorded
    ]
    mails = rows.EventMails(event_rows)  # a recovery code used tells its owner
    values: dict[str, object] = {
        "grant_id": grant.id,
        "now": ctx.now,
        "approval_method": method,
        "approval_code_hash": tokens.hash_token(code) if code is not None else None,
        "approval_code_expires_at": ctx.now + CODE_TTL,
    }
    if owner is not None:
        values["bound_user_id"] = owner
    statement = _APPROVE if owner is None else _APPROVE_AS

    def steps() -> db_flow.Flow[bool]:
        if (yield db_flow.Run(statement, values)) is None:
            return False
        yield from mails.steps(dialect)
        return True

    redirect = None
    if grant.redirect_uri is not None and code is not None:
        redirect = with_code(grant.redirect_uri, code=code, state=grant.state)
    return Grant(
        build=_approval_ctes,
        shape=(tuple(tuple(row) for row in event_rows), mails.shape, owner is not None),
        params={**values, **rows.event_params(event_rows), **mails.params},
        steps=steps,
        result=redirect,
        counted=tuple((t, m) for t, m, _ in recorded),
    )


def approve_without_factor(
    db: Session, *, grant: CliGrant, method: SignInMethod, ctx: RequestContext
) -> str | None:
    """Approve a grant whose account has no second factor, by an explicit act on the page
    that showed what is approved (commits). Raises :class:`MfaTokenInvalid` once over."""
    made = approval(grant, dialect=db.get_bind().dialect.name, method=method, ctx=ctx)
    db.commit()
    approved = db_flow.run(db, _approve_alone(made))
    if not approved:
        raise _over()
    return made.result


def _approve_alone(made: Grant[str | None]) -> db_flow.Flow[bool]:
    approved = yield from made.steps()
    if approved:
        yield db_flow.Commit(made.counted)
    return approved
