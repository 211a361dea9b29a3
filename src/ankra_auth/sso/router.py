"""Single sign-on over HTTP: the providers list and the profile's links (JSON API); the
page routes the browser follows to and from the provider are in ``sso.pages_router``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response, status

from ankra_auth.api.deps import (
    ContextDep,
    CurrentPrincipal,
    DbDep,
    RecentlyVerified,
    SettingsDep,
)
from ankra_auth.errors import NotFound, raises
from ankra_auth.sso import pages_router, service
from ankra_auth.sso.config import find
from ankra_auth.sso.pages_router import page_routes
from ankra_auth.sso.schemas import LinkedIdentityOut, ProviderOut, SsoLinkStartOut
from ankra_auth.text import path_id

# An id this service could have configured (sso.config's pattern): anything else is no provider.
PROVIDER_ID = path_id(
    "provider_id",
    pattern=r"[a-z0-9][a-z0-9_-]{0,39}",
    missing="No single sign-on of that provider is linked to your account",
)

api = APIRouter(prefix="/api/v1", tags=["sso"])
router = APIRouter()

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
    provider_id: Annotated[str, PROVIDER_ID],
    principal: RecentlyVerified,
    db: DbDep,
    ctx: ContextDep,
) -> None:
    """Unlink a provider; an account without a password keeps its last link."""
    service.unlink(db, user=principal.user, provider_id=provider_id, ctx=ctx)


@api.post("/profile/sso/{provider_id}/link", name="start_sso_link", response_model=SsoLinkStartOut)
@raises(NotFound)
def start_link(
    provider_id: Annotated[str, PROVIDER_ID],
    request: Request,
    principal: CurrentPrincipal,
    db: DbDep,
    settings: SettingsDep,
    ctx: ContextDep,
) -> Response:
    """Start linking a provider to the signed-in account (the profile's "Link NAME", a
    same-origin POST: a link someone sends starts nothing). Go to `authorization_url`; after
    the provider, the page asks "Link PROVIDER account EMAIL to your Ankra account?" and
    links only on the person's confirmation. Restricted sessions cannot link."""
    provider = find(settings.sso_providers, provider_id)
    if provider is None:
        raise NotFound("No single sign-on provider has that id")
    return pages_router.start_link(request, db, settings, ctx, provider, principal.session.id)


router.include_router(api)
router.include_router(page_routes)
