"""The passkey step: request options bound to a pending login, then its assertion."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from ankra_auth import comparisons
from ankra_auth.challenges import service as challenges
from ankra_auth.challenges.models import PendingLogin
from ankra_auth.challenges.second_step import Grant, Spend, Wrong, second_step
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.db_flow import Flow, Run
from ankra_auth.events import service as events
from ankra_auth.events.types import SignInMethod
from ankra_auth.passkeys import ceremonies, credentials
from ankra_auth.passkeys.service import METHOD, known_credentials, list_for, user_handle
from ankra_auth.security import webauthn
from ankra_auth.signin.grant import Authenticated, session_grant


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


@dataclass(frozen=True, slots=True)
class Assertion:
    """A passkey assertion as the second factor of a sign-in (``challenges.second_step``).

    Its challenge must be one issued for this pending login, unused and unexpired (spent
    once the attempt is admitted, before the signature is checked); its credential one of
    the login's own user's passkeys (another account's key is no key); its sign count must
    move forward.
    """

    settings: Settings
    ctx: RequestContext
    credential: Mapping[str, Any]
    # On PostgreSQL the admission's own statement spends the challenge and reads the key.
    dialect: str = "sqlite"
    # The challenge and credential id, read once: the admission binds them, the check uses them.
    read: tuple[bytes, bytes] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "read", _challenge_and_id(self.credential))

    @property
    def method(self) -> SignInMethod:
        return METHOD

    @property
    def join(self) -> challenges.Join:
        if self.dialect == "postgresql":
            return credentials.with_key_once_spent
        return challenges.no_join

    @property
    def join_params(self) -> Mapping[str, object]:
        if self.dialect != "postgresql":
            return {}
        # A credential that cannot be read spends no challenge and finds no key.
        challenge, raw_id = self.read or (b"", b"")
        return {
            "spent": challenge,
            "of_purpose": ceremonies.AUTHENTICATION,
            "credential_id": raw_id,
        }

    def check(self, pending: challenges.Pending) -> Flow[Spend | Wrong]:
        if self.read is None:
            return Wrong()
        challenge, raw_id = self.read
        if self.dialect == "postgresql":
            passkey = _Key.joined(pending.row)
        else:
            spend = {
                "spent": challenge,
                "of_purpose": ceremonies.AUTHENTICATION,
                "owner": pending.id,
                "now": self.ctx.now,
            }
            if (yield Run(ceremonies.SPEND_FOR_PENDING_LOGIN, spend)) is None:
                return Wrong()
            passkey = yield Run(
                credentials.FIND, {"credential_id": raw_id, "user": pending.user_id}
            )
        if passkey is None:
            return Wrong()
        comparisons.note(METHOD, pending.user_id)
        try:
            assertion = webauthn.verify_assertion(
                credential=self.credential,
                challenge=challenge,
                rp_id=self.settings.effective_rp_id,
                origins=self.settings.origins,
                public_key=passkey.public_key,
                sign_count=passkey.sign_count,
                user_handle=user_handle(pending.user_id),
            )
        except webauthn.SignCountRejected as exc:
            return Wrong(also=((events.PASSKEY_SIGN_COUNT_MISMATCH, f"{passkey.name}: {exc}"),))
        except webauthn.CredentialRejected:
            return Wrong()
        # Conditional on the count verified against: two assertions cannot both advance it.
        return Spend(
            credentials.ADVANCE,
            {
                "passkey_id": passkey.id,
                "seen": passkey.sign_count,
                "new_count": assertion.sign_count,
                "new_backed_up": assertion.backed_up,
                "now": self.ctx.now,
            },
        )


def _challenge_and_id(credential: Mapping[str, Any]) -> tuple[bytes, bytes] | None:
    """The assertion's challenge and credential id, or None when they cannot be read."""
    try:
        return webauthn.client_challenge(credential), webauthn.credential_id(credential)
    except webauthn.CredentialRejected:
        return None


@dataclass(frozen=True, slots=True)
class _Key:
    """The passkey as the admission's statement read it (``credentials.with_key_once_spent``),
    with the names :data:`credentials.FIND` gives its columns."""

    id: str
    name: str
    public_key: bytes
    sign_count: int

    @classmethod
    def joined(cls, row: Row[Any]) -> _Key | None:
        if row.passkey_id is None:
            return None
        return cls(row.passkey_id, row.passkey_name, row.public_key, row.sign_count)


def sign_in_with_passkey(
    *,
    dialect: str,
    settings: Settings,
    ctx: RequestContext,
    mfa_token: str,
    credential: Mapping[str, Any],
) -> Flow[Authenticated]:
    """Finish a sign-in with a passkey and grant its session."""

    def grant_for(pending: challenges.Pending) -> Grant[Authenticated]:
        return session_grant(settings=settings, ctx=ctx, pending=pending, method=METHOD)

    return second_step(
        dialect=dialect,
        named=challenges.Named.token(mfa_token),
        factor=Assertion(settings=settings, ctx=ctx, credential=credential, dialect=dialect),
        grant_for=grant_for,
        ctx=ctx,
    )
