"""CLI hand-off bodies (RFC 8252 loopback redirect, RFC 8628 device hand-off, RFC 7636 PKCE)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ankra_auth.passkeys.schemas import ASSERTION_EXAMPLE, CredentialJSON
from ankra_auth.signin.schemas import Method, MfaToken, RecoveryCode, TotpCode
from ankra_auth.text import NoControl

# S256 challenges are base64url without padding; verifiers use RFC 7636's unreserved set.
CodeChallenge = Annotated[str, Field(min_length=43, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
CodeVerifier = Annotated[str, Field(min_length=43, max_length=128, pattern=r"^[A-Za-z0-9._~-]+$")]
Secret = Annotated[str, Field(min_length=1, max_length=200)]


class CliAuthorizeIn(BaseModel):
    """Exactly one of ``mfa_token`` (a password sign-in that met ``mfa_required``),
    ``sso_provider`` (``ankra login --sso``: the hand-off page signs in there first;
    without ``redirect_uri``, after the user code is typed on /cli/device) or
    ``passkey: true`` (``ankra login --passkey``: the hand-off page signs in with a passkey
    alone; no password, and no account named until the passkey names it)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "mfa_token": "Hn4Tq8Wc2Ys6Pb0Lm3Xr7Kd1Vf5Jg9Ze2Au6Ci",
                    "redirect_uri": "http://127.0.0.1:53682/callback",
                    "state": "w3Rk9Tn2",
                    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                    "code_challenge_method": "S256",
                }
            ]
        }
    )

    mfa_token: MfaToken | None = None
    sso_provider: Annotated[str, Field(min_length=1, max_length=40), NoControl] | None = None
    passkey: bool = Field(
        default=False,
        description="`true`: the hand-off page signs in with a passkey alone "
        "(`ankra login --passkey`)",
    )
    # Omitted: the device hand-off, for terminals with no local browser.
    redirect_uri: Annotated[str, Field(min_length=1, max_length=2000), NoControl] | None = None
    state: Annotated[str, Field(min_length=1, max_length=500), NoControl] | None = None
    code_challenge: CodeChallenge
    code_challenge_method: Literal["S256"]
    # With ``sso_provider`` or ``passkey``: the CLI's device token, so the factor counts on
    # it (as after a password), not on the account.
    device_token: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _one_first_factor(self) -> CliAuthorizeIn:
        given = (self.mfa_token is not None, self.sso_provider is not None, self.passkey)
        if sum(given) != 1:
            raise ValueError("send exactly one of mfa_token, sso_provider or passkey: true")
        return self


class CliLoopbackOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "browser_url": "http://localhost:8000/cli/login/Tq8Wc2Ys6Pb0Lm3Xr7Kd1Vf5Jg9Ze2Au6CiHn4"
                }
            ]
        }
    )

    browser_url: str


class CliDeviceOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "browser_url": "http://localhost:8000/cli/device",
                    "user_code": "WDJB-MJHT",
                    "device_code": "Gm7Kq2Xt9Rb4Ny6Lp1Wd8Hs3Vc5Jf0Za2Ee7Ui",
                    "interval": 5,
                    "expires_in": 600,
                }
            ]
        }
    )

    browser_url: str
    user_code: str
    device_code: str
    interval: int
    expires_in: int


CliAuthorizeOut = CliDeviceOut | CliLoopbackOut


class CliHandoffOut(BaseModel):
    """What the hand-off page needs: whose sign-in it is, and the second-factor step.

    For a device hand-off (``ankra login --sso --no-browser`` after the provider) the page
    also shows the terminal's ``ip`` and ``requested_at`` and the warning before anything
    is asked; with no ``methods`` (an account without 2FA) the person approves it with
    ``POST .../approve`` or refuses it with ``POST .../deny``.

    ``passkey_alone`` (``ankra login --passkey``): the page signs in with a passkey alone
    (``POST .../passkey-alone/options``, then ``POST .../passkey-alone``); ``email`` is
    ``null`` and ``methods`` empty until then.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "methods": ["passkey", "totp", "recovery_code"],
                    "email": "ada@example.com",
                    "expires_in": 290,
                    "device_hand_off": False,
                    "ip": None,
                    "requested_at": None,
                    "passkey_alone": False,
                }
            ]
        }
    )

    methods: list[Method]
    email: str | None
    expires_in: int
    device_hand_off: bool
    ip: str | None
    requested_at: datetime | None
    passkey_alone: bool = Field(
        description="`ankra login --passkey`: a passkey alone signs in; `email` is null until then"
    )


# Generous: a person may paste the code with spaces or dashes; ``user_codes`` judges it.
UserCode = Annotated[str, Field(min_length=1, max_length=32)]
ApprovalToken = Annotated[str, Field(min_length=1, max_length=200)]


class CliDeviceCodeIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"user_code": "WDJB-MJHT"}]})

    user_code: UserCode


class CliSsoProviderOut(BaseModel):
    id: str
    name: str


class CliDeviceApprovalOut(BaseModel):
    """What a right user code opens: the sign-in being approved, before any factor.

    ``approval_token`` names this hand-off in the factor calls below (in their bodies,
    never in a URL); it is replaced when the code is typed again. For
    ``ankra login --sso --no-browser``, ``sso_provider`` is set, ``email`` is ``null``
    (unknown until the provider's sign-in) and ``methods`` is empty: the page trades
    the handle for the provider's start link (``POST .../device/sso``). For
    ``ankra login --passkey --no-browser``, ``passkey_alone`` is true, ``email`` is
    ``null`` and ``methods`` empty: a passkey names the account
    (``POST .../device/passkey-alone``), then the person approves (``POST
    .../device/approve``) or denies (``POST .../device/deny``).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "approval_token": "Rb4Ny6Lp1Wd8Hs3Vc5Jf0Za2Ee7UiGm7Kq2Xt9",
                    "email": "ada@example.com",
                    "ip": "198.51.100.23",
                    "requested_at": "2026-01-14T09:30:00Z",
                    "methods": ["totp", "recovery_code"],
                    "expires_in": 540,
                    "sso_provider": None,
                    "passkey_alone": False,
                }
            ]
        }
    )

    approval_token: str
    email: str | None
    ip: str | None
    requested_at: datetime
    methods: list[Method]
    expires_in: int
    sso_provider: CliSsoProviderOut | None
    passkey_alone: bool = Field(
        description="`ankra login --passkey --no-browser`: a passkey names the account, "
        "then the person approves"
    )


class CliDevicePasskeyAloneOut(BaseModel):
    """The account a passkey named on the device page: the page now asks "Approve sign-in
    to ankra CLI for EMAIL?" (nothing is approved yet)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "ada@example.com"}]})

    email: str


class CliDeviceSsoOut(BaseModel):
    """Where the browser goes to sign in at the provider: a link that works once."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"start_url": "http://localhost:8000/auth/sso/corp/start?cli=Lp1Wd8Hs3Vc5Jf0Za2Ee7"}
            ]
        }
    )

    start_url: str


class CliDeviceApprovalIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"approval_token": "Rb4Ny6Lp1Wd8Hs3Vc5Jf0Za2Ee7UiGm7Kq2Xt9"}]
        }
    )

    approval_token: ApprovalToken


class CliDeviceTotpIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"approval_token": "Rb4Ny6Lp1Wd8Hs3Vc5Jf0Za2Ee7UiGm7Kq2Xt9", "code": "492039"}
            ]
        }
    )

    approval_token: ApprovalToken
    code: TotpCode


class CliDeviceRecoveryCodeIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"approval_token": "Rb4Ny6Lp1Wd8Hs3Vc5Jf0Za2Ee7UiGm7Kq2Xt9", "code": "7KQ2M-9XH4P"}
            ]
        }
    )

    approval_token: ApprovalToken
    code: RecoveryCode


class CliDevicePasskeyIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "approval_token": "Rb4Ny6Lp1Wd8Hs3Vc5Jf0Za2Ee7UiGm7Kq2Xt9",
                    "credential": ASSERTION_EXAMPLE,
                }
            ]
        }
    )

    approval_token: ApprovalToken
    credential: CredentialJSON


class CliHandoffTotpIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "492039"}]})

    code: TotpCode


class CliHandoffRecoveryCodeIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "7KQ2M-9XH4P"}]})

    code: RecoveryCode


class CliHandoffPasskeyIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"credential": ASSERTION_EXAMPLE}]})

    credential: CredentialJSON


class CliHandoffDoneOut(BaseModel):
    """Where the page sends the browser next; ``null`` for a device hand-off."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "redirect_url": "http://127.0.0.1:53682/callback?code=Xt9Rb4Ny6Lp1Wd8Hs3Vc5Jf0&state=w3Rk9Tn2"
                }
            ]
        }
    )

    redirect_url: str | None


class CliTokenIn(BaseModel):
    """Exactly one of ``code`` (loopback) or ``device_code`` (device hand-off)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "Xt9Rb4Ny6Lp1Wd8Hs3Vc5Jf0",
                    "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
                }
            ]
        }
    )

    code: Secret | None = None
    device_code: Secret | None = None
    code_verifier: CodeVerifier

    @model_validator(mode="after")
    def _one_grant(self) -> CliTokenIn:
        if (self.code is None) == (self.device_code is None):
            raise ValueError("send exactly one of code or device_code")
        return self
