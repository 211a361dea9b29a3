"""Passkeys: registration, management, and the sign-in step that uses one."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ankra_auth import two_factor_status as status
from ankra_auth.accounts import login
from ankra_auth.accounts.models import User
from ankra_auth.challenges import service as challenges
from ankra_auth.challenges.models import PendingLogin
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.errors import AnkraError, InvalidCredential, LastFactor, NotFound
from ankra_auth.events import service as events
from ankra_auth.passkeys import ceremonies, credentials
from ankra_auth.passkeys.models import Passkey
from ankra_auth.recovery_codes import service as recovery_codes
from ankra_auth.security import webauthn

METHOD = "passkey"


@dataclass(frozen=True, slots=True)
class Registered:
    passkey: Passkey
    recovery_codes: list[str] | None


def user_handle(user_id: str) -> bytes:
    """The WebAuthn user handle: stable per account and free of personal data."""
    return user_id.encode()


def transports(passkey: Passkey) -> list[str]:
    try:
        stored = json.loads(passkey.transports)
    except ValueError:
        return []
    return [t for t in stored if isinstance(t, str)] if isinstance(stored, list) else []


def list_for(db: Session, *, user_id: str) -> list[Passkey]:
    return list(
        db.scalars(
            select(Passkey)
            .where(Passkey.user_id == user_id)
            .order_by(Passkey.created_at, Passkey.id)
        )
    )


def _known(passkeys: list[Passkey]) -> list[webauthn.KnownCredential]:
    return [webauthn.KnownCredential(p.credential_id, transports(p)) for p in passkeys]


def registration_options(
    db: Session, *, user: User, settings: Settings, ctx: RequestContext
) -> dict[str, Any]:
    """Creation options for a new passkey, excluding the user's existing ones."""
    options = webauthn.registration_options(
        rp_id=settings.effective_rp_id,
        rp_name=settings.rp_name,
        user_handle=user_handle(user.id),
        user_name=user.email,
        exclude=_known(list_for(db, user_id=user.id)),
    )
    ceremonies.store(
        db,
        challenge=options.challenge,
        purpose=ceremonies.REGISTRATION,
        user_id=user.id,
        now=ctx.now,
    )
    db.commit()
    return options.json


def register(
    db: Session,
    *,
    user: User,
    name: str,
    credential: Mapping[str, Any],
    settings: Settings,
    ctx: RequestContext,
) -> Registered:
    """Verify the new credential and store it; fresh recovery codes when this turned 2FA on.

    Raises :class:`InvalidCredential` for anything wrong with the credential or its challenge.
    """
    try:
        challenge = webauthn.client_challenge(credential)
    except webauthn.CredentialRejected as exc:
        raise InvalidCredential(f"The passkey response is malformed: {exc}") from exc
    spent = ceremonies.consume(
        db, challenge=challenge, purpose=ceremonies.REGISTRATION, user_id=user.id, now=ctx.now
    )
    db.commit()  # a challenge is good for one attempt, whatever happens next
    if not spent:
        raise InvalidCredential("This passkey request expired or was already used: start again")
    try:
        new = webauthn.verify_registration(
            credential=credential,
            challenge=challenge,
            rp_id=settings.effective_rp_id,
            origins=settings.origins,
        )
    except webauthn.CredentialRejected as exc:
        raise InvalidCredential(f"The passkey could not be verified: {exc}") from exc

    status.lock_user(db, user.id)
    if db.scalar(select(Passkey.id).where(Passkey.credential_id == new.credential_id)):
        db.rollback()
        raise InvalidCredential("This passkey is already registered")
    had_two_factor = status.two_factor_enabled(db, user.id)
    passkey = Passkey(
        user_id=user.id,
        credential_id=new.credential_id,
        public_key=new.public_key,
        sign_count=new.sign_count,
        name=name,
        transports=json.dumps(new.transports),
        backup_eligible=new.backup_eligible,
        backed_up=new.backed_up,
        aaguid=new.aaguid,
        created_at=ctx.now,
    )
    db.add(passkey)
    events.record(
        db, user_id=user.id, type=events.PASSKEY_ADDED, method=METHOD, ctx=ctx, detail=name
    )
    fresh = None
    if not had_two_factor:
        fresh = recovery_codes.replace_set(db, user_id=user.id, settings=settings, now=ctx.now)
        events.record(db, user_id=user.id, type=events.RECOVERY_CODES_ISSUED, ctx=ctx)
    try:
        db.commit()
    except IntegrityError as exc:  # the same key registered concurrently
        db.rollback()
        raise InvalidCredential("This passkey is already registered") from exc
    return Registered(passkey=passkey, recovery_codes=fresh)


def rename(db: Session, *, user: User, passkey_id: str, name: str, ctx: RequestContext) -> Passkey:
    passkey = db.scalar(select(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user.id))
    if passkey is None:
        raise NotFound("No such passkey")
    passkey.name = name
    events.record(
        db, user_id=user.id, type=events.PASSKEY_RENAMED, method=METHOD, ctx=ctx, detail=name
    )
    db.commit()
    return passkey


def remove(db: Session, *, user: User, passkey_id: str, ctx: RequestContext) -> None:
    """Remove a passkey, unless it is the last factor while 2FA is on."""
    status.lock_user(db, user.id)
    # Delete first, then count what is left: inside the write transaction the
    # count cannot miss a concurrent removal of another factor.
    name = db.scalar(
        delete(Passkey)
        .where(Passkey.id == passkey_id, Passkey.user_id == user.id)
        .returning(Passkey.name)
    )
    if name is None:
        db.rollback()
        raise NotFound("No such passkey")
    if not status.totp_enabled(db, user.id) and status.passkey_count(db, user.id) == 0:
        db.rollback()
        raise LastFactor(
            "This passkey is your last second factor: add another one first, "
            "or turn two-factor authentication off"
        )
    events.record(
        db, user_id=user.id, type=events.PASSKEY_REMOVED, method=METHOD, ctx=ctx, detail=name
    )
    db.commit()


# Sign-in


def login_options(
    db: Session, *, settings: Settings, ctx: RequestContext, pending: PendingLogin
) -> dict[str, Any]:
    """Request options for the pending login's user; the challenge is bound to that login."""
    options = webauthn.authentication_options(
        rp_id=settings.effective_rp_id, allow=_known(list_for(db, user_id=pending.user_id))
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
) -> login.Authenticated:
    """Finish a sign-in with a passkey and grant its session (like ``login.complete_with_totp``)."""
    pending = with_passkey(
        db, settings=settings, ctx=ctx, mfa_token=mfa_token, credential=credential
    )
    return login.grant_session(
        db,
        settings=settings,
        ctx=ctx,
        user_id=pending.user_id,
        method=METHOD,
        device_token_id=pending.device_token_id,
        two_factor_proven=True,
    )
