"""Sign-in: the password step, then a second factor when the account has one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.orm import Session

from ankra_auth import sign_in_rows
from ankra_auth.accounts import service as accounts
from ankra_auth.challenges import service as challenges
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.events import service as events
from ankra_auth.orgs.enforcement import enrollment_required
from ankra_auth.recovery_codes import service as recovery_codes
from ankra_auth.totp import service as totp


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


def password_step(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    email: str,
    password: str,
    device_token: str | None = None,
) -> Authenticated | MfaRequired:
    checked = accounts.check_sign_in_password(
        db, settings=settings, ctx=ctx, email=email, password=password, device_token=device_token
    )
    user = checked.user
    methods = challenges.methods_for(db, user.id)
    if "passkey" in methods or "totp" in methods:  # two-factor authentication is on
        started = challenges.start(
            db, user_id=user.id, now=ctx.now, device_token_id=checked.device_token_id
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
        user_id=user.id,
        method="password",
        device_token_id=checked.device_token_id,
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
    device_token = sign_in_rows.write(
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


def with_totp(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    mfa_token: str | None = None,
    pending_login_id: str | None = None,
    code: str,
) -> challenges.Pending:
    """Finish a pending login with an authenticator code (not committed: the caller grants).

    The login is named by ``mfa_token``, or by ``pending_login_id`` for the CLI hand-off.
    """
    return challenges.verify_second_factor(
        db,
        mfa_token=mfa_token,
        pending_login_id=pending_login_id,
        method="totp",
        ctx=ctx,
        join=totp.with_device,
        check=lambda pending: totp.consume_code(
            db, row=pending.row, code=code, settings=settings, now=ctx.now
        ),
    )


def with_recovery_code(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    mfa_token: str | None = None,
    pending_login_id: str | None = None,
    code: str,
) -> challenges.Pending:
    pending = challenges.verify_second_factor(
        db,
        mfa_token=mfa_token,
        pending_login_id=pending_login_id,
        method="recovery_code",
        ctx=ctx,
        check=lambda pending: recovery_codes.consume(
            db, user_id=pending.user_id, code=code, settings=settings, now=ctx.now
        ),
    )
    events.insert(
        db, user_id=pending.user_id, type=events.RECOVERY_CODE_USED, method="recovery_code", ctx=ctx
    )
    return pending


def complete_with_totp(
    db: Session, *, settings: Settings, ctx: RequestContext, mfa_token: str, code: str
) -> Authenticated:
    pending = with_totp(db, settings=settings, ctx=ctx, mfa_token=mfa_token, code=code)
    return grant_session(
        db,
        settings=settings,
        ctx=ctx,
        user_id=pending.user_id,
        method="totp",
        device_token_id=pending.device_token_id,
        two_factor_proven=True,
    )


def complete_with_recovery_code(
    db: Session, *, settings: Settings, ctx: RequestContext, mfa_token: str, code: str
) -> Authenticated:
    pending = with_recovery_code(db, settings=settings, ctx=ctx, mfa_token=mfa_token, code=code)
    remaining = recovery_codes.remaining(db, user_id=pending.user_id)
    result = grant_session(
        db,
        settings=settings,
        ctx=ctx,
        user_id=pending.user_id,
        method="recovery_code",
        device_token_id=pending.device_token_id,
    )
    return replace(result, recovery_codes_remaining=remaining)
