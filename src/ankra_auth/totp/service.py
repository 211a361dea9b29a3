"""Authenticator app: set-up, confirmation, sign-in checks, removal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Row, Select, Update, bindparam, delete, or_, update
from sqlalchemy.orm import Session

from ankra_auth import comparisons
from ankra_auth import two_factor_status as status
from ankra_auth.accounts.models import User
from ankra_auth.challenges.second_step import Spend, Wrong
from ankra_auth.challenges.service import Join, Pending
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.db import table
from ankra_auth.db_flow import Flow, just
from ankra_auth.errors import (
    InvalidConfirmationCode,
    LastFactor,
    NotFound,
    TotpAlreadyEnabled,
    TotpNotStarted,
)
from ankra_auth.events import service as events
from ankra_auth.events.types import SignInMethod
from ankra_auth.orgs import grace
from ankra_auth.recovery_codes import service as recovery_codes
from ankra_auth.security import secretbox, totp
from ankra_auth.security.keys import derive_key, derive_keys
from ankra_auth.totp.models import TotpDevice


@dataclass(frozen=True, slots=True)
class TotpSetup:
    secret: str
    otpauth_uri: str
    qr_svg: str


PURPOSE = "ankra/totp-secrets"
METHOD: Final[SignInMethod] = "totp"


def _key(settings: Settings) -> bytes:
    return derive_key(master=settings.secret, purpose=PURPOSE)


def _seal(settings: Settings, user_id: str, secret: str) -> str:
    return secretbox.seal(key=_key(settings), plaintext=secret.encode(), context=user_id.encode())


def _unseal(settings: Settings, device: TotpDevice) -> str:
    return unseal(settings, device)[0]


def unseal(settings: Settings, device: TotpDevice) -> tuple[str, bool]:
    """The device's secret, and whether it was sealed under a previous secret key."""
    plaintext, index = secretbox.open_with_any(
        keys=derive_keys(masters=settings.secrets, purpose=PURPOSE),
        token=device.secret_encrypted,
        context=device.user_id.encode(),
    )
    return plaintext.decode(), index > 0


def seal(settings: Settings, user_id: str, secret: str) -> str:
    return _seal(settings, user_id, secret)


def start(db: Session, *, user: User, settings: Settings, now: datetime) -> TotpSetup:
    """A new secret to scan; replaces an unconfirmed one."""
    # Two tabs starting at once: without the lock both see no device and both insert.
    status.lock_user(db, user.id)
    device = db.get(TotpDevice, user.id, populate_existing=True)
    if device is not None and device.confirmed_at is not None:
        raise TotpAlreadyEnabled("An authenticator app is already set up; remove it first")
    secret = totp.new_secret()
    if device is None:
        db.add(
            TotpDevice(
                user_id=user.id, secret_encrypted=_seal(settings, user.id, secret), created_at=now
            )
        )
    else:
        device.secret_encrypted = _seal(settings, user.id, secret)
        device.created_at = now
        device.last_used_step = None
    db.commit()
    uri = totp.provisioning_uri(secret=secret, account=user.email, issuer=settings.totp_issuer)
    return TotpSetup(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg(uri))


def confirm(
    db: Session, *, user: User, code: str, settings: Settings, ctx: RequestContext
) -> list[str] | None:
    """Activate the pending secret; returns fresh recovery codes when this turned 2FA on."""
    device = db.get(TotpDevice, user.id)
    if device is None:
        raise TotpNotStarted("Start authenticator set-up first")
    if device.confirmed_at is not None:
        raise TotpAlreadyEnabled("The authenticator app is already confirmed")
    step = totp.matching_step(secret=_unseal(settings, device), code=code, at=ctx.now)
    if step is None:
        raise InvalidConfirmationCode(
            "That code did not match: check the time on your device and try again"
        )
    status.lock_user(db, user.id)
    had_two_factor = status.passkey_count(db, user.id) > 0
    activated = db.execute(
        update(TotpDevice)
        .where(
            TotpDevice.user_id == user.id,
            TotpDevice.confirmed_at.is_(None),
            # The secret the code was checked against: a set-up restarted meanwhile
            # in another tab holds a new secret this code says nothing about.
            TotpDevice.secret_encrypted == device.secret_encrypted,
        )
        .values(confirmed_at=ctx.now, last_used_step=step)
    )
    if activated.rowcount != 1:  # type: ignore[attr-defined]
        db.rollback()
        if status.totp_enabled(db, user.id):
            raise TotpAlreadyEnabled("The authenticator app is already confirmed")
        raise TotpNotStarted("Set-up was restarted elsewhere: scan the new code")
    grace.met(db, user_id=user.id, passkey=False)
    events.record(db, user_id=user.id, type=events.TOTP_ENABLED, method="totp", ctx=ctx)
    fresh = None
    if not had_two_factor:
        fresh = recovery_codes.replace_set(db, user_id=user.id, settings=settings, now=ctx.now)
        events.record(db, user_id=user.id, type=events.RECOVERY_CODES_ISSUED, ctx=ctx)
    db.commit()
    return fresh


_DEVICES = table(TotpDevice)
# Spends a time step: only one later than the last used, so each step works once per user.
# Returns a row only when it spent it.
SPEND_STEP: Update = (
    update(_DEVICES)
    .where(
        _DEVICES.c.user_id == bindparam("owner"),
        _DEVICES.c.confirmed_at.is_not(None),
        or_(_DEVICES.c.last_used_step.is_(None), _DEVICES.c.last_used_step < bindparam("step")),
    )
    .values(last_used_step=bindparam("step"))
    .returning(_DEVICES.c.user_id)
)


def with_device(query: Select[Any]) -> Select[Any]:
    """Add the pending login's user's authenticator app to its read (one SELECT for both)."""
    return query.add_columns(
        _DEVICES.c.secret_encrypted, _DEVICES.c.confirmed_at, _DEVICES.c.last_used_step
    ).outerjoin(_DEVICES, _DEVICES.c.user_id == query.selected_columns.user_id)


def step_to_spend(*, row: Row[Any], code: str, settings: Settings, now: datetime) -> int | None:
    """The time step ``code`` proves, when it is valid and that step was not used before
    (as ``row``, the read :func:`with_device` extended, saw it); spent by :data:`SPEND_STEP`."""
    if row.secret_encrypted is None or row.confirmed_at is None:
        return None
    plaintext, _ = secretbox.open_with_any(
        keys=derive_keys(masters=settings.secrets, purpose=PURPOSE),
        token=row.secret_encrypted,
        context=row.user_id.encode(),
    )
    step = totp.matching_step(secret=plaintext.decode(), code=code, at=now)
    if step is None or (row.last_used_step is not None and row.last_used_step >= step):
        return None
    return step


@dataclass(frozen=True, slots=True)
class Code:
    """An authenticator code as the second factor of a sign-in (``challenges.second_step``)."""

    settings: Settings
    code: str
    now: datetime

    @property
    def method(self) -> SignInMethod:
        return METHOD

    @property
    def join(self) -> Join:
        return with_device

    @property
    def join_params(self) -> Mapping[str, object]:
        return {}

    def check(self, pending: Pending) -> Flow[Spend | Wrong]:
        comparisons.note(METHOD, pending.user_id)
        step = step_to_spend(row=pending.row, code=self.code, settings=self.settings, now=self.now)
        if step is None:  # a wrong code, or a step this user already used
            return just(Wrong())
        return just(Spend(SPEND_STEP, {"owner": pending.user_id, "step": step}))


def remove(db: Session, *, user: User, ctx: RequestContext) -> None:
    """Remove the authenticator app, unless it is the last factor while 2FA is on."""
    status.lock_user(db, user.id)
    # Delete first, then count what is left: inside the write transaction the
    # count cannot miss a concurrent removal of the other factor.
    removed = db.execute(
        delete(TotpDevice).where(
            TotpDevice.user_id == user.id, TotpDevice.confirmed_at.is_not(None)
        )
    )
    if removed.rowcount != 1:  # type: ignore[attr-defined]
        db.rollback()
        raise NotFound("No authenticator app is set up")
    if status.passkey_count(db, user.id) == 0:
        db.rollback()
        raise LastFactor(
            "The authenticator app is your last second factor: add a passkey first, "
            "or turn two-factor authentication off"
        )
    events.record(db, user_id=user.id, type=events.TOTP_REMOVED, method="totp", ctx=ctx)
    db.commit()
