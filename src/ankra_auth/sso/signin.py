"""The seam into sign-in: after the provider, the same path as after a password.

Kept to one function so the sign-in package can absorb it when sign-in gets one home:
an account with a second factor gets a pending login (same attempt limits, throttles and
second-factor routes as a password sign-in); any other gets its session, and organisation
enforcement decides ``enrollment_required``. The provider's ``amr``/``acr`` are never read.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ankra_auth.accounts import login
from ankra_auth.challenges import service as challenges
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext


def after_first_factor(
    db: Session, *, settings: Settings, ctx: RequestContext, user_id: str, provider_id: str
) -> login.Authenticated | login.MfaRequired:
    methods = challenges.methods_for(db, user_id)
    if "passkey" in methods or "totp" in methods:  # two-factor authentication is on
        started = challenges.start(db, user_id=user_id, now=ctx.now)
        return login.MfaRequired(
            mfa_token=started.mfa_token,
            expires_in=int(challenges.PENDING_TTL.total_seconds()),
            methods=methods,
        )
    return login.grant_session(
        db, settings=settings, ctx=ctx, user_id=user_id, method="sso", detail=provider_id
    )
