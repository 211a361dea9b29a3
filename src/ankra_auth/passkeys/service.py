"""Passkeys: registration, management, and the sign-in step that uses one."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ankra_auth import two_factor_status as status
from ankra_auth.accounts.models import AuthSession, User
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.errors import InvalidCredential, LastFactor, NotFound
from ankra_auth.events import service as events
from ankra_auth.events.types import SignInMethod
from ankra_auth.orgs import grace
from ankra_auth.passkeys import ceremonies
from ankra_auth.passkeys.models import Passkey
from ankra_auth.recovery_codes import service as recovery_codes
from ankra_auth.security import webauthn

METHOD: Final[SignInMethod] = "passkey"


@dataclass(frozen=True, slots=True)
class Registered:
    passkey: Passkey
    recovery_codes: list[str] | None


def user_handle(user_id: str) -> bytes:
    """The WebAuthn user handle: stable per account and free of personal data."""
    return user_id.encode()


def signs_in_alone(passkey: Passkey) -> bool:
    """It verified the user at registration and is not known to be non-discoverable, or it
    has already signed in by itself."""
    return passkey.signed_in_alone or (
        passkey.user_verified is True and passkey.discoverable is not False
    )


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


def known_credentials(passkeys: list[Passkey]) -> list[webauthn.KnownCredential]:
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
        exclude=known_credentials(list_for(db, user_id=user.id)),
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
    session_id: str | None = None,
) -> Registered:
    """Verify the new credential and store it; fresh recovery codes when this turned 2FA on.

    The session it was added in (``session_id``) has proved a passkey from now on, and the
    account's grace periods end where a passkey meets the requirement (``orgs.grace``).

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
        user_verified=new.user_verified,
        discoverable=new.discoverable,
        created_at=ctx.now,
    )
    db.add(passkey)
    grace.met(db, user_id=user.id, passkey=True)
    if session_id is not None:
        db.execute(
            update(AuthSession).where(AuthSession.id == session_id).values(passkey_at=ctx.now)
        )
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
