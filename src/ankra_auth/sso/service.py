"""What a verified identity means for Ankra: sign in, create, wait for the local account's
own sign-in, link, re-authenticate, unlink. Identities are matched by issuer and ``sub``
only; an email never links anything by itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ankra_auth.accounts import service as accounts
from ankra_auth.accounts.emails import normalize_email
from ankra_auth.accounts.models import AuthSession, User
from ankra_auth.context import RequestContext
from ankra_auth.db import affected_rows
from ankra_auth.errors import AnkraError, NotFound
from ankra_auth.events import service as events
from ankra_auth.security import tokens
from ankra_auth.sso.client import VerifiedIdentity
from ankra_auth.sso.closing import close_unverified
from ankra_auth.sso.config import SsoProvider
from ankra_auth.sso.models import SsoIdentity, SsoPendingLink

SSO_LINKED: Final = "sso_linked"
SSO_UNLINKED: Final = "sso_unlinked"
PENDING_LINK_TTL = timedelta(minutes=10)
# A re-authentication must come from a login at the provider just before it issued the
# ID token (both times are the provider's own, so no clock between us is compared).
REAUTH_MAX_AGE_SECONDS = 60


class LastSignInMethod(AnkraError):
    status = 409
    code = "last_sign_in_method"
    title = "This is the last way to sign in"


@dataclass(frozen=True, slots=True)
class SignInAs:
    user_id: str
    created: bool


@dataclass(frozen=True, slots=True)
class LinkAwaitsSignIn:
    """A local account already uses the identity's email: link only after its own sign-in."""

    email: str


@dataclass(frozen=True, slots=True)
class Refused:
    kind: str  # unverified_email, signup_disabled, linked_elsewhere, provider_taken, not_linked
    email: str | None = None


def find_identity(db: Session, identity: VerifiedIdentity) -> SsoIdentity | None:
    return db.scalar(
        select(SsoIdentity).where(
            SsoIdentity.issuer == identity.issuer, SsoIdentity.subject == identity.subject
        )
    )


def _touch(db: Session, linked: SsoIdentity, identity: VerifiedIdentity, now: datetime) -> None:
    db.execute(
        update(SsoIdentity)
        .where(SsoIdentity.id == linked.id)
        .values(last_used_at=now, email=identity.email or linked.email)
    )


def _link(
    db: Session,
    *,
    user_id: str,
    provider: SsoProvider,
    identity: VerifiedIdentity,
    ctx: RequestContext,
    tell: bool | None = None,
) -> None:
    """``tell=False``: the account is being created by this identity, nothing to tell."""
    db.add(
        SsoIdentity(
            user_id=user_id,
            provider_id=provider.id,
            issuer=identity.issuer,
            subject=identity.subject,
            email=identity.email,
            linked_at=ctx.now,
            last_used_at=ctx.now,
        )
    )
    db.flush()  # the unique (issuer, sub) and (user, provider) decide races here
    events.record(
        db,
        user_id=user_id,
        type=SSO_LINKED,
        method="sso",
        ctx=ctx,
        detail=provider.id,
        tell=tell,
    )


def sign_in(
    db: Session,
    *,
    provider: SsoProvider,
    identity: VerifiedIdentity,
    browser_token: str,
    ctx: RequestContext,
) -> SignInAs | LinkAwaitsSignIn | Refused:
    """The contract's outcomes of a sign-in callback, in its order (committed)."""
    for _ in range(2):  # a concurrent first sign-in of the same identity: look again once
        linked = find_identity(db, identity)
        if linked is not None:
            _touch(db, linked, identity, ctx.now)
            db.commit()
            return SignInAs(linked.user_id, created=False)
        if identity.email is None or not identity.email_verified:
            db.rollback()
            return Refused("unverified_email", identity.email)
        email = normalize_email(identity.email)
        existing = accounts.find_user_by_email(db, email)
        squatted = existing is not None and existing.email_verified_at is None
        if existing is not None and not (squatted and provider.allow_signup):
            if squatted:  # never linked, and no account of its own: sign-up is off
                db.rollback()
                return Refused("signup_disabled", email)
            _await_local_sign_in(
                db,
                user=existing,
                provider=provider,
                identity=identity,
                browser_token=browser_token,
                ctx=ctx,
            )
            return LinkAwaitsSignIn(existing.email)
        if not provider.allow_signup:
            db.rollback()
            return Refused("signup_disabled", email)
        try:
            if existing is not None and not close_unverified(
                db, user_id=existing.id, email=email, provider_name=provider.name, ctx=ctx
            ):
                db.rollback()
                continue  # verified meanwhile: its owner's, look again
            # The provider verified the address: so is the account.
            user = User(
                email=email, password_hash=None, created_at=ctx.now, email_verified_at=ctx.now
            )
            db.add(user)
            db.flush()
            _link(db, user_id=user.id, provider=provider, identity=identity, ctx=ctx, tell=False)
            db.commit()
        except IntegrityError:
            db.rollback()
            continue
        return SignInAs(user.id, created=True)
    return Refused("linked_elsewhere", identity.email)


def _await_local_sign_in(
    db: Session,
    *,
    user: User,
    provider: SsoProvider,
    identity: VerifiedIdentity,
    browser_token: str,
    ctx: RequestContext,
) -> None:
    browser_hash = tokens.hash_token(browser_token)
    # One pending link per browser (the latest callback is what the person saw); expired
    # ones go too.
    db.execute(
        delete(SsoPendingLink).where(
            (SsoPendingLink.browser_hash == browser_hash) | (SsoPendingLink.expires_at < ctx.now)
        )
    )
    db.add(
        SsoPendingLink(
            browser_hash=browser_hash,
            user_id=user.id,
            provider_id=provider.id,
            issuer=identity.issuer,
            subject=identity.subject,
            email=user.email,
            created_at=ctx.now,
            expires_at=ctx.now + PENDING_LINK_TTL,
        )
    )
    db.commit()


def complete_pending_link(
    db: Session,
    *,
    browser_token: str,
    user_id: str,
    providers: dict[str, SsoProvider],
    ctx: RequestContext,
) -> bool:
    """After this browser completed a sign-in of ``user_id`` (its own password and second
    factor), link the identity that waited for it; once (committed)."""
    spent = db.execute(
        update(SsoPendingLink)
        .where(
            SsoPendingLink.browser_hash == tokens.hash_token(browser_token),
            SsoPendingLink.user_id == user_id,
            SsoPendingLink.confirm_hash.is_(None),  # a profile link waits for its own "Link"
            SsoPendingLink.used_at.is_(None),
            SsoPendingLink.expires_at > ctx.now,
        )
        .values(used_at=ctx.now)
        .returning(SsoPendingLink.provider_id, SsoPendingLink.issuer, SsoPendingLink.subject)
    ).first()
    if spent is None:
        db.rollback()
        return False
    provider_id, issuer, subject = spent
    provider = providers.get(provider_id)
    if provider is None:  # removed from the configuration meanwhile
        db.commit()
        return False
    email = db.scalar(select(User.email).where(User.id == user_id))
    identity = VerifiedIdentity(issuer, subject, email, True, None, None)
    try:
        _link(db, user_id=user_id, provider=provider, identity=identity, ctx=ctx)
        db.commit()
    except IntegrityError:  # linked meanwhile (to this account or another): nothing changes
        db.rollback()
        return False
    return True


@dataclass(frozen=True, slots=True)
class AwaitsConfirmation:
    """A profile link after the provider: nothing is linked before the person's "Link" on
    the page that names both accounts; ``token`` names it there."""

    token: str
    email: str | None


def await_confirmation(
    db: Session,
    *,
    provider: SsoProvider,
    identity: VerifiedIdentity,
    user_id: str,
    browser_token: str,
    ctx: RequestContext,
) -> AwaitsConfirmation | Refused | None:
    """Hold the identity for the signed-in account's confirmation (committed); a refusal
    when it cannot be linked; None when it is linked to this account already."""
    linked = find_identity(db, identity)
    if linked is not None:
        db.rollback()
        return None if linked.user_id == user_id else Refused("linked_elsewhere", identity.email)
    token = tokens.new_token()
    db.add(
        SsoPendingLink(
            browser_hash=tokens.hash_token(browser_token),
            user_id=user_id,
            provider_id=provider.id,
            issuer=identity.issuer,
            subject=identity.subject,
            email=identity.email or "",
            created_at=ctx.now,
            expires_at=ctx.now + PENDING_LINK_TTL,
            confirm_hash=tokens.hash_token(token),
        )
    )
    db.commit()
    return AwaitsConfirmation(token=token, email=identity.email)


def confirm_link(
    db: Session,
    *,
    token: str,
    user_id: str,
    browser_token: str | None,
    providers: dict[str, SsoProvider],
    ctx: RequestContext,
) -> Refused | None:
    """The person's "Link": the identity held for ``user_id`` in this browser is linked,
    once (committed). A refusal when the confirmation is unknown, used, expired, another
    account's or another browser's, or the identity was linked meanwhile."""
    spent = db.execute(
        update(SsoPendingLink)
        .where(
            SsoPendingLink.confirm_hash == tokens.hash_token(token),
            SsoPendingLink.browser_hash == tokens.hash_token(browser_token or ""),
            SsoPendingLink.user_id == user_id,
            SsoPendingLink.used_at.is_(None),
            SsoPendingLink.expires_at > ctx.now,
        )
        .values(used_at=ctx.now)
        .returning(
            SsoPendingLink.provider_id,
            SsoPendingLink.issuer,
            SsoPendingLink.subject,
            SsoPendingLink.email,
        )
    ).first()
    provider = None if spent is None else providers.get(spent.provider_id)
    if spent is None or provider is None:
        db.rollback()
        return Refused("not_linked")
    identity = VerifiedIdentity(spent.issuer, spent.subject, spent.email or None, True, None, None)
    return link_to_account(db, provider=provider, identity=identity, user_id=user_id, ctx=ctx)


def link_to_account(
    db: Session,
    *,
    provider: SsoProvider,
    identity: VerifiedIdentity,
    user_id: str,
    ctx: RequestContext,
) -> Refused | None:
    """Link from the profile: to the signed-in account, whatever the email says, unless
    another account has this identity or this account has another one of this provider."""
    linked = find_identity(db, identity)
    if linked is not None:
        if linked.user_id != user_id:
            db.rollback()
            return Refused("linked_elsewhere", identity.email)
        _touch(db, linked, identity, ctx.now)
        db.commit()
        return None
    try:
        _link(db, user_id=user_id, provider=provider, identity=identity, ctx=ctx)
        db.commit()
    except IntegrityError:
        db.rollback()
        if find_identity(db, identity) is not None:
            return Refused("linked_elsewhere", identity.email)
        return Refused("provider_taken", identity.email)
    return None


def reauthenticate(
    db: Session,
    *,
    identity: VerifiedIdentity,
    session_id: str,
    ctx: RequestContext,
) -> Refused | None:
    """A fresh login at the provider, with an identity linked to the session's account,
    counts as the re-authentication that sensitive changes need."""
    session = db.scalar(select(AuthSession).where(AuthSession.id == session_id))
    linked = find_identity(db, identity)
    fresh = (
        identity.auth_time is not None
        and identity.issued_at is not None
        and 0 <= identity.issued_at - identity.auth_time <= REAUTH_MAX_AGE_SECONDS
    )
    if (
        session is None
        or session.revoked_at is not None
        or session.expires_at <= ctx.now
        or linked is None
        or linked.user_id != session.user_id
    ):
        db.rollback()
        return Refused("not_linked", identity.email)
    if not fresh:
        db.rollback()
        return Refused("not_fresh", identity.email)
    db.execute(update(AuthSession).where(AuthSession.id == session.id).values(verified_at=ctx.now))
    _touch(db, linked, identity, ctx.now)
    events.record(
        db,
        user_id=session.user_id,
        type=events.REAUTHENTICATED,
        method="sso",
        ctx=ctx,
        detail=linked.provider_id,
    )
    db.commit()
    return None


def list_links(db: Session, *, user_id: str) -> list[SsoIdentity]:
    return list(
        db.scalars(
            select(SsoIdentity)
            .where(SsoIdentity.user_id == user_id)
            .order_by(SsoIdentity.linked_at, SsoIdentity.id)
        )
    )


def unlink(db: Session, *, user: User, provider_id: str, ctx: RequestContext) -> None:
    linked = db.scalar(
        select(SsoIdentity).where(
            SsoIdentity.user_id == user.id, SsoIdentity.provider_id == provider_id
        )
    )
    if linked is None:
        raise NotFound("No single sign-on of that provider is linked to your account")
    if user.password_hash is None:
        # Conditional on a second link remaining; the user row is locked (PostgreSQL) so
        # two concurrent unlinks of the last two links cannot both win.
        db.execute(select(User.id).where(User.id == user.id).with_for_update())
        others = (
            select(func.count())
            .select_from(SsoIdentity)
            .where(SsoIdentity.user_id == user.id, SsoIdentity.id != linked.id)
            .scalar_subquery()
        )
        result = db.execute(delete(SsoIdentity).where(SsoIdentity.id == linked.id, others > 0))
    else:
        result = db.execute(delete(SsoIdentity).where(SsoIdentity.id == linked.id))
    if affected_rows(result) != 1:
        db.rollback()
        if user.password_hash is None:
            raise LastSignInMethod(
                "This is how you sign in: your account has no password. Link another "
                "provider before unlinking this one."
            )
        raise NotFound("No single sign-on of that provider is linked to your account")
    events.record(db, user_id=user.id, type=SSO_UNLINKED, method="sso", ctx=ctx, detail=provider_id)
    db.commit()
