"""Passkey bodies; WebAuthn options and credentials use the Level 3 JSON forms (camelCase)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from ankra_auth.text import NoControl, NoInvisible

PasskeyName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    NoControl,
    NoInvisible,
]
# A RegistrationResponseJSON / AuthenticationResponseJSON from ``credential.toJSON()``.
CredentialJSON = dict[str, Any]


class PasskeyOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    backed_up: bool
    transports: list[str]


class PasskeyRegisterIn(BaseModel):
    name: PasskeyName
    credential: CredentialJSON


class PasskeyRegisteredOut(BaseModel):
    passkey: PasskeyOut
    recovery_codes: list[str] | None


class PasskeyRenameIn(BaseModel):
    name: PasskeyName


# The options JSON as py_webauthn produces it, typed for generated clients; field names
# are the WebAuthn JSON ones (camelCase) on purpose.


class _Options(BaseModel):
    model_config = ConfigDict(extra="allow")


class RelyingPartyJSON(_Options):
    id: str
    name: str


class UserEntityJSON(_Options):
    id: str
    name: str
    displayName: str


class CredentialParameterJSON(_Options):
    type: Literal["public-key"]
    alg: int


class CredentialDescriptorJSON(_Options):
    id: str
    type: Literal["public-key"]
    transports: list[str] | None = None


class AuthenticatorSelectionJSON(_Options):
    authenticatorAttachment: str | None = None
    residentKey: str | None = None
    requireResidentKey: bool | None = None
    userVerification: str | None = None


class CreationOptionsJSON(_Options):
    """PublicKeyCredentialCreationOptionsJSON."""

    rp: RelyingPartyJSON
    user: UserEntityJSON
    challenge: str
    pubKeyCredParams: list[CredentialParameterJSON]
    timeout: int | None = None
    excludeCredentials: list[CredentialDescriptorJSON] = []
    authenticatorSelection: AuthenticatorSelectionJSON | None = None
    attestation: str | None = None
    hints: list[str] | None = None


class RequestOptionsJSON(_Options):
    """PublicKeyCredentialRequestOptionsJSON."""

    challenge: str
    timeout: int | None = None
    rpId: str | None = None
    allowCredentials: list[CredentialDescriptorJSON] = []
    userVerification: str | None = None
