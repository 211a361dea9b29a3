"""Turning 2FA off as a whole, by the user or by an administrator."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from ankra_auth import two_factor_status as status
from ankra_auth.context import RequestContext
from ankra_auth.errors import TwoFactorEnforced
from ankra_auth.events import service as events
from ankra_auth.orgs.enforcement import enforcing_orgs
from ankra_auth.passkeys.models import Passkey
from ankra_auth.recovery_codes import service as recovery_codes
from ankra_auth.sessions import service as sessions
from ankra_auth.totp.models import TotpDevice


def _remove_every_factor(db: Session, user_id: str) -> None:
    db.execute(delete(TotpDevice).where(TotpDevice.user_id == user_id))
    db.execute(delete(Passkey).where(Passkey.user_id == user_id))
    recovery_codes.delete_all(db, user_id=user_id)


def disable(db: Session, *, user_id: str, ctx: RequestContext) -> None:
    """Remove every factor and code; refused while an organisation requires 2FA."""
    orgs = enforcing_orgs(db, user_id)
    if orgs:
        names = ", ".join(org.name for org in orgs)
        raise TwoFactorEnforced(f"Two-factor authentication is required by: {names}")
    status.lock_user(db, user_id)
    _remove_every_factor(db, user_id)
    events.record(db, user_id=user_id, type=events.TWO_FACTOR_DISABLED, ctx=ctx)
    db.commit()


def admin_reset(db: Session, *, user_id: str, ctx: RequestContext) -> None:
    """Recovery for a locked-out user: factors removed even where an organisation enforces 2FA
    (the user is asked to enroll again at the next sign-in)."""
    status.lock_user(db, user_id)
    _remove_every_factor(db, user_id)
    events.record(db, user_id=user_id, type=events.TWO_FACTOR_RESET_BY_ADMIN, ctx=ctx)
    # Whoever holds a session may be the reason for the reset: every one of them ends.
    sessions.revoke_all(db, user_id=user_id, ctx=ctx)
    db.commit()
