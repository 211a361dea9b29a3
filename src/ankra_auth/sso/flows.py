"""Authorization requests in flight, in the database: started on any instance, finished on
any instance, once (a conditional UPDATE decides), within 10 minutes, by the same browser."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.security import tokens
from ankra_auth.security.keys import derive_key
from ankra_auth.sso.models import SsoFlow

FLOW_TTL = timedelta(minutes=10)
SIGN_IN = "sign_in"
LINK = "link"
REAUTH = "reauth"
CLI = "cli"  # `ankra login --sso`: the flow finishes a CLI hand-off


@dataclass(frozen=True, slots=True)
class FlowSecrets:
    """What one authorization request carries: ``state`` goes to the provider and comes back;
    the PKCE verifier and the nonce are derived from it, so the row stores no secret."""

    state: str
    code_verifier: str
    nonce: str


def _derive(settings: Settings, purpose: str, state: str) -> str:
    key = derive_key(master=settings.secret, purpose=f"ankra/sso-{purpose}")
    digest = hmac.new(key, state.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")  # 43 chars: a valid verifier


def secrets_for(settings: Settings, state: str) -> FlowSecrets:
    return FlowSecrets(
        state=state,
        code_verifier=_derive(settings, "pkce-verifier", state),
        nonce=_derive(settings, "nonce", state),
    )


def new_secrets(settings: Settings) -> FlowSecrets:
    return secrets_for(settings, tokens.new_token())


def record(
    db: Session,
    *,
    secrets: FlowSecrets,
    ctx: RequestContext,
    browser_token: str,
    provider_id: str,
    purpose: str,
    session_id: str | None,
    next_path: str,
    cli_grant_id: str | None = None,
    device_token: str | None = None,
) -> None:
    # Starting is open to anyone: flows never finished must not pile up (indexed delete).
    db.execute(delete(SsoFlow).where(SsoFlow.expires_at < ctx.now - FLOW_TTL))
    db.add(
        SsoFlow(
            state_hash=tokens.hash_token(secrets.state),
            browser_hash=tokens.hash_token(browser_token),
            provider_id=provider_id,
            purpose=purpose,
            session_id=session_id,
            next_path=next_path,
            cli_grant_id=cli_grant_id,
            device_token_hash=None if device_token is None else tokens.hash_token(device_token),
            created_at=ctx.now,
            expires_at=ctx.now + FLOW_TTL,
        )
    )
    db.commit()


def consume(
    db: Session, *, ctx: RequestContext, state: str, browser_token: str | None, provider_id: str
) -> SsoFlow | None:
    """Spend the flow this ``state`` names (committed), or ``None``: unknown, used, expired,
    another provider's, or started in another browser."""
    if not state or not browser_token:
        return None
    spent = db.scalars(
        update(SsoFlow)
        .where(
            SsoFlow.state_hash == tokens.hash_token(state),
            SsoFlow.browser_hash == tokens.hash_token(browser_token),
            SsoFlow.provider_id == provider_id,
            SsoFlow.used_at.is_(None),
            SsoFlow.expires_at > ctx.now,
        )
        .values(used_at=ctx.now)
        .returning(SsoFlow)
    ).first()
    db.commit()
    return spent
