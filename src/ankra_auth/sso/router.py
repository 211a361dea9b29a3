"""Single sign-on over HTTP: the providers list and the profile's links (JSON API), and the
start and callback page routes that the browser follows to and from the provider."""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from ankra_auth.accounts import service as accounts
from ankra_auth.accounts.models import AuthSession
from ankra_auth.api.deps import (
    ContextDep,
    CurrentPrincipal,
    DbDep,
    RecentlyVerified,
    SettingsDep,
)
from ankra_auth.cli_handoff import sso_grants
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.errors import NotAuthenticated, NotFound, raises
from ankra_auth.signin.cookies import SESSION_COOKIE, set_device_cookie, set_session_cookie
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
from ankra_auth.sso.pending import after_browser_sign_in
from ankra_auth.sso.schemas import LinkedIdentityOut, ProviderOut
from ankra_auth.web.pages import SECURITY_HEADERS, redirect, render, safe_next, with_next

api = APIRouter(prefix="/api/v1", tags=["sso"])
page_routes = APIRouter(include_in_schema=False)
router = APIRouter()

_clients_lock = threading.Lock()
MAX_PARAM = 2048


def _clients(request: Request, settings: Settings) -> OidcClients:
    with _clients_lock:
        clients: OidcClients | None = getattr(request.app.state, "sso_clients", None)
        if clients is None:
            clients = request.app.state.sso_clients = OidcClients(settings.sso_providers)
        return clients


# ---------------------------------------------------------------- JSON API


@api.get("/auth/sso/providers", name="list_sso_providers")
def list_providers(settings: SettingsDep) -> list[ProviderOut]:
    """The single sign-on providers the pages offer ("Sign in with NAME")."""
    return [ProviderOut(id=p.id, name=p.name) for p in settings.sso_providers]


@api.get("/profile/sso", name="list_sso_links")
def list_links(
    principal: CurrentPrincipal, db: DbDep, settings: SettingsDep
) -> list[LinkedIdentityOut]:
    """The single sign-on identities linked to the account."""
    names = {p.id: p.name for p in settings.sso_providers}
    return [
        LinkedIdentityOut(
            provider=ProviderOut(
                id=link.provider_id, name=names.get(link.provider_id, link.provider_id)
            ),
            email=link.email,
            linked_at=link.linked_at,
            last_used_at=link.last_used_at,
        )
        for link in service.list_links(db, user_id=principal.user.id)
    ]


@api.delete("/profile/sso/{provider_id}", status_code=status.HTTP_204_NO_CONTENT, name="unlink_sso")
@raises(NotFound, service.LastSignInMethod)
def unlink(
    provider_id: str,
    principal: RecentlyVerified,
    db: DbDep,
    ctx: ContextDep,
) -> None:
    """Unlink a provider; an account without a password keeps its last link."""
    service.unlink(db, user=principal.user, provider_id=provider_id, ctx=ctx)


# ---------------------------------------------------------------- pages


def _session_of(request: Request, db: DbDep, ctx: RequestContext) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        session, _ = accounts.resolve_session(db, token=token, now=ctx.now)
    except NotAuthenticated:
        return None
    return session.id


@page_routes.get("/auth/sso/{provider_id}/start", name="page_sso_start", response_model=None)
def start(
    provider_id: str,
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    ctx: ContextDep,
) -> Response:
    """302 to the provider. ``?reauth=1`` re-authenticates the signed-in session with a fresh
    login there; ``?link=1`` links the identity to the signed-in account; ``?cli=TOKEN``
    (the ``browser_url`` of ``ankra login --sso``) signs in for that terminal."""
    provider = find(settings.sso_providers, provider_id)
    if provider is None:
        return pages.message(pages.unknown_provider())
    params = request.query_params
    next_path = safe_next(params.get("next"))
    reauth = params.get("reauth") == "1"
    purpose = flows.REAUTH if reauth else flows.LINK if params.get("link") == "1" else flows.SIGN_IN
    cli_token = params.get("cli")
    if cli_token is not None:
        purpose, reauth = flows.CLI, False
    session_id = None
    if purpose in (flows.LINK, flows.REAUTH):
        session_id = _session_of(request, db, ctx)
        if session_id is None:
            return redirect(with_next("/login", request.url.path + "?" + str(params)))
    client = _clients(request, settings).get(provider.id)
    assert client is not None  # noqa: S101 - the provider was found above
    secrets = flows.new_secrets(settings)
    try:
        url = client.authorization_url(
            redirect_uri=redirect_uri(settings.public_url, provider.id),
            state=secrets.state,
            nonce=secrets.nonce,
            code_verifier=secrets.code_verifier,
            reauth=reauth,
        )
    except ProviderUnavailable:
        return pages.message(pages.unavailable(provider.name))
    cli_grant_id = None
    if cli_token is not None:
        # Spent here: the terminal's hand-off now belongs to this browser's flow only.
        cli_grant_id = sso_grants.claim(
            db, token=cli_token[:MAX_PARAM], provider_id=provider.id, ctx=ctx
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
    )
    response = RedirectResponse(url, status_code=302, headers=SECURITY_HEADERS)
    browser.remember(response, value=browser_token, settings=settings)
    return response


@page_routes.get("/auth/sso/{provider_id}/callback", name="page_sso_callback", response_model=None)
def callback(
    provider_id: str,
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    ctx: ContextDep,
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
        return _sign_in(
            request, db, settings, ctx, provider, identity, browser_token, flow.next_path
        )
    assert flow.session_id is not None  # noqa: S101 - link and reauth flows name their session
    if flow.purpose == flows.LINK:
        session_user = _user_of_session(db, flow.session_id, ctx)
        refused = (
            service.Refused("not_linked")
            if session_user is None
            else service.link_to_account(
                db, provider=provider, identity=identity, user_id=session_user, ctx=ctx
            )
        )
    else:
        refused = service.reauthenticate(
            db,
            identity=identity,
            session_id=flow.session_id,
            ctx=ctx,
        )
    if refused is not None:
        return pages.message(pages.REFUSALS[refused.kind](provider.name))
    return redirect(flow.next_path)


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
    next_path: str,
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
    result = after_provider(
        db, settings=settings, ctx=ctx, user_id=outcome.user_id, provider_id=provider.id
    )
    if isinstance(result, MfaRequired):
        return _second_factor_page(result, provider, next_path)
    # This browser signed in to the account: a link waiting for that completes now.
    after_browser_sign_in(request, user_id=result.user_id, settings=settings)
    target = with_next("/secure-account", next_path) if result.enrollment_required else next_path
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


router.include_router(api)
router.include_router(page_routes)
