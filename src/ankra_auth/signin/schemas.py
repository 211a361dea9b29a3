"""Sign-in bodies and answers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ankra_auth.accounts.emails import EmailLookup
from ankra_auth.passkeys.schemas import CredentialJSON

Method = Literal["passkey", "totp", "recovery_code"]


class LoginIn(BaseModel):
    # Not validated as an email: any malformed address simply fails like a wrong password.
    email: EmailLookup
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    # From an earlier authenticated answer; unknown, void or foreign tokens are ignored.
    device_token: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class AuthenticatedOut(BaseModel):
    status: Literal["authenticated"] = "authenticated"
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a type name, not a secret
    expires_in: int
    enrollment_required: bool
    # Send it back on the next login: attempts from this device then count on it.
    device_token: str


class RecoveryAuthenticatedOut(AuthenticatedOut):
    recovery_codes_remaining: int


class MfaRequiredOut(BaseModel):
    status: Literal["mfa_required"] = "mfa_required"
    mfa_token: str
    expires_in: int
    methods: list[Method]


LoginOut = Annotated[AuthenticatedOut | MfaRequiredOut, Field(discriminator="status")]

MfaToken = Annotated[str, Field(min_length=1, max_length=200)]


class MfaCodeIn(BaseModel):
    mfa_token: MfaToken
    code: Annotated[str, Field(min_length=1, max_length=64)]


class PasskeyLoginOptionsIn(BaseModel):
    mfa_token: MfaToken


class PasskeyLoginIn(BaseModel):
    mfa_token: MfaToken
    credential: CredentialJSON
