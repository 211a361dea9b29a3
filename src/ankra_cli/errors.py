"""What a command can fail with; ``main`` prints the message and exits non-zero."""

from __future__ import annotations

from typing import Any


class CliError(Exception):
    """A failure to report to the person in one line, without a traceback."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class Cancelled(CliError):
    """The person answered no to a ``[y/N]`` question: said as is, not as an error."""


class ConnectionFailed(CliError):
    """The server could not be reached (or did not answer in time)."""


class ApiError(CliError):
    """A problem+json answer from the API: ``code`` is the contract's stable string."""

    def __init__(self, *, status: int, code: str, detail: str, body: dict[str, Any]) -> None:
        super().__init__(detail, hint=_HINTS.get(code))
        self.status = status
        self.code = code
        self.detail = detail
        self.body = body


_HINTS = {
    "not_authenticated": "Run `ankra login` to sign in.",
    "enrollment_required": "Run `ankra profile auth totp start` or `ankra profile auth passkeys open`.",
    "last_factor": "Add another factor first, or run `ankra profile auth disable`.",
    "owner_passkey_required": "Add a passkey of your own first: `ankra profile auth passkeys open`.",
    "owner_two_factor_required": "Set up two-factor authentication first: "
    "`ankra profile auth totp start`.",
}


def hint_for(code: str) -> str | None:
    """What to do next after the API's ``code`` (also for the same case found beforehand)."""
    return _HINTS.get(code)
