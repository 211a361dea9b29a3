"""Profile → Sessions: where you are signed in; sign out one or everywhere else."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status

from ankra_auth.api.deps import ContextDep, CurrentPrincipal, DbDep
from ankra_auth.errors import NotFound, raises
from ankra_auth.sessions import service
from ankra_auth.sessions.devices import describe
from ankra_auth.sessions.schemas import SessionOut
from ankra_auth.text import resource_id

router = APIRouter(prefix="/api/v1/profile/sessions", tags=["sessions"])


@router.get("", name="list_sessions")
def list_sessions(principal: CurrentPrincipal, db: DbDep, ctx: ContextDep) -> list[SessionOut]:
    """Where the account is signed in: its live sessions, newest first (`last_seen_at` may
    lag by up to a minute)."""
    return [
        SessionOut(
            id=s.id,
            created_at=s.created_at,
            last_seen_at=s.last_seen_at or s.created_at,
            ip=s.ip,
            user_agent=s.user_agent,
            method=s.method or "password",
            current=s.id == principal.session.id,
            device=describe(s.user_agent),
        )
        for s in service.live_sessions(db, user_id=principal.user.id, ctx=ctx)
    ]


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT, name="revoke_session")
@raises(NotFound)
def revoke_session(
    principal: CurrentPrincipal,
    db: DbDep,
    ctx: ContextDep,
    session_id: Annotated[str, resource_id("id", missing=service.NO_SUCH_SESSION)],
) -> None:
    """Sign one session out at once, on every instance."""
    service.revoke(db, user_id=principal.user.id, session_id=session_id, ctx=ctx)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT, name="revoke_other_sessions")
def revoke_other_sessions(principal: CurrentPrincipal, db: DbDep, ctx: ContextDep) -> None:
    """Sign out everywhere else: every session of the account but this one ends."""
    service.revoke_others(
        db, user_id=principal.user.id, keep_session_id=principal.session.id, ctx=ctx
    )
