"""The security log's words: the same as the profile page's (web/static/profile.js).

tests/cli/test_cli_events.py reads profile.js and fails when the two differ, so the
terminal and the page never call one event by two names.
"""

from __future__ import annotations

EVENT_LABELS = {
    "sign_in": "Signed in",
    "sign_out": "Signed out",
    "session_revoked": "Session signed out",
    "sso_linked": "Single sign-on linked",
    "sso_unlinked": "Single sign-on unlinked",
    "password_failed": "Wrong password entered",
    "second_factor_failed": "Second factor failed",
    "pending_login_voided": "Sign-in stopped after too many attempts",
    "throttled": "Sign-in attempts paused",
    "reauthenticated": "Password confirmed",
    "totp_enabled": "Authenticator app set up",
    "totp_removed": "Authenticator app removed",
    "passkey_added": "Passkey added",
    "passkey_renamed": "Passkey renamed",
    "passkey_removed": "Passkey removed",
    "passkey_sign_count_mismatch": "Passkey counter mismatch (possible copied key)",
    "recovery_codes_issued": "Recovery codes issued",
    "recovery_codes_regenerated": "Recovery codes regenerated",
    "recovery_code_used": "Recovery code used",
    "two_factor_disabled": "Two-factor authentication turned off",
    "two_factor_reset_by_admin": "Two-factor authentication reset by an administrator",
    "org_enforcement_enabled": "Organisation started requiring two-factor authentication",
    "org_enforcement_disabled": "Organisation stopped requiring two-factor authentication",
    "cli_login_approved": "CLI sign-in approved",
    "email_verified": "Email address verified",
    "account_closed": "Account closed",
    "org_invited": "Invited to an organisation",
    "org_invitation_accepted": "Organisation invitation accepted",
    "org_invitation_declined": "Organisation invitation declined",
    "org_invitation_withdrawn": "Organisation invitation withdrawn",
    "org_left": "Left an organisation",
    "org_member_removed": "Removed from an organisation",
}

# The page's methods, and the two that only CLI sign-ins record (the page shows those raw).
METHOD_LABELS = {
    "password": "Password",
    "totp": "Authenticator app",
    "passkey": "Passkey",
    "recovery_code": "Recovery code",
    "sso": "Single sign-on",
    "cli": "CLI",
    "link": "Sign-in link",
}


def event_label(event_type: str) -> str:
    """The event's name in words; a type this CLI does not know yet, as the server sent it."""
    return EVENT_LABELS.get(event_type, event_type)


def method_label(method: str | None) -> str:
    if not method:
        return "-"
    return METHOD_LABELS.get(method, method)


def detail_note(detail: object) -> str | None:
    """What an event's ``detail`` says in words: its ``note``, or "passwordless" for a
    passkey alone (a server before named facts sent that string as the whole ``detail``)."""
    if isinstance(detail, dict):
        note = detail.get("note")
        if isinstance(note, str):
            return note
        return "passwordless" if detail.get("passwordless") is True else None
    return detail if isinstance(detail, str) else None


def was_mailed(detail: object) -> bool:
    """Whether the owner was told by email (``detail.mail == "queued"``)."""
    return isinstance(detail, dict) and detail.get("mail") == "queued"


# The organisation's own events in its feed (`ankra org events`, the org page): the same
# words as web/static/org.js. Its members' 2FA changes use EVENT_LABELS.
ORG_EVENT_LABELS = {
    "org_created": "Organisation created",
    "org_policy_changed": "Policy changed",
    "member_invited": "Member invited",
    "invitation_accepted": "Invitation accepted",
    "invitation_declined": "Invitation declined",
    "invitation_withdrawn": "Invitation withdrawn",
    "member_left": "Member left",
    "member_removed": "Member removed",
    "member_role_changed": "Role changed",
}


def org_event_label(event_type: str) -> str:
    return ORG_EVENT_LABELS.get(event_type) or EVENT_LABELS.get(event_type, event_type)


def policy_words(policy: object) -> str | None:
    """``{"require_two_factor", "require_passkey", "grace_days"}`` as the page says it:
    "passkey, 14 days' grace"; ``None`` for anything else."""
    if not isinstance(policy, dict):
        return None
    if policy.get("require_passkey"):
        words = "passkey"
    elif policy.get("require_two_factor"):
        words = "two-factor"
    else:
        return "off"
    days = policy.get("grace_days")
    if isinstance(days, int) and days > 0:
        words += f", {days} day{'s' if days != 1 else ''}' grace"
    return words


def org_event_detail(detail: object) -> str | None:
    """An organisation event's ``detail`` in words: a policy change as "old → new", the
    role, who did it (``by``), a name (the same as web/static/org-events.js)."""
    if not isinstance(detail, dict):
        return detail_note(detail)
    old, new = policy_words(detail.get("old")), policy_words(detail.get("new"))
    if old is not None and new is not None:
        return f"{old} → {new}"
    parts = []
    if isinstance(detail.get("role"), str):
        parts.append(f"as {detail['role']}")
    if isinstance(detail.get("by"), str):
        parts.append(f"by {detail['by']}")
    parts += [str(detail[key]) for key in ("name", "note") if isinstance(detail.get(key), str)]
    return " · ".join(parts) or None
