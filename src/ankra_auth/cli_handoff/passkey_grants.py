"""``ankra login --passkey``: a CLI hand-off whose whole sign-in is a passkey alone.

``authorize`` makes a grant that knows no account yet. On the loopback hand-off page the
passkey is the whole sign-in: ``passkey_alone.passkey_step`` (the same door as
``POST /api/v1/auth/passkey``) grants the hand-off's approval, binding the account the
passkey names, and the browser goes back to the terminal's loopback (its redirect reaches
only the opener's own machine, as for ``ankra login --sso`` without 2FA).

Without ``redirect_uri`` (``--no-browser``) it is a device hand-off: after the right user
code, /cli/device shows the terminal's address and time and the warning, then asks for
the passkey. A passkey there approves nothing by itself: it only binds the account to the
grant (``sign_in_on_device``), and the page then asks "Approve sign-in to ankra CLI for
EMAIL?"; only the person's Approve on that page (``approve_on_device``, with the handle
that bound it) approves the grant, and Deny ends it and tells the terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import CTE, ColumnElement, bindparam, exists, select, update
from sqlalchemy.orm import Session

from ankra_auth import db_flow
from ankra_auth.challenges.second_step import Grant
from ankra_auth.cli_handoff import service
from ankra_auth.cli_handoff.models import CliGrant
from ankra_auth.cli_handoff.redirects import require_loopback
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.db import UTCDateTime, table
from ankra_auth.errors import AnkraError, MfaTokenInvalid
from ankra_auth.events.types import SignInMethod
from ankra_auth.security import tokens
from ankra_auth.signin import passkey_alone

# As long as the terminal waits for its browser (and a password sign-in's pending login).
LOOPBACK_TTL = timedelta(minutes=5)
METHOD: Final[SignInMethod] = "passkey"
_GRANTS = table(CliGrant)


def authorize(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    redirect_uri: str | None,
    state: str | None,
    code_challenge: str,
    device_token: str | None = None,
) -> service.LoopbackStarted | service.DeviceStarted:
    """A hand-off that a passkey alone will sign in; without ``redirect_uri``, a device
    hand-off. ``device_token`` is the CLI's: the passkey's attempt counts on it when it
    belongs to the passkey's account. Raises :class:`InvalidRedirectUri`."""
    require_loopback(redirect_uri)
    # Loopback: the page's secret. Device: a hash nobody holds until the code is typed.
    page_token = tokens.new_token()
    grant = CliGrant(
        browser_token_hash=tokens.hash_token(page_token),
        redirect_uri=redirect_uri,
        state=state if redirect_uri is not None else None,
        code_challenge=code_challenge,
        created_at=ctx.now,
        expires_at=ctx.now + LOOPBACK_TTL,
        interval=service.DEVICE_INTERVAL,
        passkey_first=True,
        device_token_hash=None if device_token is None else tokens.hash_token(device_token),
    )
    if redirect_uri is None:
        return service.start_device(db, settings=settings, ctx=ctx, grant=grant)
    db.add(grant)
    db.commit()
    return service.LoopbackStarted(
        browser_url=f"{settings.public_url.rstrip('/')}/cli/login/{page_token}"
    )


def _unbound(db: Session, *, token: str, kind: service.Kind, ctx: RequestContext) -> CliGrant:
    """The open passkey-first grant the page's token names, while no passkey has named its
    account yet. Raises :class:`MfaTokenInvalid` otherwise."""
    grant = service.open_grant(db, token=token, kind=kind, ctx=ctx)
    if not grant.passkey_first or grant.user_id is not None:
        db.rollback()
        raise _over()
    return grant


def _over() -> AnkraError:
    return MfaTokenInvalid(
        "This sign-in has expired or was already used: run `ankra login --passkey` again"
    )


def options(
    db: Session, *, settings: Settings, ctx: RequestContext, token: str, kind: service.Kind
) -> dict[str, Any]:
    """Request options for the hand-off's passkey: any discoverable passkey of this site,
    user verification required (as ``POST /api/v1/auth/passkey/options``, and limited per
    client address the same way). Raises :class:`MfaTokenInvalid`, :class:`RateLimited`."""
    _unbound(db, token=token, kind=kind, ctx=ctx)
    db.commit()
    return passkey_alone.options(db, settings=settings, ctx=ctx)


def sign_in_on_loopback(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    token: str,
    credential: Mapping[str, Any],
) -> str | None:
    """The loopback hand-off's passkey: the whole sign-in, approving the grant for the
    passkey's account (committed with the sign count's advance); returns the redirect to
    the terminal's loopback. Fails as ``POST /api/v1/auth/passkey`` does, or
    :class:`MfaTokenInvalid` once the hand-off is over (nothing spent then)."""
    grant = _unbound(db, token=token, kind="loopback", ctx=ctx)
    db.commit()  # the grant was read in its own transaction; the step opens another
    dialect = db.get_bind().dialect.name
    step = passkey_alone.passkey_step(
        dialect=dialect,
        settings=settings,
        ctx=ctx,
        credential=credential,
        device_token_hash=grant.device_token_hash,
        grant_for=lambda owner: service.approval(
            grant, dialect=dialect, method=METHOD, ctx=ctx, owner=owner.user_id
        ),
    )
    return db_flow.run(db, step)


def sign_in_on_device(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    approval_token: str,
    credential: Mapping[str, Any],
) -> str:
    """The device page's passkey: it names the account, which the grant takes (committed
    with the sign count's advance), and approves nothing; returns the account's email for
    the page's question. Fails as ``sign_in_on_loopback``."""
    grant = _unbound(db, token=approval_token, kind="device", ctx=ctx)
    db.commit()
    step = passkey_alone.passkey_step(
        dialect=db.get_bind().dialect.name,
        settings=settings,
        ctx=ctx,
        credential=credential,
        device_token_hash=grant.device_token_hash,
        grant_for=lambda owner: _binding(grant.id, owner.user_id, ctx),
    )
    user_id = db_flow.run(db, step)
    return service.email_of(db, user_id)


# The account a passkey named, taken by a device grant that had none and is still open.
_BIND = (
    update(_GRANTS)
    .where(
        _GRANTS.c.id == bindparam("grant_id"),
        _GRANTS.c.passkey_first.is_(True),
        _GRANTS.c.user_id.is_(None),
        _GRANTS.c.approved_at.is_(None),
        _GRANTS.c.redeemed_at.is_(None),
        _GRANTS.c.expires_at > bindparam("now", type_=UTCDateTime),
    )
    .values(user_id=bindparam("bound_user_id"))  # no column's name: see service._APPROVE
    .returning(_GRANTS.c.id)
)


def _bind_ctes(finished: CTE) -> tuple[tuple[CTE, ...], ColumnElement[bool]]:
    """PostgreSQL: the binding as a CTE acting only once ``finished`` returned a row."""
    bound = _BIND.where(exists(select(finished.c[0]))).cte("bound_grant")
    return (bound,), exists(select(bound.c.id))


def _binding(grant_id: str, user_id: str, ctx: RequestContext) -> Grant[str]:
    """What a passkey on the device page grants: the grant bound to its account (the
    result), not approved."""
    values = {"grant_id": grant_id, "bound_user_id": user_id, "now": ctx.now}

    def steps() -> db_flow.Flow[bool]:
        return (yield db_flow.Run(_BIND, values)) is not None

    return Grant(build=_bind_ctes, shape=(), params=values, steps=steps, result=user_id)


def approve_on_device(db: Session, *, approval_token: str, ctx: RequestContext) -> None:
    """The person's Approve on the device page, after a passkey named the account there
    (committed): the polling terminal gets its session. Only with the handle of the page
    that bound it. Raises :class:`MfaTokenInvalid` otherwise, or once over."""
    grant = service.open_grant(db, token=approval_token, kind="device", ctx=ctx)
    if not grant.passkey_first or grant.user_id is None:
        db.rollback()
        raise _over()
    service.approve_without_factor(db, grant=grant, method=METHOD, ctx=ctx)
