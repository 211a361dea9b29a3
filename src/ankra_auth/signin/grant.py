"""The end of every first factor: a pending login when the account has a second factor,
otherwise the session and device token (and the same when a second factor completes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import CTE, Select
from sqlalchemy.orm import Session

from ankra_auth.accounts import service as accounts
from ankra_auth.challenges import service as challenges
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.events import service as events
from ankra_auth.events.types import SignInMethod
from ankra_auth.orgs.enforcement import enrollment_required
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
    )


def grant_after_second_factor(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    pending: challenges.Pending,
    method: SignInMethod,
    two_factor_proven: bool = False,
) -> Authenticated:
    """The session for a pending login whose second factor ``method`` was just spent.

    After single sign-on the sign-in is named ``sso`` with the provider in ``detail`` (the
    contract's event), as it is for an account without a second factor.
    """
    return grant_session(
        db,
        settings=settings,
        ctx=ctx,
        user_id=pending.user_id,
        method=_sign_in_method(pending, method),
        detail=pending.sso_provider,
        device_token_id=pending.device_token_id,
        two_factor_proven=two_factor_proven,
    )


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
    session_method: SignInMethod | None = None,
    device_token_id: str | None = None,
    two_factor_proven: bool = False,
) -> Authenticated:
    """Issue a session and a fresh device token for a completed sign-in, and record it (commits).

    ``method`` is the factor the event names; ``session_method`` how the session list names
    the sign-in, when that differs (``cli``); ``device_token_id`` the device token the
    sign-in counted on, which the new one replaces. ``two_factor_proven``: the sign-in
    spent a TOTP step or a passkey in this transaction, so the user has 2FA and no
    organisation can restrict the session (nothing to look up). Everything is read
    before the commit, so the request holds no pooled connection after it.
    """
    token, session, event = _rows(
        db,
        settings=settings,
        ctx=ctx,
        user_id=user_id,
        method=method,
        detail=detail,
        session_method=session_method,
    )
    device_token = rows.write(
        db, user_id=user_id, now=ctx.now, retire_id=device_token_id, session=session, event=event
    )
    restricted = False if two_factor_proven else enrollment_required(db, user_id)
    db.commit()
    return _authenticated(settings, token, user_id, device_token, restricted=restricted)


@dataclass(frozen=True, slots=True)
class OneWrite:
    """A TOTP sign-in's last statement on PostgreSQL (:func:`one_write`), not yet sent."""

    statement: Select[bool]
    params: dict[str, object]
    granted: Authenticated
    event: tuple[str, str]  # the sign_in event's type and method, counted once committed


def one_write(
    *,
    settings: Settings,
    ctx: RequestContext,
    pending: challenges.Pending,
    method: SignInMethod,
    spent: CTE,
    spent_params: Mapping[str, object],
) -> OneWrite:
    """:func:`grant_after_second_factor` as one statement, with ``spent`` (the CTE that
    spends the TOTP step, bound by ``spent_params``) and the pending login's finish.

    The statement answers whether it finished the login: only then may it commit. When it
    did not (the step or the login was spent first elsewhere), the caller rolls back, so
    the session, device token and event written beside them go too."""
    sign_in_method = _sign_in_method(pending, method)
    token, session = _session_row(settings, ctx, pending.user_id, sign_in_method)
    event = events.row(
        user_id=pending.user_id,
        type=events.SIGN_IN,
        method=sign_in_method,
        ctx=ctx,
        detail=pending.sso_provider,
    )
    statement, params, device_token = rows.once_decided(
        decided_by=challenges.finish_after(spent),
        decided_params={**spent_params, "pending_id": pending.id},
        user_id=pending.user_id,
        now=ctx.now,
        retire_id=pending.device_token_id,
        session=session,
        event=event,
    )
    granted = _authenticated(settings, token, pending.user_id, device_token, restricted=False)
    return OneWrite(statement, params, granted, (events.SIGN_IN, sign_in_method))


def _rows(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    user_id: str,
    method: SignInMethod,
    detail: str | None,
    session_method: SignInMethod | None = None,
) -> tuple[str, dict[str, object], dict[str, object]]:
    """The new session's token, its row and the ``sign_in`` event's row."""
    token, session = _session_row(settings, ctx, user_id, session_method or method)
    event = events.counted_row(
        db, user_id=user_id, type=events.SIGN_IN, method=method, ctx=ctx, detail=detail
    )
    return token, session, event


def _session_row(
    settings: Settings, ctx: RequestContext, user_id: str, method: SignInMethod
) -> tuple[str, dict[str, object]]:
    return accounts.new_session_values(
        user_id=user_id,
        ctx=ctx,
        method=method,
        expires_at=ctx.now + timedelta(seconds=settings.session_ttl_seconds),
    )


def _authenticated(
    settings: Settings, token: str, user_id: str, device_token: str, *, restricted: bool
) -> Authenticated:
    return Authenticated(
        access_token=token,
        expires_in=settings.session_ttl_seconds,
        enrollment_required=restricted,
        user_id=user_id,
        device_token=device_token,
    )
