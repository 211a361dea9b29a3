"""Single sign-on pages: the start and callback routes the browser follows to and from the
provider, and the profile's link, which the person starts and confirms on our own pages."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from ankra_auth.accounts import service as accounts
from ankra_auth.accounts.models import AuthSession, User
from ankra_auth.api.deps import ContextDep, DbDep, SettingsDep
from ankra_auth.cli_handoff import sso_grants
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.device_tokens import service as device_tokens
from ankra_auth.errors import NotAuthenticated
from ankra_auth.orgs import enforcement
from ankra_auth.signin.cookies import (
    SESSION_COOKIE,
    cli_device_cookie,
    from_our_page,
    presented_device_token,
    set_device_cookie,
    set_session_cookie,
)
from ankra_auth.signin.grant import MfaRequired
from ankra_auth.signin.sso import after_provider
from ankra_auth.sso import browser, cli, flows, pages, service
from ankra_auth.sso.client import (
    InvalidIdToken,
    OidcClients,
    ProviderRefused,
    ProviderUnavailable,
    VerifiedIdentity,
)
from ankra_auth.sso.config import SsoProvider, find, redirect_uri
from ankra_auth.sso.models import SsoFlow
from ankra_auth.sso.pending import after_browser_sign_in
from ankra_auth.web.pages import SECURITY_HEADERS, redirect, render, safe_next, with_next

page_routes = APIRouter(include_in_schema=False)
_clients_lock = threading.Lock()
MAX_PARAM = 2048
PROFILE = "/profile/authentication"
FORM = "application/x-www-form-urlencoded"


def _clients(request: Request, settings: Settings) -> OidcClients:
    with _clients_lock:
        clients: OidcClients | None = getattr(request.app.state, "sso_clients", None)
        if clients is None:
            clients = request.app.state.sso_clients = OidcClients(settings.sso_providers)
        return clients


def _signed_in(request: Request, db: DbDep, ctx: RequestContext) -> AuthSession | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        session, _ = accounts.resolve_session(db, token=token, now=ctx.now)
    except NotAuthenticated:
        return None
    return session


def _to_provider(
    request: Request,
    db: DbDep,
    settings: Settings,
    ctx: RequestContext,
    provider: SsoProvider,
    *,
    purpose: str,
    session_id: str | None = None,
    next_path: str = PROFILE,
    cli_token: str | None = None,
) -> Response:
    """Record the flow (bound to this browser's cookie) and send the browser on to the
    provider; ``cli_token`` is an ``ankra login --sso`` start link's, spent here."""
    client = _clients(request, settings).get(provider.id)
    assert client is not None  # noqa: S101 - the provider was found by the caller
    secrets = flows.new_secrets(settings)
    try:
        url = client.authorization_url(
            redirect_uri=redirect_uri(settings.public_url, provider.id),
            state=secrets.state,
            nonce=secrets.nonce,
            code_verifier=secrets.code_verifier,
            reauth=purpose == flows.REAUTH,
        )
    except ProviderUnavailable:
        return pages.message(pages.unavailable(provider.name))
    cli_grant_id = None
    if cli_token is not None:
        # Spent here: the terminal's hand-off now belongs to this browser's flow only. A
        # device hand-off's link opens only in the browser that typed its user code.
        cli_grant_id = sso_grants.claim(
            db,
            token=cli_token[:MAX_PARAM],
            provider_id=provider.id,
            binding=cli_device_cookie(request),
            ctx=ctx,
        )
        if cli_grant_id is None:
            return pages.message(pages.cli_link_over())
    browser_token = browser.token_or_new(request)
    flows.record(
        db,
        secrets=secrets,
        ctx=ctx,
        browser_token=browser_token,
        provider_id=provider.id,
        purpose=purpose,
        session_id=session_id,
        next_path=next_path,
        cli_grant_id=cli_grant_id,
        # A sign-in's second factor counts on this browser's device token, as after a password.
        device_token=presented_device_token(request) if purpose == flows.SIGN_IN else None,
    )
    if purpose == flows.LINK:  # started by the profile's fetch: it goes there itself
        response: Response = JSONResponse({"authorization_url": url}, headers=SECURITY_HEADERS)
    else:
        response = RedirectResponse(url, status_code=302, headers=SECURITY_HEADERS)
    browser.remember(response, value=browser_token, settings=settings)
    return response


@page_routes.get("/auth/sso/{provider_id}/start", name="page_sso_start", response_model=None)
def start(
    provider_id: str, request: Request, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> Response:
    """302 to the provider: a sign-in; ``?reauth=1`` re-authenticates the signed-in session
    with a fresh login there; ``?cli=TOKEN`` (the ``browser_url`` of ``ankra login --sso``)
    signs in for that terminal. Linking never starts from a link (the profile's POST)."""
    provider = find(settings.sso_providers, provider_id)
    if provider is None:
        return pages.message(pages.unknown_provider())
    params = request.query_params
    next_path = safe_next(params.get("next"))
    if params.get("link") == "1":
        return pages.message(pages.link_from_profile(provider.name))
    if (cli_token := params.get("cli")) is not None:
        return _to_provider(
            request, db, settings, ctx, provider, purpose=flows.CLI, cli_token=cli_token
        )
    if params.get("reauth") != "1":
        return _to_provider(
            request, db, settings, ctx, provider, purpose=flows.SIGN_IN, next_path=next_path
        )
    session = _signed_in(request, db, ctx)
    if session is None:
        return redirect(with_next("/login", request.url.path + "?" + str(params)))
    return _to_provider(
        request,
        db,
        settings,
        ctx,
        provider,
        purpose=flows.REAUTH,
        session_id=session.id,
        next_path=next_path,
    )


def _own_session(
    request: Request, db: DbDep, settings: Settings, ctx: RequestContext
) -> AuthSession | Response:
    """The signed-in session of a same-origin POST from our pages that may change links:
    a cross-site request, no session, or a restricted one (enrollment required) get a page
    saying so instead."""
    if not from_our_page(request, settings):
        return pages.message(pages.not_from_profile())
    session = _signed_in(request, db, ctx)
    if session is None:
        return redirect(with_next("/login", PROFILE))
    if enforcement.session_restricted(db, session, ctx.now):
        return redirect("/secure-account")
    return session


def start_link(
    request: Request,
    db: DbDep,
    settings: Settings,
    ctx: RequestContext,
    provider: SsoProvider,
    session_id: str,
) -> Response:
    """The profile's "Link NAME" (``POST /api/v1/profile/sso/{id}/link``): the flow to the
    provider, whose answer the page then confirms before anything is linked."""
    return _to_provider(
        request, db, settings, ctx, provider, purpose=flows.LINK, session_id=session_id
    )


async def _form_field(request: Request, name: str) -> str:
    """One field of a small urlencoded form (the body limit applies before this)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != FORM:
        return ""
    values = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=10)
    return (values.get(name) or [""])[0][:200]


@page_routes.post(
    "/auth/sso/{provider_id}/link/confirm", name="page_sso_link_confirm", response_model=None
)
async def confirm_link(
    provider_id: str, request: Request, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> Response:
    """The person's "Link" on the confirmation page: the identity is linked now, once."""
    confirmation = await _form_field(request, "confirmation")
    return await run_in_threadpool(
        _confirm_link, provider_id, confirmation, request, db, settings, ctx
    )


def _confirm_link(
    provider_id: str,
    confirmation: str,
    request: Request,
    db: DbDep,
    settings: Settings,
    ctx: RequestContext,
) -> Response:
    provider = find(settings.sso_providers, provider_id)
    if provider is None:
        return pages.message(pages.unknown_provider())
    session = _own_session(request, db, settings, ctx)
    if not isinstance(session, AuthSession):
        return session
    refused = service.confirm_link(
        db,
        token=confirmation,
        user_id=session.user_id,
        browser_token=browser.token(request),
        providers={p.id: p for p in settings.sso_providers},
        ctx=ctx,
    )
    if refused is not None:
        return pages.message(pages.REFUSALS[refused.kind](provider.name))
    return redirect(PROFILE)


@page_routes.get("/auth/sso/{provider_id}/callback", name="page_sso_callback", response_model=None)
def callback(
    provider_id: str, request: Request, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> Response:
    provider = find(settings.sso_providers, provider_id)
    if provider is None:
        return pages.message(pages.unknown_provider())
    params = {k: v[:MAX_PARAM] for k, v in request.query_params.items()}
    browser_token = browser.token(request)
    # Spent first, whatever the answer: a state works once, even when the provider refused.
    flow = flows.consume(
        db,
        ctx=ctx,
        state=params.get("state", ""),
        browser_token=browser_token,
        provider_id=provider.id,
    )
    if flow is None or browser_token is None:
        return pages.message(pages.invalid_flow(provider.name))

    def failed(outcome: pages.Outcome) -> Response:
        if flow.cli_grant_id is None:
            return pages.message(outcome)
        return cli.refuse(
            db, settings=settings, ctx=ctx, grant_id=flow.cli_grant_id, outcome=outcome
        )

    if "error" in params or not params.get("code"):
        detail = params.get("error_description") or params.get("error")
        return failed(pages.provider_error(provider.name, detail))
    client = _clients(request, settings).get(provider.id)
    assert client is not None  # noqa: S101 - the provider was found above
    # RFC 9207: an authorization response that names another issuer is a mix-up attack.
    if "iss" in params and params["iss"].rstrip("/") != provider.issuer:
        return failed(pages.invalid_token(provider.name))
    secrets = flows.secrets_for(settings, params["state"])
    try:
        identity = client.finish(
            redirect_uri=redirect_uri(settings.public_url, provider.id),
            code=params["code"],
            code_verifier=secrets.code_verifier,
            nonce=secrets.nonce,
        )
    except ProviderRefused as exc:
        return failed(pages.provider_error(provider.name, str(exc)[:300]))
    except InvalidIdToken:
        return failed(pages.invalid_token(provider.name))
    except ProviderUnavailable:
        return failed(pages.unavailable(provider.name))
    return _after_provider(request, db, settings, ctx, provider, identity, browser_token, flow)


def _after_provider(
    request: Request,
    db: DbDep,
    settings: Settings,
    ctx: RequestContext,
    provider: SsoProvider,
    identity: VerifiedIdentity,
    browser_token: str,
    flow: SsoFlow,
) -> Response:
    """What a verified identity does, by the purpose its flow was started for."""
    if flow.cli_grant_id is not None:
        return cli.finish(
            db,
            settings=settings,
            ctx=ctx,
            provider=provider,
            identity=identity,
            browser_token=browser_token,
            grant_id=flow.cli_grant_id,
        )
    if flow.purpose == flows.SIGN_IN:
        return _sign_in(request, db, settings, ctx, provider, identity, browser_token, flow)
    session_user = None if flow.session_id is None else _user_of_session(db, flow.session_id, ctx)
    if session_user is None:
        return pages.message(pages.REFUSALS["not_linked"](provider.name))
    if flow.purpose == flows.LINK:
        return _ask_to_link(db, ctx, provider, identity, session_user, browser_token)
    refused = service.reauthenticate(
        db, identity=identity, session_id=flow.session_id or "", ctx=ctx
    )
    if refused is not None:
        return pages.message(pages.REFUSALS[refused.kind](provider.name))
    return redirect(flow.next_path)


def _ask_to_link(
    db: DbDep,
    ctx: RequestContext,
    provider: SsoProvider,
    identity: VerifiedIdentity,
    user_id: str,
    browser_token: str,
) -> Response:
    held = service.await_confirmation(
        db,
        provider=provider,
        identity=identity,
        user_id=user_id,
        browser_token=browser_token,
        ctx=ctx,
    )
    if held is None:  # linked to this account already
        return redirect(PROFILE)
    if isinstance(held, service.Refused):
        return pages.message(pages.REFUSALS[held.kind](provider.name))
    account = db.get(User, user_id)
    return render(
        "sso_link_confirm.html",
        provider=provider.name,
        provider_id=provider.id,
        identity_email=held.email or "(no email)",
        account=account.email if account else "",
        confirmation=held.token,
    )


def _user_of_session(db: DbDep, session_id: str, ctx: RequestContext) -> str | None:
    session = db.get(AuthSession, session_id)
    if session is None or session.revoked_at is not None or session.expires_at <= ctx.now:
        return None
    return session.user_id


def _sign_in(
    request: Request,
    db: DbDep,
    settings: Settings,
    ctx: RequestContext,
    provider: SsoProvider,
    identity: VerifiedIdentity,
    browser_token: str,
    flow: SsoFlow,
) -> Response:
    outcome = service.sign_in(
        db, provider=provider, identity=identity, browser_token=browser_token, ctx=ctx
    )
    if isinstance(outcome, service.Refused):
        return pages.message(pages.REFUSALS[outcome.kind](provider.name))
    if isinstance(outcome, service.LinkAwaitsSignIn):
        page: Response = pages.message(pages.link_awaits_sign_in(outcome.email, provider.name))
        browser.remember(page, value=browser_token, settings=settings)
        return page
    token_id = device_tokens.valid_id_of_hash(
        db, token_hash=flow.device_token_hash, user_id=outcome.user_id, now=ctx.now
    )
    result = after_provider(
        db,
        settings=settings,
        ctx=ctx,
        user_id=outcome.user_id,
        provider_id=provider.id,
        device_token_id=token_id,
    )
    if isinstance(result, MfaRequired):
        return _second_factor_page(result, provider, flow.next_path)
    # This browser signed in to the account: a link waiting for that completes now.
    after_browser_sign_in(request, user_id=result.user_id, settings=settings)
    target = (
        with_next("/secure-account", flow.next_path)
        if result.enrollment_required
        else flow.next_path
    )
    response = redirect(target)
    set_session_cookie(response, token=result.access_token, settings=settings)
    set_device_cookie(response, token=result.device_token, settings=settings)
    return response


def _second_factor_page(result: MfaRequired, provider: SsoProvider, next_path: str) -> HTMLResponse:
    # The pending login's token reaches only this page's script; the page is never cached
    # and sends no Referer.
    return render(
        "sso_second_factor.html",
        data={
            "mfa-token": result.mfa_token,
            "methods": ",".join(result.methods),
            "next": next_path,
            "provider": provider.name,
        },
    )
