"""Request-scoped dependencies as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from ankra_auth import two_factor_status as status
from ankra_auth.accounts import service as accounts
from ankra_auth.accounts.models import AuthSession, User
from ankra_auth.clock import Clock
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.errors import (
    CsrfFailed,
    EnrollmentRequired,
    NotAuthenticated,
    ReauthenticationRequired,
    raises,
)
from ankra_auth.orgs import enforcement
from ankra_auth.signin.cookies import SESSION_COOKIE

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Operation ids a restricted session may call: an organisation requires 2FA (or a passkey)
# the account lacks, or requires passkeys and the session did not sign in with one.
ENROLLMENT_ROUTES = frozenset(
    {
        "get_me",
        "get_profile_auth",
        "start_totp",
        "confirm_totp",
        "list_passkeys",
        "passkey_registration_options",
        "register_passkey",
        "logout",
        "list_sessions",
        "revoke_session",
        "revoke_other_sessions",
        "list_orgs",
        "list_invitations",
        "accept_invitation",
        "decline_invitation",
    }
)
# Operation ids a restricted session may call only on itself (path ``user_id`` is the
# caller): leaving an organisation, never removing someone else.
ENROLLMENT_SELF_ROUTES = frozenset({"remove_org_member"})


# The dependencies below do no I/O, so they are ``async``: FastAPI runs a sync dependency
# on the thread pool, one hand-off (and GIL round trip) per dependency per request.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A session; it takes a pooled connection only when the endpoint (on a worker thread)
    first uses it. Closing one still in a transaction rolls back over the network, so
    only that happens on the thread pool."""
    db: Session = request.app.state.session_factory()
    try:
        yield db
    finally:
        if db.in_transaction():
            await run_in_threadpool(db.close)
        else:
            db.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
DbDep = Annotated[Session, Depends(get_db)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def get_context(request: Request, clock: ClockDep) -> RequestContext:
    return context_of(request, clock)


def context_of(request: Request, clock: Clock) -> RequestContext:
    return RequestContext(
        now=clock.now(), ip=client_ip(request), user_agent=request.headers.get("user-agent")
    )


ContextDep = Annotated[RequestContext, Depends(get_context)]

_bearer = HTTPBearer(auto_error=False, description="The access_token from sign-in")


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user and their session."""

    user: User
    session: AuthSession
    enrollment_required: bool


def _unsafe(_name: str, method: str) -> bool:
    return method not in SAFE_METHODS


def _enforced(name: str, _method: str) -> bool:
    return name not in ENROLLMENT_ROUTES


@raises(NotAuthenticated)
@raises(CsrfFailed, when=_unsafe)
def authenticate(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    ctx: ContextDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Resolve the session from a bearer token or the page cookie, without enforcement."""
    if bearer is not None:
        token = bearer.credentials
    else:
        token = request.cookies.get(SESSION_COOKIE, "")
        if not token:
            raise NotAuthenticated("Sign in to continue")
        # A cookie rides along on cross-site requests too: insist they come from us.
        if request.method not in SAFE_METHODS:
            origin = (request.headers.get("origin") or "").rstrip("/")
            if origin not in settings.origins:
                raise CsrfFailed("This request did not come from an allowed origin")
    session, user = accounts.resolve_session(db, token=token, now=ctx.now)
    restricted = enforcement.session_restricted(db, session, ctx.now)
    return Principal(user=user, session=session, enrollment_required=restricted)


@raises(EnrollmentRequired, when=_enforced)
def current_principal(
    request: Request, principal: Annotated[Principal, Depends(authenticate)]
) -> Principal:
    """Every authenticated route passes here; restricted sessions reach only enrollment routes."""
    name = getattr(request.scope.get("route"), "name", None)
    on_self = name in ENROLLMENT_SELF_ROUTES and (
        request.path_params.get("user_id") == principal.user.id
    )
    if principal.enrollment_required and name not in ENROLLMENT_ROUTES and not on_self:
        raise EnrollmentRequired(
            "Secure your account to continue: an organisation you belong to requires "
            "two-factor authentication or a passkey (sign in with your passkey, or add one); "
            "see GET /api/v1/profile/auth"
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


@raises(ReauthenticationRequired)
def recently_verified_principal(principal: CurrentPrincipal, ctx: ContextDep) -> Principal:
    if not accounts.recently_verified(principal.session, ctx.now):
        raise ReauthenticationRequired(
            "Confirm your password to continue (required within 10 minutes of this change)"
        )
    return principal


RecentlyVerified = Annotated[Principal, Depends(recently_verified_principal)]


def adding_a_factor_principal(principal: CurrentPrincipal, db: DbDep, ctx: ContextDep) -> Principal:
    """Adding a factor to an account that has 2FA needs the same recent check as removing
    one: a stolen session must not plant its own authenticator and lock the owner out."""
    if status.two_factor_enabled(db, principal.user.id) and not accounts.recently_verified(
        principal.session, ctx.now
    ):
        raise ReauthenticationRequired(
            "Confirm it's you to add a second factor (required within 10 minutes of this change)"
        )
    return principal


AddingAFactor = Annotated[Principal, Depends(adding_a_factor_principal)]
