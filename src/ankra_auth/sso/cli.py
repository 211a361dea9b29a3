"""``ankra login --sso`` in the browser: after the provider's callback, the CLI hand-off.

The account the identity leads to (by the same rules as a browser sign-in) gets the
same second-factor step as after a password, on the CLI hand-off page, rendered in the
callback's answer so its token is in no URL; it counts on the CLI's device token, as
after a password. An account without 2FA goes straight back to the terminal's loopback
with its code; a device hand-off instead waits on that page for the person's Approve,
shown with the account, the terminal's address and time and the warning: the callback
never approves a device hand-off by itself. A refusal ends the hand-off and tells the
terminal why (an RFC 6749 error redirect to the loopback, or the device poll's
``access_denied``), so it stops waiting.
No browser session is made here: the session is the terminal's.
"""

from __future__ import annotations

from fastapi import Response
from sqlalchemy.orm import Session

from ankra_auth.challenges import service as challenges
from ankra_auth.cli_handoff import sso_grants
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.sso import browser, pages, service
from ankra_auth.sso.client import VerifiedIdentity
from ankra_auth.sso.config import SsoProvider
from ankra_auth.web.pages import redirect, render

SECOND_FACTORS = frozenset({"passkey", "totp"})  # as after a password: 2FA is on


def finish(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    provider: SsoProvider,
    identity: VerifiedIdentity,
    browser_token: str,
    grant_id: str,
) -> Response:
    outcome = service.sign_in(
        db, provider=provider, identity=identity, browser_token=browser_token, ctx=ctx
    )
    if isinstance(outcome, service.Refused):
        return refuse(
            db,
            settings=settings,
            ctx=ctx,
            grant_id=grant_id,
            outcome=pages.REFUSALS[outcome.kind](provider.name),
        )
    if isinstance(outcome, service.LinkAwaitsSignIn):
        # The link waits for this browser's own sign-in to that account, as on the web.
        answer = refuse(
            db,
            settings=settings,
            ctx=ctx,
            grant_id=grant_id,
            outcome=pages.link_awaits_sign_in(outcome.email, provider.name),
        )
        browser.remember(answer, value=browser_token, settings=settings)
        return answer
    user_id = outcome.user_id
    if SECOND_FACTORS & set(challenges.methods_for(db, user_id)):
        token_id = sso_grants.device_token_of(db, grant_id=grant_id, user_id=user_id, ctx=ctx)
        started = challenges.start(db, user_id=user_id, now=ctx.now, device_token_id=token_id)
        page_token = sso_grants.to_second_factor(
            db,
            grant_id=grant_id,
            user_id=user_id,
            pending_login_id=started.pending.id,
            pending_expires_at=started.pending.expires_at,
            ctx=ctx,
        )
        if page_token is None:
            return pages.message(pages.cli_over(provider.name))
        return render("cli_login.html", data={"token": page_token})
    if sso_grants.is_device(db, grant_id=grant_id):
        page_token = sso_grants.await_approval(db, grant_id=grant_id, user_id=user_id, ctx=ctx)
        if page_token is None:
            return pages.message(pages.cli_over(provider.name))
        return render("cli_login.html", data={"token": page_token})
    approved = sso_grants.approve(db, grant_id=grant_id, user_id=user_id, ctx=ctx)
    if approved is None or approved.redirect_url is None:
        return pages.message(pages.cli_over(provider.name))
    return redirect(approved.redirect_url)


def refuse(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    grant_id: str,
    outcome: pages.Outcome,
) -> Response:
    """End the hand-off; the browser goes to the terminal's loopback, which shows why."""
    description = f"{outcome.title}: {' '.join(outcome.lines)}"
    if outcome.kind == "info" and outcome.action_href:  # a next step in this browser
        description += f" Continue at {settings.public_url.rstrip('/')}{outcome.action_href}"
    url = sso_grants.refuse(db, grant_id=grant_id, description=description[:1000], ctx=ctx)
    if url is None:
        return pages.message(outcome)
    return redirect(url)
