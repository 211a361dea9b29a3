"""A passkey alone as the whole sign-in (something you have, verified by something you are or
know): request options with no account named, then the assertion.

The same door as every other way in: a known credential's attempt is reserved on its
account's second-factor budget (or the presented device token's) by ``throttle.admit``
before anything is compared, and settled in the transaction that spends the challenge,
advances the sign count and writes the session (one statement on PostgreSQL, as the second
step's). Unknown credentials are counted per client address (``windows``). The challenge
is found from the assertion's own ``clientDataJSON`` (kept hashed, single use, 5 minutes).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final, TypeVar

from sqlalchemy import CTE, ColumnElement, Select, exists, select
from sqlalchemy.orm import Session

from ankra_auth import comparisons
from ankra_auth.accounts import throttle, windows
from ankra_auth.challenges.second_step import Grant
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.db_flow import Commit, Flow, Run
from ankra_auth.errors import (
    MfaTokenInvalid,
    PasskeyNotVerified,
    UnknownCredential,
    UserVerificationRequired,
)
from ankra_auth.events import service as events
from ankra_auth.events.types import EventType, SignInMethod
from ankra_auth.passkeys import ceremonies, credentials
from ankra_auth.passkeys.service import METHOD, user_handle
from ankra_auth.security import tokens, webauthn
from ankra_auth.signin.grant import Authenticated, new_session

T = TypeVar("T")

OPTIONS_PER_MINUTE = 60  # per client address: each one stores a challenge
UNKNOWN_BUDGET = 10  # unknown credentials per client address and window
UNKNOWN_WINDOW = timedelta(minutes=15)
PASSWORDLESS: Final[Mapping[str, object]] = MappingProxyType(
    {"passwordless": True}
)  # the sign_in event's detail: no password was used


def options(db: Session, *, settings: Settings, ctx: RequestContext) -> dict[str, Any]:
    """Request options for any discoverable passkey of this site, with user verification
    required; the challenge is stored hashed (committed). Raises :class:`RateLimited`."""
    windows.take(
        db,
        key=f"passkey-options:{windows.address(ctx.ip)}",
        budget=OPTIONS_PER_MINUTE,
        window=timedelta(minutes=1),
        now=ctx.now,
    )
    made = webauthn.authentication_options(
        rp_id=settings.effective_rp_id, allow=[], require_user_verification=True
    )
    ceremonies.store_sign_in(db, challenge=made.challenge, now=ctx.now)
    db.commit()
    return made.json


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose passkey it is, and the valid device token of that account presented with it."""

    user_id: str
    token_id: str | None


def sign_in(
    *,
    dialect: str,
    settings: Settings,
    ctx: RequestContext,
    credential: Mapping[str, Any],
    device_token: str | None,
) -> Flow[Authenticated]:
    """The session for a passkey alone (see :func:`passkey_step`)."""

    def session(owner: Owner) -> Grant[Authenticated]:
        return new_session(
            settings=settings,
            ctx=ctx,
            user_id=owner.user_id,
            method=METHOD,
            detail=None,
            facts=PASSWORDLESS,
            retire_id=owner.token_id,  # the device token presented: the new one replaces it
            passkey=True,
        )

    return passkey_step(
        dialect=dialect,
        settings=settings,
        ctx=ctx,
        credential=credential,
        device_token_hash=tokens.hash_token(device_token) if device_token else None,
        grant_for=session,
    )


def passkey_step(
    *,
    dialect: str,
    settings: Settings,
    ctx: RequestContext,
    credential: Mapping[str, Any],
    device_token_hash: str | None,
    grant_for: Callable[[Owner], Grant[T]],
) -> Flow[T]:
    """What a passkey alone grants: ``grant_for``'s result (a session, or a CLI hand-off's
    approval), committed with the sign count's advance. ``device_token_hash`` is the
    presented device token's hash: the attempt counts on it when it is a valid token of the
    passkey's account. Raises :class:`UnknownCredential`,
    :class:`PasskeyNotVerified`, :class:`UserVerificationRequired`, :class:`RateLimited`, or
    :class:`MfaTokenInvalid` when the grant could not be made (nothing is spent then)."""
    try:
        raw_id = webauthn.credential_id(credential)
        challenge = webauthn.client_challenge(credential)
        handle = webauthn.user_handle_of(credential)
    except webauthn.CredentialRejected as exc:
        raise PasskeyNotVerified(f"The passkey response is malformed: {exc}") from exc
    spend = {"spent": ceremonies.sign_in_hash(challenge), "now": ctx.now}
    owner = yield Run(
        credentials.OWNER,
        {
            "credential_id": raw_id,
            "token_hash": device_token_hash or "",
            "now": ctx.now,
        },
    )
    if owner is None:
        yield from _unknown(dialect, ctx, spend)
    keys = [throttle.mfa_key(owner.user_id)]
    if owner.token_id is not None:
        keys.insert(0, throttle.token_key(owner.token_id))
    key = yield from throttle.admit(dialect, keys, ctx.now)
    limits = throttle.params(ctx.now)
    spent = yield Run(ceremonies.SPEND_SIGN_IN, spend)
    if spent is None or handle != user_handle(owner.user_id):
        yield from _failed(owner, key, ctx, limits, "This passkey request expired or was used")
    comparisons.note(METHOD, owner.user_id)
    try:
        assertion = webauthn.verify_assertion(
            credential=credential,
            challenge=challenge,
            rp_id=settings.effective_rp_id,
            origins=settings.origins,
            public_key=owner.public_key,
            sign_count=owner.sign_count,
            user_handle=user_handle(owner.user_id),
        )
    except webauthn.SignCountRejected as exc:
        mismatch: tuple[EventType, str] = (
            events.PASSKEY_SIGN_COUNT_MISMATCH,
            f"{owner.name}: {exc}",
        )
        yield from _failed(owner, key, ctx, limits, "The passkey could not be verified", mismatch)
        raise AssertionError("unreachable") from exc  # pragma: no cover
    except webauthn.CredentialRejected as exc:
        yield from _failed(owner, key, ctx, limits, f"The passkey could not be verified: {exc}")
        raise AssertionError("unreachable") from exc  # pragma: no cover
    if not assertion.user_verified:
        # The owner's own key, without a PIN: no failure, no success; it still works as the
        # second step after a password.
        yield Run(throttle.RELEASE, {"counter": key, **limits})
        yield Commit()
        raise UserVerificationRequired(
            "This passkey did not ask for your PIN or biometrics, so it cannot sign you in by "
            "itself: sign in with your password, then use it as the second step"
        )
    grant = grant_for(Owner(owner.user_id, owner.token_id))
    advance = {
        "passkey_id": owner.id,
        "seen": owner.sign_count,
        "new_count": assertion.sign_count,
        "new_backed_up": assertion.backed_up,
        "now": ctx.now,
    }
    decided = {**advance, **grant.params, "counter": key, **limits}
    granted = False
    if dialect == "postgresql":
        row = yield Run(_fused(grant.build, grant.shape), decided)
        finished, granted = bool(row.finished), bool(row.granted)
    else:
        finished = (yield Run(credentials.ADVANCE_ALONE, advance)) is not None
        if finished:
            yield Run(throttle.SETTLE_RIGHT, decided)
            granted = yield from grant.steps()
    if not finished:  # its count moved meanwhile: a replayed assertion fails like a wrong one
        yield from _failed(owner, key, ctx, limits, "The passkey could not be verified")
    if not granted:  # a CLI hand-off that ended meanwhile: roll back, nothing spent
        raise MfaTokenInvalid("This sign-in has expired or was already used: sign in again")
    yield Commit(grant.counted)
    return grant.result


@lru_cache(maxsize=8)
def _fused(
    build: Callable[..., tuple[tuple[CTE, ...], ColumnElement[bool]]],
    shape: tuple[Hashable, ...],
) -> Select[bool, bool]:
    """PostgreSQL: the sign count's advance, the budget's reset and the grant in one
    statement; everything after the advance acts only when it did."""
    advanced = credentials.ADVANCE_ALONE.cte("advanced_passkey")
    done = exists(select(advanced.c.id))
    settled = throttle.SETTLE_RIGHT.where(done).returning(throttle.TABLE.c.key).cte("settled")
    ctes, granted = build(advanced, *shape)
    return select(done.label("finished"), granted.label("granted")).add_cte(
        advanced, settled, *ctes
    )


def _unknown(dialect: str, ctx: RequestContext, spend: Mapping[str, object]) -> Flow[None]:
    """No account has this credential: the challenge is spent, the attempt counted on the
    client address (429 past its budget), and the answer says so (so the page can tell the
    browser's password manager to forget it)."""
    yield from windows.taking(
        dialect,
        key=f"passkey:{windows.address(ctx.ip)}",
        budget=UNKNOWN_BUDGET,
        window=UNKNOWN_WINDOW,
        now=ctx.now,
    )
    yield Run(ceremonies.SPEND_SIGN_IN, spend)
    yield Commit()
    raise UnknownCredential(
        "No account has this passkey: it may have been removed. Sign in with your password."
    )


def _failed(
    owner: Any,
    key: str,
    ctx: RequestContext,
    limits: Mapping[str, object],
    detail: str,
    also: tuple[EventType, str] | None = None,
) -> Flow[None]:
    """A known credential that did not check out: one more failure on its budget (the tenth
    starts the account's backoff), recorded, committed; raises :class:`PasskeyNotVerified`."""
    failures = (yield Run(throttle.settle_wrong(key), {"counter": key, **limits})).failures
    method: SignInMethod = METHOD
    recorded: list[tuple[EventType, str | None]] = [(events.SECOND_FACTOR_FAILED, None)]
    if not throttle.voids(key) and throttle.starts_backoff(failures):
        recorded.append((events.THROTTLED, None))
    if also is not None:
        recorded.append(also)
    for type_, event_detail in recorded:
        row = events.row(
            user_id=owner.user_id, type=type_, method=method, ctx=ctx, detail=event_detail
        )
        yield events.insert_run(row)
    yield Commit(tuple((type_, method) for type_, _ in recorded))
    raise PasskeyNotVerified(detail)
