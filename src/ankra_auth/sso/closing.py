"""Closing an unverified account whose address a provider proved belongs to someone else.

Anyone can sign up with an address they do not own, and whoever did knows that
account's password: linking the owner's identity to it would hand them the owner's
sign-ins (pre-account hijacking). So the identity gets an account of its own, and the
unverified one is closed: it gives up the address, its sessions end, and nothing can
sign in to it any more (no password, no factor, no link, no device token, no sign-in in
progress). Its row and security log stay, for whoever investigates.
"""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from ankra_auth.accounts.models import User
from ankra_auth.challenges.models import PendingLogin
from ankra_auth.context import RequestContext
from ankra_auth.db import affected_rows
from ankra_auth.device_tokens.models import DeviceToken
from ankra_auth.events import service as events
from ankra_auth.passkeys.models import Passkey
from ankra_auth.recovery_codes.models import RecoveryCode
from ankra_auth.sessions import service as sessions
from ankra_auth.sso.models import SsoIdentity, SsoPendingLink
from ankra_auth.totp.models import TotpDevice

# What a closed account's email becomes: no address (".invalid" is reserved, RFC 2606),
# unique per account, never matched by a sign-in or an invitation.
CLOSED_DOMAIN = "closed.invalid"


def closed_email(user_id: str) -> str:
    return f"closed-{user_id}@{CLOSED_DOMAIN}"


def close_unverified(
    db: Session, *, user_id: str, email: str, provider_name: str, ctx: RequestContext
) -> bool:
    """Close ``user_id`` while its address is still unverified (not committed: the same
    transaction creates the identity's own account). False when it was verified (or
    closed) meanwhile: then it is the address's owner, and nothing changes."""
    closed = db.execute(
        update(User)
        .where(User.id == user_id, User.email_verified_at.is_(None), User.closed_at.is_(None))
        .values(email=closed_email(user_id), password_hash=None, closed_at=ctx.now)
        .execution_options(synchronize_session=False)
    )
    if affected_rows(closed) != 1:
        return False
    for model in (
        TotpDevice,
        Passkey,
        RecoveryCode,
        SsoIdentity,
        SsoPendingLink,
        PendingLogin,
        DeviceToken,
    ):
        db.execute(delete(model).where(model.user_id == user_id))
    sessions.revoke_all(db, user_id=user_id, ctx=ctx)
    events.record(
        db,
        user_id=user_id,
        type=events.ACCOUNT_CLOSED,
        ctx=ctx,
        detail=f"{email} was proved by {provider_name} to belong to another account",
    )
    return True
