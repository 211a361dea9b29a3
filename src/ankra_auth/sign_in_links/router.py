from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from ankra_auth.api.deps import ContextDep, CurrentPrincipal, DbDep, SettingsDep
from ankra_auth.sign_in_links import service
from ankra_auth.text import NoControl
from ankra_auth.web.pages import DEFAULT_NEXT, safe_next

router = APIRouter(prefix="/api/v1/auth/sign-in-links", tags=["accounts"])


class SignInLinkIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"next": "/profile/authentication"}]})

    # A path on this site; anything else falls back to the profile page (no open redirects).
    next: Annotated[str, Field(max_length=2048), NoControl] = DEFAULT_NEXT


class SignInLinkOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "http://localhost:8000/auth/link?token=Qm9vTjR4Wk1hN3BWc0x5UjJ0Q2dFNnVI",
                    "expires_in": 60,
                }
            ]
        }
    )

    url: str
    expires_in: int


@router.post("", status_code=status.HTTP_201_CREATED, name="create_sign_in_link")
def create_sign_in_link(
    body: SignInLinkIn,
    principal: CurrentPrincipal,
    db: DbDep,
    settings: SettingsDep,
    ctx: ContextDep,
) -> SignInLinkOut:
    """A single-use link, valid for 60 seconds, that opens the pages signed in as this session."""
    link = service.create(
        db, session=principal.session, next_path=safe_next(body.next), settings=settings, ctx=ctx
    )
    return SignInLinkOut(url=link.url, expires_in=link.expires_in)
