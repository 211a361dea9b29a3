"""The passkey step: request options bound to a pending login, then its assertion."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ankra_auth.challenges import service as challenges
from ankra_auth.challenges.models import PendingLogin
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.errors import AnkraError
from ankra_auth.events import service as events
from ankra_auth.passkeys import ceremonies, credentials
from ankra_auth.passkeys.service import METHOD, known_credentials, list_for, user_handle
from ankra_auth.security import webauthn
from ankra_auth.signin.grant import Authenticated, grant_after_second_factor


def login_options(
    db: Session, *, settings: Settings, ctx: RequestContext, pending: PendingLogin
) -> dict[str, Any]:
    """Request options for the pending login's user; the challenge is bound to that login."""
    options = webauthn.authentication_options(
        rp_id=settings.effective_rp_id,
        allow=known_credentials(list_for(db, user_id=pending.user_id)),
    )
    ceremonies.store(
        db,
        challenge=options.challenge,
        purpose=ceremonies.AUTHENTICATION,
        pending_login_id=pending.id,
        now=ctx.now,
    )
    db.commit()
    return options.json


def login_options_for_token(
    db: Session, *, settings: Settings, ctx: RequestContext, mfa_token: str
) -> dict[str, Any]:
    """:func:`login_options` for an ``mfa_token``; raises :class:`MfaTokenInvalid`."""
    pending = challenges.load_active(db, mfa_token=mfa_token, now=ctx.now)
    return login_options(db, settings=settings, ctx=ctx, pending=pending)


@dataclass(slots=True)
class _AssertionCheck:
    """Checks one assertion for a pending login; remembers a counter mismatch to report."""

    db: Session
    settings: Settings
    ctx: RequestContext
    credential: Mapping[str, Any]
    challenge: bytes | None
    mismatch: str | None = None

    def __call__(self, pending: challenges.Pending) -> bool:
        if self.challenge is None:
            return False
        try:
            raw_id = webauthn.credential_id(self.credential)
        except webauthn.CredentialRejected:
            return False
        # Only the pending login's own user's keys: another account's key is a failure.
        passkey = credentials.find(self.db, credential_id=raw_id, user_id=pending.user_id)
        if passkey is None:
            return False
        try:
            assertion = webauthn.verify_assertion(
                credential=self.credential,
                challenge=self.challenge,
                rp_id=self.settings.effective_rp_id,
                origins=self.settings.origins,
                public_key=passkey.public_key,
                sign_count=passkey.sign_count,
                user_handle=user_handle(pending.user_id),
            )
        except webauthn.SignCountRejected as exc:
            self.mismatch = f"{passkey.name}: {exc}"
            return False
        except webauthn.CredentialRejected:
            return False
        # Conditional on the count we verified against: two assertions cannot both advance it.
        return credentials.advance(
            self.db,
            passkey_id=passkey.id,
            seen=passkey.sign_count,
            sign_count=assertion.sign_count,
            backed_up=assertion.backed_up,
            now=self.ctx.now,
        )


def with_passkey(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    mfa_token: str | None = None,
    pending_login_id: str | None = None,
    credential: Mapping[str, Any],
) -> challenges.Pending:
    """Finish a pending login with a passkey assertion (not committed: the caller grants).

    The login is named by ``mfa_token``, or by ``pending_login_id`` for the CLI hand-off.
    A failed assertion counts as a failed attempt: raises :class:`InvalidCode`,
    :class:`TooManyAttempts`, :class:`MfaTokenInvalid` or :class:`RateLimited`.
    """
    pending = challenges.read_active(
        db, mfa_token=mfa_token, pending_login_id=pending_login_id, now=ctx.now
    )
    try:
        challenge: bytes | None = webauthn.client_challenge(credential)
    except webauthn.CredentialRejected:
        challenge = None
    if challenge is not None and not ceremonies.consume(
        db,
        challenge=challenge,
        purpose=ceremonies.AUTHENTICATION,
        pending_login_id=pending.id,
        now=ctx.now,
    ):
        challenge = None
    # Spent before verifying, in its own commit: a failed attempt rolls back its own
    # transaction, and the challenge must stay spent through that.
    db.commit()
    check = _AssertionCheck(
        db=db, settings=settings, ctx=ctx, credential=credential, challenge=challenge
    )
    try:
        return challenges.verify_second_factor(
            db,
            mfa_token=mfa_token,
            pending_login_id=pending_login_id,
            method=METHOD,
            ctx=ctx,
            check=check,
        )
    except AnkraError:
        if check.mismatch is not None:
            # The failure was committed (and rolled back our work) first; record this after it.
            events.record(
                db,
                user_id=pending.user_id,
                type=events.PASSKEY_SIGN_COUNT_MISMATCH,
                method=METHOD,
                ctx=ctx,
                detail=check.mismatch,
            )
            db.commit()
        raise


def complete_with_passkey(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    mfa_token: str,
    credential: Mapping[str, Any],
) -> Authenticated:
    """Finish a sign-in with a passkey and grant its session (like ``second_factor.complete_with_totp``)."""
    pending = with_passkey(
        db, settings=settings, ctx=ctx, mfa_token=mfa_token, credential=credential
    )
    return grant_after_second_factor(
        db, settings=settings, ctx=ctx, pending=pending, method=METHOD, two_factor_proven=True
    )
