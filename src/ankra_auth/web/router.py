"""Server-rendered pages. They read the session cookie only to decide where to send you;
everything else they do through the JSON API, from the browser."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from ankra_auth.api.deps import ContextDep, DbDep, SettingsDep
from ankra_auth.errors import CsrfFailed, NotFound
from ankra_auth.orgs import enforcement
from ankra_auth.orgs.enforcement import enforcing_orgs
from ankra_auth.passkeys import providers
from ankra_auth.passkeys.service import user_handle
from ankra_auth.security import webauthn
from ankra_auth.sign_in_links import service as sign_in_links
from ankra_auth.signin.cookies import from_allowed_origin, set_session_cookie
from ankra_auth.web import assets, org_pages
from ankra_auth.web.pages import (
    SECURITY_HEADERS,
    redirect,
    render,
    safe_next,
    with_next,
)
from ankra_auth.web.visitor import current_visitor

router = APIRouter(include_in_schema=False)
router.include_router(org_pages.router)

PROFILE_PAGE = "/profile/authentication"
SECURE_PAGE = "/secure-account"
VERIFY_PAGE = "/verify-email"
NextParam = Annotated[str | None, Query(alias="next")]


@router.get("/", name="page_home")
def home() -> RedirectResponse:
    return redirect(PROFILE_PAGE)


@router.get("/login", name="page_login")
def login_page(settings: SettingsDep, next_: NextParam = None) -> HTMLResponse:
    return render(
        "login.html",
        data={"next": safe_next(next_)},
        sso_providers=settings.sso_providers,
        sso_next=safe_next(next_) if next_ else None,
    )


@router.get(PROFILE_PAGE, name="page_profile_authentication", response_model=None)
def profile_page(
    request: Request, db: DbDep, ctx: ContextDep, settings: SettingsDep
) -> HTMLResponse | RedirectResponse:
    visitor = current_visitor(request, db, ctx)
    if visitor is None:
        return redirect(with_next("/login", PROFILE_PAGE))
    if visitor.enrollment_required:
        return redirect(with_next(SECURE_PAGE, PROFILE_PAGE))
    return render(
        "profile.html",
        email=visitor.user.email,
        manage=True,
        codes_done_label="I have saved my codes",
        data={
            "email": visitor.user.email,
            "site": settings.public_url,
            "auth": "session",
            # For signalAllAcceptedCredentials(): the RP ID and the WebAuthn user handle.
            "rp-id": settings.effective_rp_id,
            "user-handle": webauthn.base64url(user_handle(visitor.user.id)),
        },
    )


@router.get(VERIFY_PAGE, name="page_verify_email", response_model=None)
def verify_email_page(
    request: Request, db: DbDep, ctx: ContextDep, token: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse | RedirectResponse:
    """The mailed link: it verifies in the account's own session, so a visitor without one
    signs in first (and one that must secure the account does that first) and comes back."""
    here = f"{VERIFY_PAGE}?token={quote(token, safe='')}" if token else VERIFY_PAGE
    visitor = current_visitor(request, db, ctx)
    if visitor is None:
        return redirect(with_next("/login", here))
    if visitor.enrollment_required:
        return redirect(with_next(SECURE_PAGE, here))
    return render(
        "verify_email.html",
        email=visitor.user.email,
        data={"email": visitor.user.email, "token": token, "auth": "session"},
    )


@router.get(SECURE_PAGE, name="page_secure_account", response_model=None)
def secure_account_page(
    request: Request, db: DbDep, ctx: ContextDep, settings: SettingsDep, next_: NextParam = None
) -> HTMLResponse | RedirectResponse:
    target = safe_next(next_)
    visitor = current_visitor(request, db, ctx)
    if visitor is None:
        return redirect(with_next("/login", with_next(SECURE_PAGE, target)))
    if not visitor.enrollment_required:
        return redirect(target)
    # A passkey requirement is worded on the server too, so the page is right before its
    # script runs (secure-account.js words it the same way from GET /api/v1/profile/auth).
    restricting = [
        r
        for r in enforcement.requirements(
            db,
            user_id=visitor.user.id,
            passkey_session=enforcement.proved_passkey(visitor.session),
            now=ctx.now,
        )
        if r.restriction is not None and r.required == "passkey"
    ]
    return render(
        "secure_account.html",
        email=visitor.user.email,
        orgs=[{"id": org.id, "name": org.name} for org in enforcing_orgs(db, visitor.user.id)],
        passkey_orgs=[r.name for r in restricting],
        use_passkey=any(r.restriction == "use_passkey" for r in restricting),
        manage=False,
        codes_done_label="I have saved my codes, continue",
        data={
            "email": visitor.user.email,
            "site": settings.public_url,
            "next": target,
            "user": visitor.user.id,
            "auth": "session",
        },
    )


@router.get("/cli/login/{handoff_token}", name="page_cli_login")
def cli_login_page(handoff_token: str) -> HTMLResponse:
    # The page checks the token through the API; here it is only handed to the script.
    return render("cli_login.html", data={"token": handoff_token})


@router.get("/cli/device", name="page_cli_device")
def cli_device_page() -> HTMLResponse:
    # The same page for every terminal: the person types the code their terminal shows.
    return render("cli_device.html")


@router.get("/auth/link/{link_token}", name="page_sign_in_link")
def sign_in_link_page(link_token: str, db: DbDep, ctx: ContextDep) -> HTMLResponse:
    # Only shows whose link it is: opening a URL must not sign anyone in by itself.
    user = sign_in_links.account_for(db, token=link_token, ctx=ctx)
    page = render("sign_in_link.html", account=user.email if user else None)
    # Under "no-referrer" a form POST carries "Origin: null" and fails the origin check
    # below; "same-origin" sends the real Origin and keeps the URL's token on this site.
    page.headers["Referrer-Policy"] = "same-origin"
    return page


@router.post("/auth/link/{link_token}", name="page_sign_in_link_continue")
def sign_in_link_continue(
    link_token: str, request: Request, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> Response:
    """Spend the link: the browser gets a session cookie and goes to the link's page.

    The form must come from this site (Origin), so another site cannot sign a visitor
    in to someone else's account (login CSRF).
    """
    if not from_allowed_origin(request, settings):
        raise CsrfFailed("This request did not come from an allowed origin")
    redeemed = sign_in_links.redeem(db, token=link_token, ctx=ctx)
    if redeemed is None:
        return render("sign_in_link.html", account=None)
    response = redirect(safe_next(redeemed.next_path))
    set_session_cookie(response, token=redeemed.session_token, settings=settings)
    return response


# An AAGUID as the passkey list sends it: a lower-case UUID, nothing else reaches the list.
AAGUID = Annotated[
    str, Path(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]
# An icon is an image, never a document: if opened by itself, an SVG runs nothing.
ICON_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "public, max-age=86400",
}


@router.get("/passkey-icons/{aaguid}", name="page_passkey_icon")
def passkey_icon(aaguid: AAGUID, scheme: Annotated[str, Query()] = "light") -> Response:
    """The authenticator's icon from the AAGUID list, served from our own origin (the
    pages' CSP allows images from 'self' only); ``?scheme=dark`` for dark backgrounds."""
    icon = providers.icon(aaguid, dark=scheme == "dark")
    if icon is None:
        raise NotFound("No icon for this authenticator")
    return Response(icon.data, media_type=icon.mime_type, headers=ICON_HEADERS)


@router.get("/static/{name}", name="page_static")
def static_file(name: str) -> Response:
    asset = assets.load(name)
    if asset is None:
        raise NotFound("No such file")
    headers = {
        "X-Content-Type-Options": SECURITY_HEADERS["X-Content-Type-Options"],
        # URLs carry the content hash, so a cached copy is never stale.
        "Cache-Control": "public, max-age=86400",
    }
    return Response(asset.body, media_type=asset.content_type, headers=headers)
