"""Sign-in bodies and answers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue

from ankra_auth.accounts.emails import EmailLookup
from ankra_auth.passkeys.schemas import ASSERTION_EXAMPLE, CredentialJSON
from ankra_auth.security import recovery_codes, totp

Method = Literal["passkey", "totp", "recovery_code"]


class LoginIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "ada@example.com", "password": "correct horse battery staple"}]
        }
    )

    # Not validated as an email: any malformed address simply fails like a wrong password.
    email: EmailLookup
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    # From an earlier authenticated answer; unknown, void or foreign tokens are ignored.
    device_token: Annotated[str, Field(min_length=1, max_length=200)] | None = None


AUTHENTICATED_EXAMPLE: dict[str, JsonValue] = {
    "status": "authenticated",
    "access_token": "kQ3v1bM9xY8cWm2ZtR5nJ0pL7aHs4dFe6gUiVoBy",
    "token_type": "bearer",
    "expires_in": 86400,
    "enrollment_required": False,
    "device_token": "Zp8sLq2Vx6Nc0Rt4Hy9Kb3Mw7Jd1Ff5Gg8Ua2Ee",
}
MFA_REQUIRED_EXAMPLE: dict[str, JsonValue] = {
    "status": "mfa_required",
    "mfa_token": "Hn4Tq8Wc2Ys6Pb0Lm3Xr7Kd1Vf5Jg9Ze2Au6Ci",
    "expires_in": 300,
    "methods": ["passkey", "totp", "recovery_code"],
}


def _answer(example: dict[str, JsonValue]) -> ConfigDict:
    # Answers always carry their defaulted fields: the document marks them required, so
    # a generated client narrows the sign-in union on `status`.
    return ConfigDict(
        json_schema_serialization_defaults_required=True, json_schema_extra={"examples": [example]}
    )


class AuthenticatedOut(BaseModel):
    model_config = _answer(AUTHENTICATED_EXAMPLE)

    status: Literal["authenticated"] = "authenticated"
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a type name, not a secret
    expires_in: int
    enrollment_required: bool
    # Send it back on the next login: attempts from this device then count on it.
    device_token: str


class RecoveryAuthenticatedOut(AuthenticatedOut):
    model_config = _answer({**AUTHENTICATED_EXAMPLE, "recovery_codes_remaining": 9})

    recovery_codes_remaining: int


class MfaRequiredOut(BaseModel):
    model_config = _answer(MFA_REQUIRED_EXAMPLE)

    status: Literal["mfa_required"] = "mfa_required"
    mfa_token: str
    expires_in: int
    methods: list[Method]


LoginOut = Annotated[AuthenticatedOut | MfaRequiredOut, Field(discriminator="status")]

# The login answer's two shapes, each an example of its own in the document.
LOGIN_EXAMPLES = {
    "application/json": {
        "examples": {
            "authenticated": {
                "summary": "Signed in: the account has no second factor",
                "value": AUTHENTICATED_EXAMPLE,
            },
            "mfa_required": {
                "summary": "The password was right: now a second factor",
                "value": MFA_REQUIRED_EXAMPLE,
            },
        }
    }
}

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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"mfa_token": "Hn4Tq8Wc2Ys6Pb0Lm3Xr7Kd1Vf5Jg9Ze2Au6Ci", "code": "492039"}]
        }
    )

    mfa_token: MfaToken
    code: TotpCode


class RecoveryCodeIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"mfa_token": "Hn4Tq8Wc2Ys6Pb0Lm3Xr7Kd1Vf5Jg9Ze2Au6Ci", "code": "7KQ2M-9XH4P"}
            ]
        }
    )

    mfa_token: MfaToken
    code: RecoveryCode


class PasskeyLoginOptionsIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"mfa_token": "Hn4Tq8Wc2Ys6Pb0Lm3Xr7Kd1Vf5Jg9Ze2Au6Ci"}]}
    )

    mfa_token: MfaToken


class PasskeyLoginIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "mfa_token": "Hn4Tq8Wc2Ys6Pb0Lm3Xr7Kd1Vf5Jg9Ze2Au6Ci",
                    "credential": ASSERTION_EXAMPLE,
                }
            ]
        }
    )

    mfa_token: MfaToken
    credential: CredentialJSON


class PasskeyAloneOptionsIn(BaseModel):
    """Nothing: a passkey alone names no account before the assertion."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})


class PasskeyAloneIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"credential": ASSERTION_EXAMPLE}]})

    credential: CredentialJSON
    # From an earlier authenticated answer; unknown, void or foreign tokens are ignored.
    device_token: Annotated[str, Field(min_length=1, max_length=200)] | None = None
