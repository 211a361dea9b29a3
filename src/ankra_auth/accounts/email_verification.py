"""Proving an address: the verification link, its single use, and how often it is sent.

The link's token is derived from the verification's id with a key of the secret key
(HMAC), and only its SHA-256 is stored: the outbox row that mails it holds just the id,
so neither table holds a usable token, and a mail sent again (a retry, another
instance) carries the same link. Proving needs the account's own session as well as the
token: whoever owns the mailbox of an address someone else signed up with cannot verify
that account for them by opening the link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import update
from sqlalchemy.orm import Session

from ankra_auth.accounts import windows
from ankra_auth.accounts.models import EmailVerification, User
from ankra_auth.context import RequestContext
from ankra_auth.db import affected_rows, new_id
from ankra_auth.errors import EmailAlreadyVerified, InvalidToken
from ankra_auth.events import service as events
from ankra_auth.notify import outbox
from ankra_auth.security import tokens
from ankra_auth.security.keys import derive_key

TOKEN_TTL: Final = timedelta(hours=24)
PER_MINUTE: Final = 1
PER_DAY: Final = 5
_PURPOSE: Final = "ankra/email-verification"
_INVALID: Final = "This link is not valid for this account, or it has expired or been used."


def token_for(master: bytes, verification_id: str) -> str:
    """The link's token for one verification: 256 bits, URL-safe."""
    key = derive_key(master=master, purpose=_PURPOSE)
    digest = hmac.new(key, verification_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_matching(masters: Sequence[bytes], verification_id: str, token_hash: str) -> str | None:
    """The token whose hash was stored, under whichever secret key (current or previous)
    made it; None when none did."""
    for master in masters:
        token = token_for(master, verification_id)
        if hmac.compare_digest(tokens.hash_token(token), token_hash):
            return token
    return None


def start(db: Session, *, user_id: str, email: str, secret: bytes, now: datetime) -> None:
    """A new link for ``email``, and its mail (not committed: the caller's transaction,
    such as the sign-up that made the account)."""
    verification_id = new_id()
    db.add(
        EmailVerification(
            id=verification_id,
            user_id=user_id,
            email=email,
            token_hash=tokens.hash_token(token_for(secret, verification_id)),
            created_at=now,
            expires_at=now + TOKEN_TTL,
        )
    )
    outbox.queue_verification(
        db, user_id=user_id, email=email, verification_id=verification_id, now=now
    )


def count_sending(db: Session, *, user_id: str, now: datetime) -> None:
    """Count one verification mail on the account's limits (commits), or raise
    :class:`RateLimited`: at most one a minute and five a day."""
    windows.take(
        db, key=f"verify-min:{user_id}", budget=PER_MINUTE, window=timedelta(minutes=1), now=now
    )
    windows.take(db, key=f"verify-day:{user_id}", budget=PER_DAY, window=timedelta(days=1), now=now)


def send_again(db: Session, *, user: User, secret: bytes, ctx: RequestContext) -> None:
    """Send a new link (commits). Raises :class:`EmailAlreadyVerified` or
    :class:`RateLimited`."""
    if user.email_verified_at is not None:
        raise EmailAlreadyVerified("Your email address is already verified")
    count_sending(db, user_id=user.id, now=ctx.now)
    start(db, user_id=user.id, email=user.email, secret=secret, now=ctx.now)
    db.commit()


def verify(db: Session, *, user: User, token: str, ctx: RequestContext) -> None:
    """Spend the link and mark the address verified (commits). Raises
    :class:`InvalidToken` for a token that is unknown, used, expired, another account's,
    or for an address the account no longer has."""
    spent = db.execute(
        update(EmailVerification)
        .where(
            EmailVerification.token_hash == tokens.hash_token(token),
            EmailVerification.user_id == user.id,
            EmailVerification.email == user.email,
            EmailVerification.used_at.is_(None),
            EmailVerification.expires_at > ctx.now,
        )
        .values(used_at=ctx.now)
        .execution_options(synchronize_session=False)
    )
    if affected_rows(spent) != 1:
        db.rollback()
        raise InvalidToken(_INVALID)
    verified = db.execute(
        update(User)
        .where(User.id == user.id, User.email == user.email, User.email_verified_at.is_(None))
        .values(email_verified_at=ctx.now)
        .execution_options(synchronize_session=False)
    )
    if affected_rows(verified) == 1:
        events.record(db, user_id=user.id, type=events.EMAIL_VERIFIED, ctx=ctx, detail=user.email)
    db.commit()
