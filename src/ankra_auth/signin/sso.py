"""The single sign-on step: after the provider, the same path as after a password.

An account with a second factor gets a pending login (same attempt limits, throttles and
second-factor routes as a password sign-in); any other gets its session, and organisation
enforcement decides ``enrollment_required``. The provider's ``amr``/``acr`` are never read.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.signin.grant import Authenticated, MfaRequired, after_first_factor


def after_provider(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    user_id: str,
    provider_id: str,
    device_token_id: str | None = None,
) -> Authenticated | MfaRequired:
    """``device_token_id``: the valid device token of the account that the browser
    presented when the flow started; the second factor counts on it."""
    return after_first_factor(
        db,
        settings=settings,
        ctx=ctx,
        user_id=user_id,
        sso_provider=provider_id,
        device_token_id=device_token_id,
    )
