"""Where an account is signed in, and signing sessions out (one, all others, or all)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ankra_auth.accounts.models import AuthSession
from ankra_auth.context import RequestContext
from ankra_auth.errors import NotFound
from ankra_auth.events import service as events
from ankra_auth.sessions.devices import describe

NO_SUCH_SESSION = "No such session: it may have ended already"


def live_sessions(db: Session, *, user_id: str, ctx: RequestContext) -> Sequence[AuthSession]:
    """The user's sessions that still work, newest first."""
    return db.scalars(
        select(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > ctx.now,
        )
        .order_by(AuthSession.created_at.desc(), AuthSession.id.desc())
    ).all()


def revoke(db: Session, *, user_id: str, session_id: str, ctx: RequestContext) -> None:
    """Sign one of the user's sessions out; :class:`NotFound` for anyone else's (commits)."""
    if not _revoke_where(db, user_id=user_id, ctx=ctx, only=session_id):
        db.rollback()
        raise NotFound(NO_SUCH_SESSION)
    db.commit()


def revoke_others(db: Session, *, user_id: str, keep_session_id: str, ctx: RequestContext) -> int:
    """Sign every session of the user out except ``keep_session_id`` (commits); the owner
    gets one mail for the batch."""
    count = _revoke_where(db, user_id=user_id, ctx=ctx, keep=keep_session_id, tell=True)
    db.commit()
    return count


def revoke_all(db: Session, *, user_id: str, ctx: RequestContext) -> int:
    """Sign every session of the user out (not committed: part of the caller's change); the
    owner gets one mail for the batch."""
    return _revoke_where(db, user_id=user_id, ctx=ctx, tell=True)


def _revoke_where(
    db: Session,
    *,
    user_id: str,
    ctx: RequestContext,
    only: str | None = None,
    keep: str | None = None,
    tell: bool | None = None,
) -> int:
    # One conditional UPDATE ... RETURNING: a session is revoked (and logged) once, even when
    # two requests race to end it.
    statement = (
        update(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > ctx.now,
        )
        .values(revoked_at=ctx.now)
        .returning(AuthSession.id, AuthSession.user_agent)
        .execution_options(synchronize_session=False)
    )
    if only is not None:
        statement = statement.where(AuthSession.id == only)
    if keep is not None:
        statement = statement.where(AuthSession.id != keep)
    revoked = db.execute(statement).all()
    for _, user_agent in revoked:
        # A batch's events join one mail (a burst of one kind is one mail).
        events.record(
            db,
            user_id=user_id,
            type=events.SESSION_REVOKED,
            ctx=ctx,
            detail=describe(user_agent),
            tell=tell,
        )
    return len(revoked)
