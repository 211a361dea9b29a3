"""Sign-ins finished by an authenticator code or a recovery code: the second-factor step
(``challenges.second_step``) with the factor, and the session as its grant."""

from __future__ import annotations

from dataclasses import replace

from ankra_auth import two_factor_status as status
from ankra_auth.challenges import service as challenges
from ankra_auth.challenges.second_step import Grant, second_step
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.db_flow import Flow, Run
from ankra_auth.events import service as events
from ankra_auth.events.types import EventType, SignInMethod
from ankra_auth.recovery_codes import service as recovery_codes
from ankra_auth.signin.grant import Authenticated, session_grant
from ankra_auth.totp import service as totp


def sign_in_with_totp(
    *, dialect: str, settings: Settings, ctx: RequestContext, mfa_token: str, code: str
) -> Flow[Authenticated]:
    def grant_for(pending: challenges.Pending) -> Grant[Authenticated]:
        return session_grant(settings=settings, ctx=ctx, pending=pending, method=totp.METHOD)

    return second_step(
        dialect=dialect,
        named=challenges.Named.token(mfa_token),
        factor=totp.Code(settings=settings, code=code, now=ctx.now),
        grant_for=grant_for,
        ctx=ctx,
    )


RECOVERY_CODE_USED: tuple[tuple[EventType, SignInMethod], ...] = (
    (events.RECOVERY_CODE_USED, recovery_codes.METHOD),
)


def sign_in_with_recovery_code(
    *, dialect: str, settings: Settings, ctx: RequestContext, mfa_token: str, code: str
) -> Flow[Authenticated]:
    """As with TOTP; the answer also says how many codes are left (read in the sign-in's
    transaction, once the code is spent)."""

    def grant_for(pending: challenges.Pending) -> Grant[Authenticated]:
        grant = session_grant(
            settings=settings,
            ctx=ctx,
            pending=pending,
            method=recovery_codes.METHOD,
            also=RECOVERY_CODE_USED,
        )
        return replace(grant, completed=_with_codes_left)

    factor = recovery_codes.Code(settings=settings, code=code, now=ctx.now, dialect=dialect)
    return second_step(
        dialect=dialect,
        named=challenges.Named.token(mfa_token),
        factor=factor,
        grant_for=grant_for,
        ctx=ctx,
    )


def _with_codes_left(granted: Authenticated) -> Flow[Authenticated]:
    left = yield Run(status.CODES_LEFT, {"owner": granted.user_id})
    return replace(granted, recovery_codes_remaining=int(left[0]))
