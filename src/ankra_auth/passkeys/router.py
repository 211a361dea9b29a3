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
from ankra_auth.errors import InvalidCredential, LastFactor, raises
from ankra_auth.passkeys import providers, service
from ankra_auth.passkeys.models import Passkey
from ankra_auth.passkeys.schemas import (
    PasskeyOut,
    PasskeyRegisteredOut,
    PasskeyRegisterIn,
    PasskeyRenameIn,
    PublicKeyCredentialCreationOptionsJSON,
    is_transport,
)
from ankra_auth.security import webauthn
from ankra_auth.text import resource_id

router = APIRouter(prefix="/api/v1", tags=["passkeys"])
PROFILE = "/profile/auth/passkeys"

# The contract names the path parameter ``id``; ``passkey_id`` keeps the builtin unshadowed.
PasskeyId = Annotated[str, resource_id("id", missing="No such passkey")]


def passkey_out(passkey: Passkey) -> PasskeyOut:
    return PasskeyOut(
        id=passkey.id,
        credential_id=webauthn.base64url(passkey.credential_id),
        name=passkey.name,
        created_at=passkey.created_at,
        last_used_at=passkey.last_used_at,
        backed_up=passkey.backed_up,
        transports=[t for t in service.transports(passkey) if is_transport(t)],
        provider=providers.name(passkey.aaguid),
        aaguid=passkey.aaguid or None,
        backup_eligible=passkey.backup_eligible,
        discoverable=passkey.discoverable,
        signs_in_alone=service.signs_in_alone(passkey),
    )


@router.get(PROFILE, name="list_passkeys")
def list_passkeys(principal: CurrentPrincipal, db: DbDep) -> list[PasskeyOut]:
    """The account's passkeys and security keys."""
    return [passkey_out(p) for p in service.list_for(db, user_id=principal.user.id)]


@router.post(
    f"{PROFILE}/options",
    name="passkey_registration_options",
    response_model=PublicKeyCredentialCreationOptionsJSON,
    response_model_exclude_none=True,
)
def passkey_registration_options(
    principal: AddingAFactor, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> PublicKeyCredentialCreationOptionsJSON:
    """Options for `navigator.credentials.create()` (after
    `PublicKeyCredential.parseCreationOptionsFromJSON()`); the account's passkeys are
    excluded, so one authenticator is not registered twice. An account with 2FA needs a
    check within 10 minutes first (`reauthentication_required`)."""
    options = service.registration_options(db, user=principal.user, settings=settings, ctx=ctx)
    return PublicKeyCredentialCreationOptionsJSON.model_validate(options)


@router.post(PROFILE, status_code=status.HTTP_201_CREATED, name="register_passkey")
@raises(InvalidCredential)
def register_passkey(
    body: PasskeyRegisterIn,
    principal: AddingAFactor,
    db: DbDep,
    settings: SettingsDep,
    ctx: ContextDep,
) -> PasskeyRegisteredOut:
    """Register a passkey: `credential` is the browser's `credential.toJSON()` for the
    options above. When this turns 2FA on, the answer holds the 10 new recovery codes."""
    registered = service.register(
        db,
        user=principal.user,
        name=body.name,
        credential=body.credential,
        settings=settings,
        ctx=ctx,
        session_id=principal.session.id,
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
    """Rename a passkey."""
    passkey = service.rename(
        db, user=principal.user, passkey_id=passkey_id, name=body.name, ctx=ctx
    )
    return passkey_out(passkey)


@router.delete(f"{PROFILE}/{{id}}", status_code=status.HTTP_204_NO_CONTENT, name="remove_passkey")
@raises(LastFactor)
def remove_passkey(
    passkey_id: PasskeyId, principal: RecentlyVerified, db: DbDep, ctx: ContextDep
) -> None:
    """Remove a passkey; refused when it is the last factor while 2FA is on."""
    service.remove(db, user=principal.user, passkey_id=passkey_id, ctx=ctx)
