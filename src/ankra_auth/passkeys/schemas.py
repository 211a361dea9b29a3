"""Passkey bodies; WebAuthn options and credentials use the Level 3 JSON forms (camelCase)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeGuard, get_args

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints
from pydantic.json_schema import SkipJsonSchema
from typing_extensions import TypeAliasType

from ankra_auth.text import NoControl, NoInvisible

# WebAuthn Level 3's enumerations, as TypeScript's DOM lib names them.
AuthenticatorTransport = TypeAliasType(
    "AuthenticatorTransport",
    Literal["usb", "nfc", "ble", "smart-card", "hybrid", "internal", "cable"],
)
UserVerificationRequirement = TypeAliasType(
    "UserVerificationRequirement", Literal["required", "preferred", "discouraged"]
)
ResidentKeyRequirement = TypeAliasType(
    "ResidentKeyRequirement", Literal["required", "preferred", "discouraged"]
)
AuthenticatorAttachment = TypeAliasType(
    "AuthenticatorAttachment", Literal["platform", "cross-platform"]
)
AttestationConveyancePreference = TypeAliasType(
    "AttestationConveyancePreference", Literal["none", "indirect", "direct", "enterprise"]
)
PublicKeyCredentialHint = TypeAliasType(
    "PublicKeyCredentialHint", Literal["security-key", "client-device", "hybrid"]
)

TRANSPORTS: frozenset[str] = frozenset(get_args(AuthenticatorTransport.__value__))


def is_transport(value: str) -> TypeGuard[AuthenticatorTransport]:
    return value in TRANSPORTS


PasskeyName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    NoControl,
    NoInvisible,
]
# A RegistrationResponseJSON / AuthenticationResponseJSON from ``credential.toJSON()``.
CredentialJSON = dict[str, Any]
# The example of an AuthenticationResponseJSON in every sign-in body that carries one.
ASSERTION_EXAMPLE: dict[str, Any] = {
    "id": "mDS3ki9QnvP8cEDV7W6IXI0eC0ZzYfCu4Dh-0vJ_aXs",
    "rawId": "mDS3ki9QnvP8cEDV7W6IXI0eC0ZzYfCu4Dh-0vJ_aXs",
    "type": "public-key",
    "response": {
        "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0",
        "authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ",
        "signature": "MEUCIQDQ",
        "userHandle": "3q2-7wAAAAAAAAAAAAAAAA",
    },
    "clientExtensionResults": {},
    "authenticatorAttachment": "platform",
}


class PasskeyOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "a1b2c3d4e5f64a7b8c9d0e1f2a3b4c5d",
                    "credential_id": "mDS3ki9QnvP8cEDV7W6IXI0eC0ZzYfCu4Dh-0vJ_aXs",
                    "name": "MacBook Touch ID",
                    "created_at": "2026-01-14T09:30:00Z",
                    "last_used_at": "2026-01-15T08:12:44Z",
                    "backed_up": True,
                    "transports": ["hybrid", "internal"],
                    "provider": "iCloud Keychain",
                    "aaguid": "fbfc3007-154e-4ecc-8c0b-6e020557d7bd",
                    "backup_eligible": True,
                    "discoverable": True,
                    "signs_in_alone": True,
                }
            ]
        }
    )

    id: str
    credential_id: str = Field(
        description="The WebAuthn credential id, base64url (the `id` of the browser's "
        "credential): what `PublicKeyCredential.signalAllAcceptedCredentials()` takes"
    )
    name: str
    created_at: datetime
    last_used_at: datetime | None
    backed_up: bool
    transports: list[AuthenticatorTransport]
    provider: str | None = Field(
        description="The authenticator's name from its AAGUID (a maintained list); null when "
        "unknown, the all-zero AAGUID included"
    )
    aaguid: str | None = Field(description="The AAGUID as registered; null for keys from before")
    backup_eligible: bool = Field(description="The BE flag: a synced passkey can be backed up")
    discoverable: bool | None = Field(
        description="Whether the authenticator made a discoverable credential "
        "(`credProps.rk`); null when the browser did not say"
    )
    signs_in_alone: bool = Field(
        description="It verified the user at registration and is not known to be "
        "non-discoverable, or it has completed a passkey-only sign-in"
    )


class PasskeyRegisterIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "MacBook Touch ID",
                    "credential": {
                        "id": "mDS3ki9QnvP8cEDV7W6IXI0eC0ZzYfCu4Dh-0vJ_aXs",
                        "rawId": "mDS3ki9QnvP8cEDV7W6IXI0eC0ZzYfCu4Dh-0vJ_aXs",
                        "type": "public-key",
                        "response": {
                            "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0",
                            "attestationObject": "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVg",
                            "transports": ["hybrid", "internal"],
                        },
                        "clientExtensionResults": {"credProps": {"rk": True}},
                        "authenticatorAttachment": "platform",
                    },
                }
            ]
        }
    )

    name: PasskeyName
    credential: CredentialJSON


class PasskeyRegisteredOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "passkey": {
                        "id": "a1b2c3d4e5f64a7b8c9d0e1f2a3b4c5d",
                        "name": "MacBook Touch ID",
                        "created_at": "2026-01-14T09:30:00Z",
                        "last_used_at": None,
                        "backed_up": True,
                        "transports": ["hybrid", "internal"],
                    },
                    "recovery_codes": None,
                }
            ]
        }
    )

    passkey: PasskeyOut
    recovery_codes: list[str] | None


class PasskeyRenameIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Work laptop"}]})

    name: PasskeyName


# The options as py_webauthn produces them, typed as WebAuthn Level 3's JSON dictionaries
# (camelCase on purpose) so that a generated client passes them to
# ``PublicKeyCredential.parse*OptionsFromJSON()`` as they are. A member the server may
# leave out is optional, never null (routes answer with ``response_model_exclude_none``);
# an unknown member is refused, so the document cannot fall behind what is sent.


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PublicKeyCredentialRpEntity(_Options):
    id: str
    name: str


class PublicKeyCredentialUserEntityJSON(_Options):
    id: str
    name: str
    displayName: str


class PublicKeyCredentialParameters(_Options):
    type: Literal["public-key"]
    alg: int


class PublicKeyCredentialDescriptorJSON(_Options):
    id: str
    type: Literal["public-key"]
    transports: list[AuthenticatorTransport] | SkipJsonSchema[None] = None


class AuthenticatorSelectionCriteria(_Options):
    authenticatorAttachment: AuthenticatorAttachment | SkipJsonSchema[None] = None
    residentKey: ResidentKeyRequirement
    requireResidentKey: bool
    userVerification: UserVerificationRequirement


CHALLENGE_EXAMPLE = "x5UBPFuaut9diMlYL8fkxpLsWhvY2YXvu_jCMHet4yV_3ZyxvJgdDkoU1u93XRfsXTsQwHJQs_Chhp"
DESCRIPTOR_EXAMPLE: dict[str, JsonValue] = {
    "id": "mDS3ki9QnvP8cEDV7W6IXI0eC0ZzYfCu4Dh-0vJ_aXs",
    "type": "public-key",
    "transports": ["hybrid", "internal"],
}


class AuthenticationExtensionsClientInputsJSON(_Options):
    credProps: bool = Field(
        description="Asks the browser whether the new credential is discoverable (`rk`)"
    )


class PublicKeyCredentialCreationOptionsJSON(_Options):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rp": {"id": "localhost", "name": "Ankra"},
                    "user": {
                        "id": "3q2-7wAAAAAAAAAAAAAAAA",
                        "name": "ada@example.com",
                        "displayName": "ada@example.com",
                    },
                    "challenge": CHALLENGE_EXAMPLE,
                    "pubKeyCredParams": [
                        {"type": "public-key", "alg": -7},
                        {"type": "public-key", "alg": -8},
                        {"type": "public-key", "alg": -257},
                    ],
                    "timeout": 60000,
                    "excludeCredentials": [DESCRIPTOR_EXAMPLE],
                    "authenticatorSelection": {
                        "residentKey": "preferred",
                        "requireResidentKey": False,
                        "userVerification": "preferred",
                    },
                    "attestation": "none",
                    "extensions": {"credProps": True},
                }
            ]
        }
    )

    rp: PublicKeyCredentialRpEntity
    user: PublicKeyCredentialUserEntityJSON
    challenge: str
    pubKeyCredParams: list[PublicKeyCredentialParameters]
    timeout: int
    excludeCredentials: list[PublicKeyCredentialDescriptorJSON]
    authenticatorSelection: AuthenticatorSelectionCriteria
    attestation: AttestationConveyancePreference
    extensions: AuthenticationExtensionsClientInputsJSON
    hints: list[PublicKeyCredentialHint] | SkipJsonSchema[None] = None


class PublicKeyCredentialRequestOptionsJSON(_Options):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "challenge": CHALLENGE_EXAMPLE,
                    "timeout": 60000,
                    "rpId": "localhost",
                    "allowCredentials": [DESCRIPTOR_EXAMPLE],
                    "userVerification": "preferred",
                }
            ]
        }
    )

    challenge: str
    timeout: int
    rpId: str
    allowCredentials: list[PublicKeyCredentialDescriptorJSON]
    userVerification: UserVerificationRequirement
    hints: list[PublicKeyCredentialHint] | SkipJsonSchema[None] = None
