"""Sign-in bodies and answers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from ankra_auth.accounts.emails import EmailLookup
from ankra_auth.passkeys.schemas import CredentialJSON
from ankra_auth.security import recovery_codes, totp

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


def _totp_form(code: str) -> str:
    if totp.normalize(code) is None:
        raise ValueError("an authenticator code is 6 digits")
    return code


def _recovery_form(code: str) -> str:
    if recovery_codes.normalize(code) is None:
        raise ValueError("a recovery code is 10 letters and digits, like ABCDE-12345")
    return code


# A code that cannot be right by its form is refused here (422), before the sign-in step:
# it spends none of the pending login's attempts and nothing of the account's budget.
TotpCode = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_totp_form)]
RecoveryCode = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_recovery_form)]


class TotpCodeIn(BaseModel):
    mfa_token: MfaToken
    code: TotpCode


class RecoveryCodeIn(BaseModel):
    mfa_token: MfaToken
    code: RecoveryCode


class PasskeyLoginOptionsIn(BaseModel):
    mfa_token: MfaToken


class PasskeyLoginIn(BaseModel):
    mfa_token: MfaToken
    credential: CredentialJSON
