"""One clear page per outcome of a single sign-on callback."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.responses import HTMLResponse

from ankra_auth.web.pages import render, with_next

LOGIN = "/login"
PROFILE = "/profile/authentication"


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    title: str
    lines: tuple[str, ...]
    action_href: str | None = LOGIN
    action_label: str = "Back to sign-in"
    kind: str = "error"


def message(outcome: Outcome) -> HTMLResponse:
    page = render(
        "sso_message.html",
        title=outcome.title,
        lines=outcome.lines,
        action_href=outcome.action_href,
        action_label=outcome.action_label,
        kind=outcome.kind,
    )
    page.status_code = outcome.status
    return page


NOBODY = "Nobody was signed in and nothing was changed."


def unknown_provider() -> Outcome:
    return Outcome(404, "Unknown single sign-on provider", ("Ankra has no such provider.",))


def invalid_flow(name: str) -> Outcome:
    return Outcome(
        400,
        "This sign-in cannot be completed",
        (
            f"The answer from {name} does not belong to a sign-in that this browser started, "
            "or it was already used or has expired (after 10 minutes).",
            NOBODY,
        ),
    )


def provider_error(name: str, detail: str | None) -> Outcome:
    said = f" It said: {detail}" if detail else ""
    return Outcome(
        400, f"{name} did not sign you in", (f"{name} refused the sign-in.{said}", NOBODY)
    )


def invalid_token(name: str) -> Outcome:
    return Outcome(
        400,
        f"The answer from {name} could not be verified",
        (
            f"The identity that {name} sent failed Ankra's checks (signature, issuer, audience, "
            "expiry or nonce).",
            NOBODY,
        ),
    )


def unavailable(name: str) -> Outcome:
    return Outcome(
        502,
        f"{name} cannot be reached",
        (f"Ankra could not talk to {name}. Try again in a minute, or sign in with your password.",),
    )


def unverified_email(name: str) -> Outcome:
    return Outcome(
        403,
        f"{name} did not confirm your email address",
        (
            f"Ankra signs you in with {name} only when {name} says your email address is "
            "verified. Verify it there, then try again.",
            "Nothing was stored.",
        ),
    )


def signup_disabled(name: str) -> Outcome:
    return Outcome(
        403,
        f"No Ankra account uses this {name} identity",
        (
            f"New accounts cannot be created with {name}. If you have an Ankra account, sign "
            f"in with your password and link {name} from your profile.",
            "Nothing was stored.",
        ),
    )


def link_awaits_sign_in(email: str, name: str) -> Outcome:
    return Outcome(
        200,
        f"Sign in to link {name}",
        (
            f"An Ankra account already uses {email}. Sign in to it to link {name}.",
            f"Nothing is linked until you sign in to that account with its own password and "
            f"second factor, in this browser, within 10 minutes. Then {name} will sign you "
            "in to it.",
        ),
        action_href=with_next(LOGIN, PROFILE),
        action_label=f"Sign in to link {name}",
        kind="info",
    )


def linked_elsewhere(name: str) -> Outcome:
    return Outcome(
        409,
        f"This {name} identity belongs to another account",
        (
            f"The {name} identity you used is already linked to another Ankra account.",
            "Nothing was changed.",
        ),
        action_href=PROFILE,
        action_label="Back to your profile",
    )


def provider_taken(name: str) -> Outcome:
    return Outcome(
        409,
        f"Another {name} identity is linked already",
        (
            f"Your account already has a different {name} identity linked. Unlink it first.",
            "Nothing was changed.",
        ),
        action_href=PROFILE,
        action_label="Back to your profile",
    )


def not_linked(name: str) -> Outcome:
    return Outcome(
        403,
        "Not confirmed",
        (
            f"The {name} identity you used is not linked to the account signed in here, "
            "or that session has ended.",
            "Nothing was changed.",
        ),
        action_href=PROFILE,
        action_label="Back to your profile",
    )


def not_fresh(name: str) -> Outcome:
    return Outcome(
        403,
        "Not confirmed",
        (f"{name} did not confirm a fresh sign-in. Try again.", "Nothing was changed."),
        action_href=PROFILE,
        action_label="Back to your profile",
    )


REFUSALS = {
    "unverified_email": unverified_email,
    "signup_disabled": signup_disabled,
    "linked_elsewhere": linked_elsewhere,
    "provider_taken": provider_taken,
    "not_linked": not_linked,
    "not_fresh": not_fresh,
}


def link_from_profile(name: str) -> Outcome:
    return Outcome(
        400,
        f"Link {name} from your profile",
        (
            f"{name} is linked to your Ankra account only from your own profile page, with "
            f'its "Link {name}" button, and only after you confirm it there. A link that '
            "someone sent you links nothing.",
            "Nothing was changed.",
        ),
        action_href=PROFILE,
        action_label="Go to your profile",
    )


def not_from_profile() -> Outcome:
    return Outcome(
        403,
        "This request did not come from your profile page",
        ("Links are made from your own profile page only.", "Nothing was changed."),
        action_href=PROFILE,
        action_label="Go to your profile",
    )


def cli_link_over() -> Outcome:
    return Outcome(
        400,
        "This sign-in link cannot be used",
        (
            "It was opened already, or it has expired (after 10 minutes). Each link from "
            "`ankra login --sso` works once, in one browser.",
            "Run `ankra login --sso` in your terminal again.",
        ),
        action_href=None,
    )


def cli_over(name: str) -> Outcome:
    return Outcome(
        400,
        "This terminal sign-in is over",
        (
            f"{name} signed you in, but the terminal's sign-in expired or was ended meanwhile.",
            "Run `ankra login --sso` in your terminal again.",
        ),
        action_href=None,
    )


def cli_done(name: str) -> Outcome:
    return Outcome(
        200,
        "You're signed in",
        (
            f"{name} signed you in to the Ankra CLI.",
            "You can close this window and return to your terminal.",
        ),
        action_href=None,
        kind="info",
    )
