"""One error tree, rendered once as RFC 9457 problem+json."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("ankra_auth.errors")

PROBLEM_JSON = "application/problem+json"


class AnkraError(Exception):
    """Base of every error the API answers with; ``code`` is the contract's stable string."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

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


def _error(name: str, status: int, code: str, title: str) -> type[AnkraError]:
    return type(name, (AnkraError,), {"status": status, "code": code, "title": title})


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
# A sign-in call from a page on another address (hardening/sign_in_origin.py).
OriginNotAllowed = _error(
    "OriginNotAllowed", 403, "origin_not_allowed", "Sign in at the service's own address"
)
Forbidden = _error("Forbidden", 403, "forbidden", "Not allowed")
NotFound = _error("NotFound", 404, "not_found", "Not found")

# Second factors
InvalidCode = _error("InvalidCode", 401, "invalid_code", "That code did not work")
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
SlowDown = _error("SlowDown", 400, "slow_down", "Polling too fast")
ExpiredToken = _error("ExpiredToken", 400, "expired_token", "The sign-in expired")
InvalidUserCode = _error("InvalidUserCode", 400, "invalid_user_code", "Unknown or expired code")
# RFC 8628 section 3.5: a device hand-off refused in the browser (single sign-on).
AccessDenied = _error("AccessDenied", 400, "access_denied", "The sign-in was refused")


class RateLimited(AnkraError):
    status = 429
    code = "rate_limited"
    title = "Too many attempts"

    def __init__(self, retry_after_seconds: int) -> None:
        seconds = max(1, retry_after_seconds)
        super().__init__(
            f"Too many failed attempts. Try again in {seconds} seconds.",
            extra={"retry_after": seconds},
            headers={"Retry-After": str(seconds)},
        )


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://ankra.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update(extra or {})
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {})
    )


_HTTP_CODES = {
    401: ("not_authenticated", "Not signed in"),
    403: ("forbidden", "Not allowed"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
}


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details; `code` is a stable string clients can branch on.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "attempts_remaining": {"type": "integer"},
        "retry_after": {"type": "integer"},
        "errors": {"type": "array", "items": {"type": "object"}},
        "allowed_origins": {"type": "array", "items": {"type": "string"}},
        "login_url": {"type": "string"},
    },
    "additionalProperties": True,
}


def document_problems(schema: dict[str, Any]) -> None:
    """Describe error answers as they are sent: problem+json, also for 422."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {"description": "Validation error", "content": content}
            responses["4XX"] = {"description": "Problem", "content": content}


def database_failure(exc: BaseException) -> str:
    """A one-line reason for a log: the driver's message, never the statement or its values."""
    orig = getattr(exc, "orig", None) or exc
    first_line = (str(orig).strip().splitlines() or [""])[0][:200]
    return f"{type(orig).__name__}: {first_line}" if first_line else type(orig).__name__


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AnkraError)
    async def _ankra(_request: Request, exc: AnkraError) -> JSONResponse:
        return problem(
            exc.status, exc.code, exc.title, exc.detail, extra=exc.extra, headers=exc.headers
        )

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
        return problem(
            422,
            "validation_error",
            "Invalid request",
            f"Check these fields: {fields}",
            extra={"errors": errors},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, title = _HTTP_CODES.get(exc.status_code, ("http_error", "Request failed"))
        return problem(exc.status_code, code, title, str(exc.detail), headers=exc.headers)

    @app.exception_handler(IntegrityError)
    @app.exception_handler(psycopg.IntegrityError)  # the event loop's TOTP sign-in (db_async)
    async def _conflict(_request: Request, exc: Exception) -> JSONResponse:
        # A concurrent request won a uniqueness race the service did not serialize:
        # the loser is told to retry, never 500 (services should lock before deciding).
        # The driver's error is SQLAlchemy's ``orig``, or psycopg's own on the event loop.
        log.warning("integrity conflict: %s", type(getattr(exc, "orig", None) or exc).__name__)
        return problem(409, "conflict", "Conflict", "This changed at the same time: try again")

    @app.exception_handler(SQLAlchemyTimeoutError)
    @app.exception_handler(OperationalError)
    @app.exception_handler(psycopg.OperationalError)  # and psycopg_pool's PoolTimeout
    @app.exception_handler(psycopg.InterfaceError)
    async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
        # Pool exhausted, database unreachable, disk full or read-only: retryable, not a bug.
        log.warning("database unavailable: %s", database_failure(exc))
        return problem(
            503,
            "service_unavailable",
            "Service unavailable",
            "The service is busy or its database is unreachable: try again shortly",
            headers={"Retry-After": "1"},
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
        return problem(500, "internal_error", "Internal error", "Something went wrong on our side")
