"""The terminal's side of the hand-off: redeem a loopback code or poll a device code."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ankra_auth.challenges import service as challenges
from ankra_auth.cli_handoff.models import CliGrant
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.db import affected_rows
from ankra_auth.device_tokens import service as device_tokens
from ankra_auth.errors import (
    AccessDenied,
    AnkraError,
    AuthorizationPending,
    ExpiredToken,
    InvalidGrant,
    SlowDown,
)
from ankra_auth.events.types import SignInMethod
from ankra_auth.security import pkce, tokens
from ankra_auth.signin.grant import Authenticated, grant_session

# The sign-in event names the factor that approved the hand-off; this says where it happened.
VIA_CLI = "via the CLI"


def _invalid() -> AnkraError:
    return InvalidGrant("This sign-in code is invalid, expired or already used: sign in again")


def redeem_code(
    db: Session, *, settings: Settings, ctx: RequestContext, code: str, code_verifier: str
) -> Authenticated:
    """Exchange a loopback code and its PKCE verifier for a session (once).

    Raises :class:`InvalidGrant` for an unknown, used or expired code or a wrong verifier.
    """
    # Spend first: of concurrent exchanges only the one whose update hits the row goes on.
    spent = db.execute(
        update(CliGrant)
        .where(
            CliGrant.code_hash == tokens.hash_token(code),
            CliGrant.redeemed_at.is_(None),
            CliGrant.code_expires_at > ctx.now,
        )
        .values(redeemed_at=ctx.now)
        .returning(
            CliGrant.user_id,
            CliGrant.code_challenge,
            CliGrant.approved_method,
            CliGrant.pending_login_id,
            CliGrant.sso_provider,
            CliGrant.passkey_first,
            CliGrant.device_token_hash,
        )
    ).first()
    if spent is None:
        db.rollback()
        raise _invalid()
    user_id, challenge, method, pending_login_id, sso_provider, passkey_first, token_hash = spent
    assert user_id is not None  # noqa: S101 - a code exists only once approved for someone
    if not pkce.verifier_matches(verifier=code_verifier, challenge=challenge):
        db.commit()  # a wrong verifier burns the code: whoever sent it may hold it
        raise _invalid()
    return _session(
        db,
        settings=settings,
        ctx=ctx,
        user_id=user_id,
        method=method,
        pending_login_id=pending_login_id,
        sso_provider=sso_provider,
        passkey_token_hash=token_hash if passkey_first else None,
    )


def _session(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    user_id: str,
    method: SignInMethod | None,
    pending_login_id: str | None,
    sso_provider: str | None,
    passkey_token_hash: str | None = None,
) -> Authenticated:
    """``passkey_token_hash``: the CLI's device token an ``ankra login --passkey`` presented
    (its passkey counted there): the new one replaces it."""
    if pending_login_id is not None:
        counted_on = challenges.device_token_of(db, pending_login_id=pending_login_id)
    elif passkey_token_hash is not None:
        counted_on = device_tokens.valid_id_of_hash(
            db, token_hash=passkey_token_hash, user_id=user_id, now=ctx.now
        )
    else:  # an account without 2FA came through SSO alone
        counted_on = None
    return grant_session(
        db,
        settings=settings,
        ctx=ctx,
        user_id=user_id,
        # `ankra login --sso`: named sso with the provider's id, as in a browser; the
        # second factor is in the cli_login_approved event.
        method="sso" if sso_provider else method or "cli",
        detail=f"{sso_provider} {VIA_CLI}" if sso_provider else VIA_CLI,
        session_method="cli",
        device_token_id=counted_on,
        # The hand-off's page approved with this factor: a passkey meets what an
        # organisation requiring passkeys asks of the terminal's session.
        passkey=method == "passkey",
    )


def poll_device(
    db: Session, *, settings: Settings, ctx: RequestContext, device_code: str, code_verifier: str
) -> Authenticated:
    """One poll of a device hand-off (RFC 8628 section 3.5).

    Raises :class:`AuthorizationPending` until the browser approves, :class:`SlowDown`
    when polled faster than the interval, :class:`ExpiredToken` once the hand-off (or,
    approved, its 60 seconds to be collected) ran out, :class:`InvalidGrant` when unknown,
    already redeemed or the verifier does not match (which also burns it: the page can
    no longer approve it), :class:`AccessDenied` with the reason when single sign-on
    refused it (only to the holder of the verifier: the reason may name an email).
    """
    grant = db.scalar(
        select(CliGrant).where(CliGrant.device_code_hash == tokens.hash_token(device_code))
    )
    if grant is None:
        raise _invalid()
    refusal = grant.refusal
    if refusal is not None and pkce.verifier_matches(
        verifier=code_verifier, challenge=grant.code_challenge
    ):
        raise AccessDenied(refusal)
    if grant.redeemed_at is not None:
        raise _invalid()
    if not pkce.verifier_matches(verifier=code_verifier, challenge=grant.code_challenge):
        _spend(db, grant=grant, ctx=ctx)
        db.commit()
        raise _invalid()
    if _expired(grant, ctx):
        raise ExpiredToken("The sign-in expired before it was completed: sign in again")
    polled = db.execute(
        update(CliGrant)
        .where(
            CliGrant.id == grant.id,
            or_(
                CliGrant.last_polled_at.is_(None),
                CliGrant.last_polled_at <= ctx.now - timedelta(seconds=grant.interval),
            ),
        )
        .values(last_polled_at=ctx.now)
    )
    db.commit()
    if affected_rows(polled) != 1:
        raise SlowDown(
            f"Poll at most every {grant.interval} seconds", extra={"interval": grant.interval}
        )
    if grant.approved_at is None:
        raise AuthorizationPending("Waiting for the sign-in to be completed in the browser")
    if not _spend(db, grant=grant, ctx=ctx) or grant.user_id is None:
        db.rollback()
        raise _invalid()
    return _session(
        db,
        settings=settings,
        ctx=ctx,
        user_id=grant.user_id,
        method=grant.approved_method,
        pending_login_id=grant.pending_login_id,
        sso_provider=grant.sso_provider,
        passkey_token_hash=grant.device_token_hash if grant.passkey_first else None,
    )


def _expired(grant: CliGrant, ctx: RequestContext) -> bool:
    if grant.approved_at is None:
        return grant.expires_at <= ctx.now
    return grant.code_expires_at is None or grant.code_expires_at <= ctx.now


def _spend(db: Session, *, grant: CliGrant, ctx: RequestContext) -> bool:
    result = db.execute(
        update(CliGrant)
        .where(CliGrant.id == grant.id, CliGrant.redeemed_at.is_(None))
        .values(redeemed_at=ctx.now)
    )
    return affected_rows(result) == 1
