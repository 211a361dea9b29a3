"""What each mail says: the contract's table ("Telling the person") in words.

One entry per kind: the subject, the opening sentence, and what to do about it. The
templates (``mail/templates/``) lay them out as plain text and as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Wording:
    subject: str
    opening: str
    advice: str = ""
    # A burst: how the opening reads when several events are told at once ("{n}").
    several: str = ""


_CHECK = (
    "If this wasn't you, someone else may have your password or one of your sessions: "
    "change your password."
)

WORDING: Final[dict[str, Wording]] = {
    "sign_in": Wording(
        "New sign-in to your Ankra account",
        "Your Ankra account was signed in to from a device or browser it has not seen before.",
        "If this was you, there is nothing to do.",
        "Your Ankra account was signed in to {n} times from devices or browsers it had not "
        "seen before.",
    ),
    "pending_login_voided": Wording(
        "Someone used your password but failed the second step",
        "Someone signed in to your Ankra account with your password, then failed the second "
        "step five times, so that sign-in was stopped.",
        "If this wasn't you, your password is known to someone else: change your password "
        "now. Your second factor kept them out.",
        "Someone signed in to your Ankra account with your password {n} times and failed "
        "the second step each time.",
    ),
    "totp_enabled": Wording(
        "An authenticator app was set up for your Ankra account",
        "An authenticator app now gives the codes that sign in to your Ankra account.",
        _CHECK,
    ),
    "totp_removed": Wording(
        "An authenticator app was removed from your Ankra account",
        "The authenticator app of your Ankra account was removed: its codes no longer sign you in.",
        _CHECK,
    ),
    "passkey_added": Wording(
        "A passkey was added to your Ankra account",
        "A passkey was added to your Ankra account: it can now sign you in.",
        _CHECK,
        "{n} passkeys were added to your Ankra account.",
    ),
    "passkey_removed": Wording(
        "A passkey was removed from your Ankra account",
        "A passkey was removed from your Ankra account: it no longer signs you in.",
        _CHECK,
        "{n} passkeys were removed from your Ankra account.",
    ),
    "recovery_codes_regenerated": Wording(
        "New recovery codes for your Ankra account",
        "New recovery codes were made for your Ankra account. The old codes no longer work.",
        _CHECK,
    ),
    "recovery_code_used": Wording(
        "A recovery code was used to sign in to your Ankra account",
        "A recovery code was used to sign in to your Ankra account. Each code works once.",
        _CHECK,
        "{n} recovery codes were used to sign in to your Ankra account.",
    ),
    "two_factor_disabled": Wording(
        "Two-factor authentication is now off",
        "Two-factor authentication was turned off for your Ankra account: its authenticator "
        "app, passkeys and recovery codes were removed, and signing in needs only the password.",
        "If this wasn't you, sign in, sign out what you don't recognise, change your "
        "password and turn two-factor authentication on again.",
    ),
    "two_factor_reset_by_admin": Wording(
        "Two-factor authentication is now off",
        "An administrator removed the authenticator app, passkeys and recovery codes of your "
        "Ankra account, and signed out every session: signing in needs only the password "
        "until you set up a second factor again.",
        "Set up an authenticator app or a passkey at your next sign-in. If you did not ask "
        "for this, tell your administrator.",
    ),
    "sso_linked": Wording(
        "Single sign-on was linked to your Ankra account",
        "A single sign-on account can now sign in to your Ankra account.",
        _CHECK,
    ),
    "sso_unlinked": Wording(
        "Single sign-on was unlinked from your Ankra account",
        "A single sign-on account no longer signs in to your Ankra account.",
        _CHECK,
    ),
    "session_revoked": Wording(
        "Your Ankra account was signed out elsewhere",
        "A session of your Ankra account was signed out.",
        "If this wasn't you, someone else may have your password: change your password.",
        "{n} sessions of your Ankra account were signed out at once.",
    ),
}

VERIFY = Wording(
    "Verify your email address for Ankra",
    "Someone, we hope you, signed up for an Ankra account with this address. Open the link "
    "below to verify it: you will be asked to sign in to that account. The link works once, "
    "for 24 hours.",
    "If you did not sign up, ignore this mail: the account stays unverified and no other "
    "mail is sent to this address.",
)

# An organisation's grace period ends soon ("{org}", "{what}", "{due}", "{left}" filled in).
REMINDER = Wording(
    "{org} requires {what} from {due}",
    "{org}, an organisation your Ankra account belongs to, requires {what} of its members. "
    "You have until {due} ({left}) to add it. After that, your account can only be used "
    "to add it.",
    "Add it now on your profile page:",
)
REQUIRED_WHAT: Final[dict[str, str]] = {
    "passkey": "a passkey",
    "two_factor": "two-factor authentication",
}
