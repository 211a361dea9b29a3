"""The security log's stable strings: clients branch on them, so each is listed here once.

A type or method is never removed or renamed: old rows keep carrying it.
"""

from __future__ import annotations

from typing import Literal, get_args

from typing_extensions import TypeAliasType

EventType = TypeAliasType(
    "EventType",
    Literal[
        "sign_in",
        "second_factor_failed",
        "pending_login_voided",
        "throttled",
        "password_failed",
        "reauthenticated",
        "sign_out",
        "session_revoked",
        "totp_enabled",
        "totp_removed",
        "passkey_added",
        "passkey_renamed",
        "passkey_removed",
        "passkey_sign_count_mismatch",
        "recovery_codes_issued",
        "recovery_codes_regenerated",
        "recovery_code_used",
        "two_factor_disabled",
        "two_factor_reset_by_admin",
        "org_enforcement_enabled",
        "org_enforcement_disabled",
        "org_invited",
        "org_invitation_accepted",
        "org_invitation_declined",
        "org_invitation_withdrawn",
        "org_left",
        "org_member_removed",
        "cli_login_approved",
        "sso_linked",
        "sso_unlinked",
        "email_verified",
        "account_closed",
    ],
)

# Named aliases: the OpenAPI document shows each as one named enum.

# How a session signed in (and which factor an event names): the contract's Sessions list.
SignInMethod = TypeAliasType(
    "SignInMethod", Literal["password", "totp", "passkey", "recovery_code", "sso", "cli", "link"]
)

EVENT_TYPES: frozenset[str] = frozenset(get_args(EventType.__value__))
SIGN_IN_METHODS: frozenset[str] = frozenset(get_args(SignInMethod.__value__))
