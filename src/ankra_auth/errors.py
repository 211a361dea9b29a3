"""One error tree, rendered once as RFC 9457 problem+json."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("ankra_auth.errors")

PROBLEM_JSON = "application/problem+json"


class AttemptsRemaining(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"attempts_remaining": 4}]})

    attempts_remaining: int = Field(ge=0, description="Failed attempts this sign-in has left")


class RetryAfter(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"retry_after": 60}]})

    retry_after: int = Field(ge=1, description="Seconds to wait, as in the Retry-After header")


class PollInterval(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"interval": 5}]})

    interval: int = Field(ge=1, description="Seconds to wait between two polls")


class ValidationErrorItem(BaseModel):
    """One offending input: where it is (``["body", "email"]``), what is wrong, its kind."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationErrors(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "errors": [
                        {
                            "loc": ["body", "email"],
                            "msg": "value is not a valid email address",
                            "type": "value_error",
                        }
                    ]
                }
            ]
        }
    )

    errors: list[ValidationErrorItem]


class AnkraError(Exception):
    """Base of every error the API answers with; ``code`` is the contract's stable string."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"
    # Members this error adds to every problem it answers. The OpenAPI document requires
    # them (generated clients read them without a check), so they are checked on raising.
    fields: ClassVar[type[BaseModel] | None] = None
    # Its answer says when to try again in a Retry-After header.
    sends_retry_after: ClassVar[bool] = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})
        # What the document promises: a bug here is a 500 in the tests, not a silent lie.
        if self.fields is not None:
            self.fields.model_validate(self.extra)
        if self.sends_retry_after and "Retry-After" not in self.headers:
            raise TypeError(f"{type(self).__name__} needs a Retry-After header")


def _error(
    name: str,
    status: int,
    code: str,
    title: str,
    *,
    fields: type[BaseModel] | None = None,
    sends_retry_after: bool = False,
) -> type[AnkraError]:
    attributes = {
        "status": status,
        "code": code,
        "title": title,
        "fields": fields,
        "sends_retry_after": sends_retry_after,
    }
    return type(name, (AnkraError,), attributes)


def every_error() -> list[type[AnkraError]]:
    """Every error class defined so far (in the modules imported), in definition order."""
    found: list[type[AnkraError]] = []
    pending = list(AnkraError.__subclasses__())
    while pending:
        error = pending.pop(0)
        if error not in found:
            found.append(error)
            pending.extend(error.__subclasses__())
    return found


# Accounts and sessions
EmailTaken = _error("EmailTaken", 409, "email_taken", "Email already registered")
NotAuthenticated = _error("NotAuthenticated", 401, "not_authenticated", "Not signed in")
InvalidCredentials = _error(
    "InvalidCredentials", 401, "invalid_credentials", "Wrong email or password"
)
ReauthenticationRequired = _error(
    "ReauthenticationRequired",
    403,
    "reauthentication_required",
    "Confirm your password to continue",
)
CsrfFailed = _error("CsrfFailed", 403, "csrf_failed", "Request origin not allowed")
InvalidToken = _error("InvalidToken", 400, "invalid_token", "This link is invalid or has expired")
EmailUnverified = _error(
    "EmailUnverified", 403, "email_unverified", "Verify your email address first"
)
EmailAlreadyVerified = _error(
    "EmailAlreadyVerified", 409, "email_already_verified", "Email address already verified"
)


# A sign-in call from a page on another address (hardening/sign_in_origin.py).
class SignInAddress(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "allowed_origins": ["http://localhost:8000"],
                    "login_url": "http://localhost:8000/login",
                }
            ]
        }
    )

    allowed_origins: list[str] = Field(description="The origins sign-in calls may come from")
    login_url: str = Field(description="The sign-in page to open instead")


OriginNotAllowed = _error(
    "OriginNotAllowed",
    403,
    "origin_not_allowed",
    "Sign in at the service's own address",
    fields=SignInAddress,
)
Forbidden = _error("Forbidden", 403, "forbidden", "Not allowed")
NotFound = _error("NotFound", 404, "not_found", "Not found")

# Second factors
InvalidCode = _error(
    "InvalidCode", 401, "invalid_code", "That code did not work", fields=AttemptsRemaining
)
InvalidConfirmationCode = _error(
    "InvalidConfirmationCode", 400, "invalid_code", "That code did not work"
)
TooManyAttempts = _error(
    "TooManyAttempts",
    401,
    "too_many_attempts",
    "Too many failed attempts: sign in again",
)
MfaTokenInvalid = _error(
    "MfaTokenInvalid",
    401,
    "mfa_token_invalid",
    "This sign-in has expired or was already used: sign in again",
)
TotpAlreadyEnabled = _error(
    "TotpAlreadyEnabled", 409, "totp_already_enabled", "Authenticator app already set up"
)
TotpNotStarted = _error(
    "TotpNotStarted", 409, "totp_not_started", "Start authenticator set-up first"
)
LastFactor = _error(
    "LastFactor",
    409,
    "last_factor",
    "This is your last second factor: add another one first, or turn two-factor authentication off",
)
TwoFactorNotEnabled = _error(
    "TwoFactorNotEnabled", 409, "two_factor_not_enabled", "Two-factor authentication is off"
)
TwoFactorEnforced = _error(
    "TwoFactorEnforced",
    409,
    "two_factor_enforced",
    "An organisation you belong to requires two-factor authentication",
)
InvalidCredential = _error(
    "InvalidCredential", 400, "invalid_credential", "The passkey could not be verified"
)
# A passkey alone (the whole sign-in): 401, as every failed sign-in.
PasskeyNotVerified = _error(
    "PasskeyNotVerified", 401, "invalid_credential", "The passkey could not be verified"
)
UnknownCredential = _error(
    "UnknownCredential", 401, "unknown_credential", "No account has this passkey"
)
UserVerificationRequired = _error(
    "UserVerificationRequired",
    401,
    "user_verification_required",
    "This passkey did not verify you (no PIN or biometrics)",
)
EnrollmentRequired = _error(
    "EnrollmentRequired",
    403,
    "enrollment_required",
    "Secure your account to continue: set up two-factor authentication",
)
InvalidCursor = _error("InvalidCursor", 400, "invalid_cursor", "Invalid cursor")
PayloadTooLarge = _error("PayloadTooLarge", 413, "payload_too_large", "Request body too large")

# Organisations
OwnerTwoFactorRequired = _error(
    "OwnerTwoFactorRequired",
    409,
    "owner_two_factor_required",
    "Turn on two-factor authentication for yourself before requiring it",
)
OwnerPasskeyRequired = _error(
    "OwnerPasskeyRequired",
    409,
    "owner_passkey_required",
    "Add a passkey for yourself before requiring passkeys",
)
AlreadyMember = _error("AlreadyMember", 409, "already_member", "Already a member")
LastOwner = _error("LastOwner", 409, "last_owner", "An organisation needs at least one owner")

# CLI hand-off
InvalidRedirectUri = _error(
    "InvalidRedirectUri", 400, "invalid_redirect_uri", "Only loopback redirect URIs are allowed"
)
InvalidGrant = _error("InvalidGrant", 400, "invalid_grant", "Invalid or expired code")
AuthorizationPending = _error(
    "AuthorizationPending", 400, "authorization_pending", "Waiting for the browser"
)
SlowDown = _error("SlowDown", 400, "slow_down", "Polling too fast", fields=PollInterval)
ExpiredToken = _error("ExpiredToken", 400, "expired_token", "The sign-in expired")
InvalidUserCode = _error("InvalidUserCode", 400, "invalid_user_code", "Unknown or expired code")
# RFC 8628 section 3.5: a device hand-off refused in the browser (single sign-on).
AccessDenied = _error("AccessDenied", 400, "access_denied", "The sign-in was refused")


# Answered by the error handlers below, not raised by features.
ValidationFailed = _error(
    "ValidationFailed", 422, "validation_error", "Invalid request", fields=ValidationErrors
)
MethodNotAllowed = _error("MethodNotAllowed", 405, "method_not_allowed", "Method not allowed")
HttpError = _error("HttpError", 400, "http_error", "Request failed")
Conflict = _error("Conflict", 409, "conflict", "Conflict")
ServiceUnavailable = _error(
    "ServiceUnavailable", 503, "service_unavailable", "Service unavailable", sends_retry_after=True
)
InternalError = _error("InternalError", 500, "internal_error", "Internal error")


class RateLimited(AnkraError):
    status = 429
    code = "rate_limited"
    title = "Too many attempts"
    fields = RetryAfter
    sends_retry_after = True

    def __init__(self, retry_after_seconds: int) -> None:
        seconds = max(1, retry_after_seconds)
        super().__init__(
            f"Too many failed attempts. Try again in {seconds} seconds.",
            extra={"retry_after": seconds},
            headers={"Retry-After": str(seconds)},
        )


def problem(error: AnkraError, *, status: int | None = None) -> JSONResponse:
    """``error`` as RFC 9457 problem+json; ``status`` only for an HTTP error of another layer."""
    body: dict[str, Any] = {
        "type": f"https://ankra.dev/problems/{error.code}",
        "title": error.title,
        "status": status or error.status,
        "detail": error.detail,
        "code": error.code,
    }
    body.update(error.extra)
    return JSONResponse(
        body, status_code=status or error.status, media_type=PROBLEM_JSON, headers=error.headers
    )


# Starlette's own errors (an unknown path or method), as the tree's.
_HTTP_ERRORS: dict[int, type[AnkraError]] = {
    401: NotAuthenticated,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
}


@dataclass(frozen=True, slots=True)
class Raises:
    """An error an endpoint or a dependency may answer with; ``when`` narrows it to the
    operations (route name, HTTP method) that can meet it."""

    error: type[AnkraError]
    when: Callable[[str, str], bool] | None = None

    def applies(self, name: str, method: str) -> bool:
        return self.when is None or self.when(name, method)


_RAISES = "__ankra_raises__"


F = TypeVar("F", bound=Callable[..., Any])


def raises(
    *errors: type[AnkraError], when: Callable[[str, str], bool] | None = None
) -> Callable[[F], F]:
    """Declare on an endpoint or a dependency which errors it may answer with: the OpenAPI
    document lists them on every operation that uses it. Decorators stack."""

    def declare(function: F) -> F:
        declared: tuple[Raises, ...] = getattr(function, _RAISES, ())
        setattr(function, _RAISES, (*declared, *(Raises(e, when) for e in errors)))
        return function

    return declare


def declared_raises(function: object) -> tuple[Raises, ...]:
    found: tuple[Raises, ...] = getattr(function, _RAISES, ())
    return found


def database_failure(exc: BaseException) -> str:
    """A one-line reason for a log: the driver's message, never the statement or its values."""
    orig = getattr(exc, "orig", None) or exc
    first_line = (str(orig).strip().splitlines() or [""])[0][:200]
    return f"{type(orig).__name__}: {first_line}" if first_line else type(orig).__name__


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AnkraError)
    async def _ankra(_request: Request, exc: AnkraError) -> JSONResponse:
        return problem(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": list(e.get("loc", ())),
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) or "body" for e in errors)
        return problem(ValidationFailed(f"Check these fields: {fields}", extra={"errors": errors}))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error = _HTTP_ERRORS.get(exc.status_code, HttpError)
        return problem(
            error(str(exc.detail), headers=exc.headers),
            status=None if error is not HttpError else exc.status_code,
        )

    @app.exception_handler(IntegrityError)
    @app.exception_handler(psycopg.IntegrityError)  # the event loop's TOTP sign-in (db_async)
    async def _conflict(_request: Request, exc: Exception) -> JSONResponse:
        # A concurrent request won a uniqueness race the service did not serialize:
        # the loser is told to retry, never 500 (services should lock before deciding).
        # The driver's error is SQLAlchemy's ``orig``, or psycopg's own on the event loop.
        log.warning("integrity conflict: %s", type(getattr(exc, "orig", None) or exc).__name__)
        return problem(Conflict("This changed at the same time: try again"))

    @app.exception_handler(SQLAlchemyTimeoutError)
    @app.exception_handler(OperationalError)
    @app.exception_handler(psycopg.OperationalError)  # and psycopg_pool's PoolTimeout
    @app.exception_handler(psycopg.InterfaceError)
    async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
        # Pool exhausted, database unreachable, disk full or read-only: retryable, not a bug.
        log.warning("database unavailable: %s", database_failure(exc))
        return problem(
            ServiceUnavailable(
                "The service is busy or its database is unreachable: try again shortly",
                headers={"Retry-After": "1"},
            )
        )

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        # A connection that died mid-request (a database restart) may surface as an
        # InterfaceError rather than an OperationalError: retryable all the same.
        if exc.connection_invalidated or isinstance(exc, InterfaceError):
            return await _database_unavailable(request, exc)
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(InternalError("Something went wrong on our side"))
