"""The end of every first factor: a pending login when the account has a second factor,
otherwise the session and device token (and the same when a second factor completes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.orm import Session

from ankra_auth.accounts import service as accounts
from ankra_auth.challenges import service as challenges
from ankra_auth.challenges.second_step import Grant, Read
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.events import service as events
from ankra_auth.events.types import EventType, SignInMethod
from ankra_auth.orgs import enforcement
from ankra_auth.signin import rows


@dataclass(frozen=True, slots=True)
class Authenticated:
    access_token: str
    expires_in: int
    enrollment_required: bool
    user_id: str
    device_token: str
    recovery_codes_remaining: int | None = None


@dataclass(frozen=True, slots=True)
class MfaRequired:
    mfa_token: str
    expires_in: int
    methods: list[str]


def after_first_factor(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    user_id: str,
    sso_provider: str | None = None,
    device_token_id: str | None = None,
) -> Authenticated | MfaRequired:
    """A pending login if two-factor authentication is on, else the session (commits).

    The first factor was the password, or single sign-on at ``sso_provider``.
    """
    methods = challenges.methods_for(db, user_id)
    if "passkey" in methods or "totp" in methods:  # two-factor authentication is on
        started = challenges.start(
            db,
            user_id=user_id,
            now=ctx.now,
            device_token_id=device_token_id,
            sso_provider=sso_provider,
        )
        return MfaRequired(
            mfa_token=started.mfa_token,
            expires_in=int(challenges.PENDING_TTL.total_seconds()),
            methods=methods,
        )
    return grant_session(
        db,
        settings=settings,
        ctx=ctx,
        user_id=user_id,
        method="password" if sso_provider is None else "sso",
        detail=sso_provider,
        device_token_id=device_token_id,
        passkey=False,
    )


def session_grant(
    *,
    settings: Settings,
    ctx: RequestContext,
    pending: challenges.Pending,
    method: SignInMethod,
    also: tuple[tuple[EventType, SignInMethod], ...] = (),
) -> Grant[Authenticated]:
    """The session a pending login grants once its second factor ``method`` is spent, for
    ``challenges.second_step``: its rows, and the answer once they commit.

    After single sign-on the sign-in is named ``sso`` with the provider in ``detail`` (the
    contract's event), as it is for an account without a second factor. ``also`` are more
    events (type, method) of the same sign-in (a recovery code used).
    """
    return new_session(
        settings=settings,
        ctx=ctx,
        user_id=pending.user_id,
        method=_sign_in_method(pending, method),
        detail=pending.sso_provider,
        retire_id=pending.device_token_id,
        also=also,
        passkey=method == "passkey",
    )


def new_session(
    *,
    settings: Settings,
    ctx: RequestContext,
    user_id: str,
    method: SignInMethod,
    detail: str | None,
    retire_id: str | None,
    passkey: bool,
    also: tuple[tuple[EventType, SignInMethod], ...] = (),
    facts: Mapping[str, object] | None = None,
) -> Grant[Authenticated]:
    """A sign-in's session as a grant (its rows, and the answer once they commit), for a
    step that proved two factors (a second factor, or a passkey alone). ``passkey``: one of
    them was a passkey, which meets every organisation's requirement; otherwise the
    organisations are asked in the sign-in's transaction (one query: one may require
    passkeys). ``retire_id`` is the device token the new one replaces; ``facts`` the
    ``sign_in`` event's named facts (its ``detail`` object)."""
    token, session = session_values(settings, ctx, user_id, method, passkey=passkey)
    # The factor's own events first: the log, newest first, then ends with the sign-in.
    recorded: tuple[tuple[EventType, SignInMethod, str | None], ...] = tuple(
        (type_, event_method, None) for type_, event_method in also
    ) + ((events.SIGN_IN, method, detail),)
    written = rows.Rows(
        user_id=user_id,
        now=ctx.now,
        retire_id=retire_id,
        session=session,
        events=[
            events.row(
                user_id=user_id,
                type=t,
                method=m,
                ctx=ctx,
                detail=d,
                data=facts if t == events.SIGN_IN else None,
            )
            for t, m, d in recorded
        ],
    )
    return Grant(
        build=rows.sign_in_ctes,
        shape=written.shape,
        params=written.params,
        steps=written.steps,
        result=authenticated(settings, token, user_id, written.device_token, restricted=False),
        counted=tuple((t, m) for t, m, _ in recorded),
        read=None if passkey else _restriction(user_id, ctx),
    )


def _restriction(user_id: str, ctx: RequestContext) -> Read[Authenticated]:
    """Whether an organisation restricts the session a sign-in without a passkey made, read
    with the grant (memberships and factors: nothing a sign-in writes)."""
    return Read(
        value=enforcement.RESTRICTS_SESSION,
        params=enforcement.params(user_id=user_id, passkey_session=False, now=ctx.now),
        answer=_restricted,
    )


def _restricted(result: Authenticated, restricts: bool) -> Authenticated:
    return replace(result, enrollment_required=bool(restricts))


def _sign_in_method(pending: challenges.Pending, factor: SignInMethod) -> SignInMethod:
    """How the ``sign_in`` event and the session name a sign-in finished by ``factor``."""
    return factor if pending.sso_provider is None else "sso"


def grant_session(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    user_id: str,
    method: SignInMethod,
    detail: str | None = None,
    passkey: bool,
    session_method: SignInMethod | None = None,
    device_token_id: str | None = None,
) -> Authenticated:
    """Issue a session and a fresh device token for a sign-in completed without a second
    factor step here (a first factor alone, a CLI exchange), and record it (commits).

    ``method`` is the factor the event names; ``session_method`` how the session list names
    the sign-in, when that differs (``cli``); ``device_token_id`` the device token the
    sign-in counted on, which the new one replaces; ``passkey`` whether the sign-in proved
    a passkey. Everything is read before the commit, so the request holds no pooled
    connection after it.
    """
    token, session = session_values(
        settings, ctx, user_id, session_method or method, passkey=passkey
    )
    event = events.counted_row(
        db, user_id=user_id, type=events.SIGN_IN, method=method, ctx=ctx, detail=detail
    )
    written = rows.Rows(
        user_id=user_id, now=ctx.now, retire_id=device_token_id, session=session, events=[event]
    )
    rows.write(db, written)
    restricted = enforcement.restricted(db, user_id=user_id, passkey_session=passkey, now=ctx.now)
    db.commit()
    return authenticated(settings, token, user_id, written.device_token, restricted=restricted)


def session_values(
    settings: Settings, ctx: RequestContext, user_id: str, method: SignInMethod, *, passkey: bool
) -> tuple[str, dict[str, object]]:
    return accounts.new_session_values(
        user_id=user_id,
        ctx=ctx,
        method=method,
        expires_at=ctx.now + timedelta(seconds=settings.session_ttl_seconds),
        passkey_at=ctx.now if passkey else None,
    )


def authenticated(
    settings: Settings, token: str, user_id: str, device_token: str, *, restricted: bool
) -> Authenticated:
    return Authenticated(
        access_token=token,
        expires_in=settings.session_ttl_seconds,
        enrollment_required=restricted,
        user_id=user_id,
        device_token=device_token,
    )
