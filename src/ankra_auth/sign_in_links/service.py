"""Sign-in links: the CLI opens the pages in a browser without asking to sign in twice.

A link is bound to the session that asked for it, works once, within 60 seconds, and
gives the browser a session of its own that inherits the asking session's expiry and
its last password or second-factor check (so it never skips re-authentication).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from ankra_auth.accounts import service as accounts
from ankra_auth.accounts.models import AuthSession, User
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.events import service as events
from ankra_auth.security import tokens
from ankra_auth.sign_in_links.models import SignInLink

LINK_TTL = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class CreatedLink:
    url: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class Redeemed:
    session_token: str
    next_path: str


def create(
    db: Session, *, session: AuthSession, next_path: str, settings: Settings, ctx: RequestContext
) -> CreatedLink:
    token = tokens.new_token()
    db.add(
        SignInLink(
            session_id=session.id,
            token_hash=tokens.hash_token(token),
            next_path=next_path,
            created_at=ctx.now,
            expires_at=ctx.now + LINK_TTL,
        )
    )
    db.commit()
    url = f"{settings.public_url.rstrip('/')}/auth/link/{token}"
    return CreatedLink(url=url, expires_in=int(LINK_TTL.total_seconds()))


def _usable(token: str, ctx: RequestContext) -> tuple[ColumnElement[bool], ...]:
    return (
        SignInLink.token_hash == tokens.hash_token(token),
        SignInLink.used_at.is_(None),
        SignInLink.expires_at > ctx.now,
    )


def account_for(db: Session, *, token: str, ctx: RequestContext) -> User | None:
    """Whose signed-in session a usable link opens, without spending it."""
    return db.scalar(
        select(User)
        .join(AuthSession, AuthSession.user_id == User.id)
        .join(SignInLink, SignInLink.session_id == AuthSession.id)
        .where(
            *_usable(token, ctx), AuthSession.revoked_at.is_(None), AuthSession.expires_at > ctx.now
        )
    )


def redeem(db: Session, *, token: str, ctx: RequestContext) -> Redeemed | None:
    """Spend the link and open a browser session; ``None`` when unknown, used or expired."""
    spent = db.execute(
        update(SignInLink)
        .where(*_usable(token, ctx))
        .values(used_at=ctx.now)
        .returning(SignInLink.session_id, SignInLink.next_path)
    ).first()
    if spent is None:
        db.rollback()
        return None
    session_id, next_path = spent
    origin = db.scalar(select(AuthSession).where(AuthSession.id == session_id))
    if origin is None or origin.revoked_at is not None or origin.expires_at <= ctx.now:
        db.commit()  # the link stays spent
        return None
    issued = accounts.issue_session(
        db,
        user_id=origin.user_id,
        ctx=ctx,
        method="link",
        expires_at=origin.expires_at,
        verified_at=origin.verified_at,
        # The browser's session is the asking session's: a passkey it proved counts there.
        passkey_at=origin.passkey_at,
    )
    events.record(
        db,
        user_id=origin.user_id,
        type=events.SIGN_IN,
        method="link",
        ctx=ctx,
        detail="from a signed-in CLI session",
    )
    db.commit()
    return Redeemed(session_token=issued.token, next_path=next_path)
