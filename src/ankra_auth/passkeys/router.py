"""Passkeys over HTTP: management under the profile (the sign-in step is in signin/)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status

from ankra_auth.api.deps import (
    AddingAFactor,
    ContextDep,
    CurrentPrincipal,
    DbDep,
    RecentlyVerified,
    SettingsDep,
)
from ankra_auth.passkeys import service
from ankra_auth.passkeys.models import Passkey
from ankra_auth.passkeys.schemas import (
    CreationOptionsJSON,
    PasskeyOut,
    PasskeyRegisteredOut,
    PasskeyRegisterIn,
    PasskeyRenameIn,
)
from ankra_auth.text import resource_id

router = APIRouter(prefix="/api/v1", tags=["passkeys"])
PROFILE = "/profile/auth/passkeys"

# The contract names the path parameter ``id``; ``passkey_id`` keeps the builtin unshadowed.
PasskeyId = Annotated[str, resource_id("id", missing="No such passkey")]


def passkey_out(passkey: Passkey) -> PasskeyOut:
    return PasskeyOut(
        id=passkey.id,
        name=passkey.name,
        created_at=passkey.created_at,
        last_used_at=passkey.last_used_at,
        backed_up=passkey.backed_up,
        transports=service.transports(passkey),
    )


@router.get(PROFILE, name="list_passkeys")
def list_passkeys(principal: CurrentPrincipal, db: DbDep) -> list[PasskeyOut]:
    return [passkey_out(p) for p in service.list_for(db, user_id=principal.user.id)]


@router.post(
    f"{PROFILE}/options",
    name="passkey_registration_options",
    response_model=CreationOptionsJSON,
    response_model_exclude_none=True,
)
def passkey_registration_options(
    principal: AddingAFactor, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> CreationOptionsJSON:
    options = service.registration_options(db, user=principal.user, settings=settings, ctx=ctx)
    return CreationOptionsJSON.model_validate(options)


@router.post(PROFILE, status_code=status.HTTP_201_CREATED, name="register_passkey")
def register_passkey(
    body: PasskeyRegisterIn,
    principal: AddingAFactor,
    db: DbDep,
    settings: SettingsDep,
    ctx: ContextDep,
) -> PasskeyRegisteredOut:
    registered = service.register(
        db,
        user=principal.user,
        name=body.name,
        credential=body.credential,
        settings=settings,
        ctx=ctx,
    )
    return PasskeyRegisteredOut(
        passkey=passkey_out(registered.passkey), recovery_codes=registered.recovery_codes
    )


@router.patch(f"{PROFILE}/{{id}}", name="rename_passkey")
def rename_passkey(
    passkey_id: PasskeyId,
    body: PasskeyRenameIn,
    principal: CurrentPrincipal,
    db: DbDep,
    ctx: ContextDep,
) -> PasskeyOut:
    passkey = service.rename(
        db, user=principal.user, passkey_id=passkey_id, name=body.name, ctx=ctx
    )
    return passkey_out(passkey)


@router.delete(f"{PROFILE}/{{id}}", status_code=status.HTTP_204_NO_CONTENT, name="remove_passkey")
def remove_passkey(
    passkey_id: PasskeyId, principal: RecentlyVerified, db: DbDep, ctx: ContextDep
) -> None:
    service.remove(db, user=principal.user, passkey_id=passkey_id, ctx=ctx)
