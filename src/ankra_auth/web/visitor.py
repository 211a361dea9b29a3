"""Who is behind a page's session cookie, and whether their session is restricted."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from ankra_auth.accounts import service as accounts
from ankra_auth.accounts.models import AuthSession, User
from ankra_auth.api.deps import ContextDep, DbDep
from ankra_auth.errors import NotAuthenticated
from ankra_auth.orgs.enforcement import session_restricted
from ankra_auth.signin.cookies import SESSION_COOKIE


@dataclass(frozen=True, slots=True)
class Visitor:
    user: User
    session: AuthSession
    enrollment_required: bool


def current_visitor(request: Request, db: DbDep, ctx: ContextDep) -> Visitor | None:
    """The signed-in user behind the page cookie, or ``None`` (no cookie, ended, unknown)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        session, user = accounts.resolve_session(db, token=token, now=ctx.now)
    except NotAuthenticated:
        return None
    # Restricted: an organisation's requirement is unmet past its due date, or it asks
    # for a passkey and this session signed in without one.
    return Visitor(user, session, session_restricted(db, session, ctx.now))
