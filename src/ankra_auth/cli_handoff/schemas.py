"""CLI hand-off bodies (RFC 8252 loopback redirect, RFC 8628 device hand-off, RFC 7636 PKCE)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from ankra_auth.passkeys.schemas import CredentialJSON
from ankra_auth.signin.schemas import Method, MfaToken
from ankra_auth.text import NoControl

# S256 challenges are base64url without padding; verifiers use RFC 7636's unreserved set.
CodeChallenge = Annotated[str, Field(min_length=43, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
CodeVerifier = Annotated[str, Field(min_length=43, max_length=128, pattern=r"^[A-Za-z0-9._~-]+$")]
Secret = Annotated[str, Field(min_length=1, max_length=200)]


class CliAuthorizeIn(BaseModel):
    """Exactly one of ``mfa_token`` (a password sign-in that met ``mfa_required``) or
    ``sso_provider`` (``ankra login --sso``: the hand-off page signs in there first; a
    loopback ``redirect_uri`` is then required)."""

    mfa_token: MfaToken | None = None
    sso_provider: Annotated[str, Field(min_length=1, max_length=40), NoControl] | None = None
    # Omitted: the device hand-off, for terminals with no local browser.
    redirect_uri: Annotated[str, Field(min_length=1, max_length=2000), NoControl] | None = None
    state: Annotated[str, Field(min_length=1, max_length=500), NoControl] | None = None
    code_challenge: CodeChallenge
    code_challenge_method: Literal["S256"]

    @model_validator(mode="after")
    def _one_first_factor(self) -> CliAuthorizeIn:
        if (self.mfa_token is None) == (self.sso_provider is None):
            raise ValueError("send exactly one of mfa_token or sso_provider")
        if self.sso_provider is not None and self.redirect_uri is None:
            raise ValueError("sso_provider needs a loopback redirect_uri")
        return self


class CliLoopbackOut(BaseModel):
    browser_url: str


class CliDeviceOut(BaseModel):
    browser_url: str
    user_code: str
    device_code: str
    interval: int
    expires_in: int


CliAuthorizeOut = CliDeviceOut | CliLoopbackOut


class CliHandoffOut(BaseModel):
    """What the loopback page needs: whose sign-in it is, and the second-factor step."""

    methods: list[Method]
    email: str
    expires_in: int


# Generous: a person may paste the code with spaces or dashes; ``user_codes`` judges it.
UserCode = Annotated[str, Field(min_length=1, max_length=32)]
ApprovalToken = Annotated[str, Field(min_length=1, max_length=200)]


class CliDeviceCodeIn(BaseModel):
    user_code: UserCode


class CliDeviceApprovalOut(BaseModel):
    """What a right user code opens: the sign-in being approved, before any factor.

    ``approval_token`` names this hand-off in the factor calls below (in their bodies,
    never in a URL); it is replaced when the code is typed again.
    """

    approval_token: str
    email: str
    ip: str | None
    requested_at: datetime
    methods: list[Method]
    expires_in: int


class CliDeviceApprovalIn(BaseModel):
    approval_token: ApprovalToken


class CliDeviceFactorCodeIn(BaseModel):
    approval_token: ApprovalToken
    code: Annotated[str, Field(min_length=1, max_length=64)]


class CliDevicePasskeyIn(BaseModel):
    approval_token: ApprovalToken
    credential: CredentialJSON


class CliHandoffCodeIn(BaseModel):
    code: Annotated[str, Field(min_length=1, max_length=64)]


class CliHandoffPasskeyIn(BaseModel):
    credential: CredentialJSON


class CliHandoffDoneOut(BaseModel):
    """Where the page sends the browser next; ``null`` for a device hand-off."""

    redirect_url: str | None


class CliTokenIn(BaseModel):
    """Exactly one of ``code`` (loopback) or ``device_code`` (device hand-off)."""

    code: Secret | None = None
    device_code: Secret | None = None
    code_verifier: CodeVerifier

    @model_validator(mode="after")
    def _one_grant(self) -> CliTokenIn:
        if (self.code is None) == (self.device_code is None):
            raise ValueError("send exactly one of code or device_code")
        return self
