"""Second factors that finish a pending login: an authenticator code or a recovery code.

``with_*`` spend the factor without committing (the CLI hand-off approves its grant in the
same transaction); ``complete_with_*`` also grant the session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlalchemy.orm import Session

from ankra_auth.challenges import service as challenges
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.events import service as events
from ankra_auth.recovery_codes import service as recovery_codes
from ankra_auth.signin.grant import Authenticated, grant_after_second_factor
from ankra_auth.totp import service as totp


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
        check=_spend_totp(db, settings=settings, ctx=ctx, code=code),
    )


def _spend_totp(
    db: Session, *, settings: Settings, ctx: RequestContext, code: str
) -> Callable[[challenges.Pending], bool]:
    return lambda pending: totp.consume_code(
        db, row=pending.row, code=code, settings=settings, now=ctx.now
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
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    mfa_token: str,
    code: str,
    counted_only: bool = False,
) -> Authenticated:
    """The sign-in's authenticator code, on a thread. ``counted_only``: the event loop's
    way (:mod:`signin.totp_on_loop`, PostgreSQL) made the optimistic admission and did not
    grant (not admitted, a wrong code, a race lost), so only the counted way is left."""
    if counted_only:
        pending = challenges.verify_counted(
            db,
            mfa_token=mfa_token,
            pending_login_id=None,
            method="totp",
            ctx=ctx,
            check=_spend_totp(db, settings=settings, ctx=ctx, code=code),
            join=totp.with_device,
        )
    else:
        pending = with_totp(db, settings=settings, ctx=ctx, mfa_token=mfa_token, code=code)
    return grant_after_second_factor(
        db, settings=settings, ctx=ctx, pending=pending, method="totp", two_factor_proven=True
    )


def complete_with_recovery_code(
    db: Session, *, settings: Settings, ctx: RequestContext, mfa_token: str, code: str
) -> Authenticated:
    pending = with_recovery_code(db, settings=settings, ctx=ctx, mfa_token=mfa_token, code=code)
    remaining = recovery_codes.remaining(db, user_id=pending.user_id)
    result = grant_after_second_factor(
        db, settings=settings, ctx=ctx, pending=pending, method="recovery_code"
    )
    return replace(result, recovery_codes_remaining=remaining)
