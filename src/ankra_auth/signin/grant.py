"""The end of every first factor: a pending login when the account has a second factor,
otherwise the session and device token (and the same when a second factor completes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from ankra_auth.accounts import service as accounts
from ankra_auth.challenges import service as challenges
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.events import service as events
from ankra_auth.orgs.enforcement import enrollment_required
from ankra_auth.signin import rows


@dataclass(frozen=True, slots=True)
class Authenticated:
    access_token: str
    expires_in: int
    enrollment_required: bool
    user_id: str
    device_token: str
    recovery_codes_remaining: int | None = None


@dataclass(frozen=True, slots=True)
class MfaRequired:
    mfa_token: str
    expires_in: int
    methods: list[str]


def after_first_factor(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    user_id: str,
    sso_provider: str | None = None,
    device_token_id: str | None = None,
) -> Authenticated | MfaRequired:
    """A pending login if two-factor authentication is on, else the session (commits).

    The first factor was the password, or single sign-on at ``sso_provider``.
    """
    methods = challenges.methods_for(db, user_id)
    if "passkey" in methods or "totp" in methods:  # two-factor authentication is on
        started = challenges.start(
            db,
            user_id=user_id,
            now=ctx.now,
            device_token_id=device_token_id,
            sso_provider=sso_provider,
        )
        return MfaRequired(
            mfa_token=started.mfa_token,
            expires_in=int(challenges.PENDING_TTL.total_seconds()),
            methods=methods,
        )
    return grant_session(
        db,
        settings=settings,
        ctx=ctx,
        user_id=user_id,
        method="password" if sso_provider is None else "sso",
        detail=sso_provider,
        device_token_id=device_token_id,
    )


def grant_after_second_factor(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    pending: challenges.Pending,
    method: str,
    two_factor_proven: bool = False,
) -> Authenticated:
    """The session for a pending login whose second factor ``method`` was just spent.

    After single sign-on the sign-in is named ``sso`` with the provider in ``detail`` (the
    contract's event), as it is for an account without a second factor.
    """
    return grant_session(
        db,
        settings=settings,
        ctx=ctx,
        user_id=pending.user_id,
        method=method if pending.sso_provider is None else "sso",
        detail=pending.sso_provider,
        device_token_id=pending.device_token_id,
        two_factor_proven=two_factor_proven,
    )


def grant_session(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    user_id: str,
    method: str,
    detail: str | None = None,
    session_method: str | None = None,
    device_token_id: str | None = None,
    two_factor_proven: bool = False,
) -> Authenticated:
    """Issue a session and a fresh device token for a completed sign-in, and record it (commits).

    ``method`` is the factor the event names; ``session_method`` how the session list names
    the sign-in, when that differs (``cli``); ``device_token_id`` the device token the
    sign-in counted on, which the new one replaces. ``two_factor_proven``: the sign-in
    spent a TOTP step or a passkey in this transaction, so the user has 2FA and no
    organisation can restrict the session (nothing to look up). Everything is read
    before the commit, so the request holds no pooled connection after it.
    """
    token, session = accounts.new_session_values(
        user_id=user_id,
        ctx=ctx,
        method=session_method or method,
        expires_at=ctx.now + timedelta(seconds=settings.session_ttl_seconds),
    )
    event = events.counted_row(
        db, user_id=user_id, type=events.SIGN_IN, method=method, ctx=ctx, detail=detail
    )
    device_token = rows.write(
        db, user_id=user_id, now=ctx.now, retire_id=device_token_id, session=session, event=event
    )
    restricted = False if two_factor_proven else enrollment_required(db, user_id)
    db.commit()
    return Authenticated(
        access_token=token,
        expires_in=settings.session_ttl_seconds,
        enrollment_required=restricted,
        user_id=user_id,
        device_token=device_token,
    )
