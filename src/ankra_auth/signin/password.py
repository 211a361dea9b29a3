"""The password step: the first factor of a password sign-in."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ankra_auth.accounts import service as accounts
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.signin.grant import Authenticated, MfaRequired, after_first_factor


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
    return after_first_factor(
        db,
        settings=settings,
        ctx=ctx,
        user_id=checked.user.id,
        device_token_id=checked.device_token_id,
    )
