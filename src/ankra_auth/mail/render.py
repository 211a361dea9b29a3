"""A mail from its outbox row: plain text and HTML alternatives from the templates.

Nothing in a mail is fetched when it is read: no image, no font, no stylesheet, no
tracking pixel, no link but the service's own pages (and only the verification link
carries a token). The HTML is escaped by Jinja2; the plain text is the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ankra_auth.mail.wording import REMINDER, REQUIRED_WHAT, VERIFY, WORDING, Wording
from ankra_auth.sessions.devices import describe

SESSIONS_PAGE: Final = "/profile/authentication#sessions"
VERIFY_PAGE: Final = "/verify-email"
LOW_RECOVERY_CODES: Final = 3
_METHODS: Final = {
    "password": "Password",
    "totp": "Authenticator app",
    "passkey": "Passkey",
    "recovery_code": "Recovery code",
    "sso": "Single sign-on",
    "cli": "CLI",
    "link": "Sign-in link",
}

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Told:
    """What a notification tells: its kind, the first event's facts (and the latest's, for
    a burst), and what the sender looked up (recovery codes left, provider names)."""

    kind: str
    first: dict[str, Any]
    latest: dict[str, Any] | None
    events: int
    recovery_codes_left: int | None = None
    provider_name: str | None = None


def when(at: str | datetime) -> str:
    """ "Friday 27 November 2026, 12:00:15 UTC"."""
    moment = (datetime.fromisoformat(at) if isinstance(at, str) else at).astimezone(UTC)
    return f"{moment:%A} {moment.day} {moment:%B %Y, %H:%M:%S} UTC"


def _where(facts: dict[str, Any]) -> tuple[str, str]:
    ip = facts.get("ip") or "unknown"
    device = describe(facts.get("user_agent")) if facts.get("user_agent") else "Unknown device"
    return ip, device


def _facts(told: Told) -> list[tuple[str, str]]:
    first = told.first
    ip, device = _where(first)
    rows = [("When", when(first["at"])), ("IP address", ip), ("Device", device)]
    note = first.get("note")
    method = first.get("method")
    if told.kind in ("sign_in", "pending_login_voided") and method:
        label = _METHODS.get(method, method)
        if method == "sso" and told.provider_name:
            label = f"{label} ({told.provider_name})"
        rows.append(("Method", label))
    if told.kind in ("passkey_added", "passkey_removed") and note:
        provider = (first.get("data") or {}).get("provider")
        rows.append(("Passkey", f"{note} ({provider})" if provider else note))
    if told.kind in ("sso_linked", "sso_unlinked"):
        rows.append(("Provider", told.provider_name or note or "unknown"))
    if told.kind == "session_revoked" and note and told.events == 1:
        rows.append(("Signed out", note))
    if told.kind == "recovery_code_used" and told.recovery_codes_left is not None:
        rows.append(("Recovery codes left", str(told.recovery_codes_left)))
    return rows


def _notes(told: Told) -> list[str]:
    left = told.recovery_codes_left
    if told.kind == "recovery_code_used" and left is not None and left <= LOW_RECOVERY_CODES:
        if left == 0:
            return ["You have no recovery codes left: make new ones on your profile page."]
        return [f"Only {left} left: make new recovery codes on your profile page."]
    return []


def notification(told: Told, *, public_url: str, to: str) -> Rendered:
    wording: Wording = WORDING[told.kind]
    opening = wording.opening
    if told.events > 1 and wording.several:
        opening = wording.several.format(n=told.events)
    latest = None
    if told.events > 1 and told.latest is not None:
        ip, device = _where(told.latest)
        latest = f"{when(told.latest['at'])}, from {ip} ({device})"
    base = public_url.rstrip("/")
    context = {
        "wording": wording,
        "opening": opening,
        "facts": _facts(told),
        "latest": latest,
        "notes": _notes(told),
        "sessions_url": base + SESSIONS_PAGE,
        "public_url": base,
        "to": to,
        "footer": f"Mails about your account's security go to {to} and cannot be turned off.",
    }
    return Rendered(
        subject=wording.subject,
        text=_env.get_template("notification.txt").render(context),
        html=_env.get_template("notification.html").render(context),
    )


def verification(*, token: str, public_url: str) -> Rendered:
    base = public_url.rstrip("/")
    context = {
        "wording": VERIFY,
        "link": f"{base}{VERIFY_PAGE}?token={token}",
        "public_url": base,
        "footer": None,
    }
    return Rendered(
        subject=VERIFY.subject,
        text=_env.get_template("verify.txt").render(context),
        html=_env.get_template("verify.html").render(context),
    )


def day(at: str | datetime) -> str:
    """ "14 January 2027"."""
    moment = (datetime.fromisoformat(at) if isinstance(at, str) else at).astimezone(UTC)
    return f"{moment.day} {moment:%B %Y}"


def reminder(facts: dict[str, Any], *, public_url: str, to: str) -> Rendered:
    """An organisation's grace period ends in 7 days or 1 (``orgs.reminders``)."""
    base = public_url.rstrip("/")
    days = int(facts.get("days") or 1)
    fill = {
        "org": facts.get("org") or "An organisation",
        "what": REQUIRED_WHAT.get(str(facts.get("required")), "two-factor authentication"),
        "due": day(facts["due_at"]),
        "left": "1 day" if days == 1 else f"{days} days",
    }
    wording = Wording(
        subject=REMINDER.subject.format(**fill),
        opening=REMINDER.opening.format(**fill),
        advice=REMINDER.advice,
    )
    context = {
        "wording": wording,
        "facts": [("Organisation", fill["org"]), ("Due", when(facts["due_at"]))],
        "link": base + "/profile/authentication",
        "public_url": base,
        "footer": f"Mails about your account's security go to {to} and cannot be turned off.",
    }
    return Rendered(
        subject=wording.subject,
        text=_env.get_template("reminder.txt").render(context),
        html=_env.get_template("reminder.html").render(context),
    )


def message(
    rendered: Rendered, *, sender: str, to: str, message_id: str, date: datetime
) -> EmailMessage:
    """The MIME message: multipart/alternative, plain text first (RFC 2046: the richer
    part last); marked automatic (RFC 3834) so auto-responders stay quiet."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = rendered.subject
    mail["Date"] = format_datetime(date)
    mail["Message-ID"] = message_id
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(rendered.text)
    mail.add_alternative(rendered.html, subtype="html")
    return mail
