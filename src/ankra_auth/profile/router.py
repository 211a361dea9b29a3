from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from ankra_auth import two_factor_status
from ankra_auth.api.deps import ContextDep, CurrentPrincipal, DbDep, RecentlyVerified
from ankra_auth.errors import InvalidCursor, TwoFactorEnforced, raises
from ankra_auth.events import service as events
from ankra_auth.orgs import enforcement
from ankra_auth.profile import service
from ankra_auth.profile.schemas import EnforcedBy, EventOut, EventPageOut, ProfileAuthOut
from ankra_auth.sessions.devices import describe

router = APIRouter(prefix="/api/v1/profile/auth", tags=["profile"])


@router.get("", name="get_profile_auth")
def get_profile_auth(principal: CurrentPrincipal, db: DbDep, ctx: ContextDep) -> ProfileAuthOut:
    """The two-factor card: which factors are set up, how many recovery codes remain, and
    the organisations that require 2FA (or a passkey) of this account, each with its grace
    period and what it asks of this session."""
    summary = two_factor_status.summarize(db, principal.user.id)
    required = enforcement.requirements(
        db,
        user_id=principal.user.id,
        passkey_session=enforcement.proved_passkey(principal.session),
        now=ctx.now,
    )
    return ProfileAuthOut(
        two_factor_enabled=summary.two_factor_enabled,
        totp_enabled=summary.totp_enabled,
        passkey_count=summary.passkey_count,
        recovery_codes_remaining=summary.recovery_codes_remaining,
        enforced_by=[
            EnforcedBy(
                id=r.org_id,
                name=r.name,
                required=r.required,
                due_at=r.due_at,
                met=r.met,
                restriction=r.restriction,
            )
            for r in required
        ],
        enrollment_required=principal.enrollment_required,
        email_verified=principal.user.email_verified_at is not None,
    )


@router.delete("", status_code=status.HTTP_204_NO_CONTENT, name="disable_two_factor")
@raises(TwoFactorEnforced)
def disable_two_factor(principal: RecentlyVerified, db: DbDep, ctx: ContextDep) -> None:
    """Turn two-factor authentication off: every factor and recovery code is removed.
    Refused while an organisation of the account requires 2FA."""
    service.disable(db, user_id=principal.user.id, ctx=ctx)


@router.get("/events", name="list_security_events")
@raises(InvalidCursor)
def list_security_events(
    principal: CurrentPrincipal,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=events.MAX_PAGE)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> EventPageOut:
    """The security log, newest first: `limit` events from `cursor` (the `next_cursor` of
    the page before; `null` on the last page)."""
    page = events.list_page(db, user_id=principal.user.id, limit=limit, cursor=cursor)
    return EventPageOut(
        events=[
            EventOut(
                id=e.id,
                type=e.type,
                method=e.method,
                created_at=e.created_at,
                ip=e.ip,
                user_agent=e.user_agent,
                device=describe(e.user_agent) if e.user_agent else None,
                detail=events.detail_of(e),
            )
            for e in page.events
        ],
        next_cursor=page.next_cursor,
    )
