"""Every table, imported in one place so Alembic sees the whole schema."""

from ankra_auth.accounts.models import (
    AttemptWindow,
    AuthSession,
    EmailVerification,
    Throttle,
    User,
)
from ankra_auth.challenges.models import PendingLogin
from ankra_auth.cli_handoff.models import CliGrant
from ankra_auth.db import Base
from ankra_auth.device_tokens.models import DeviceToken
from ankra_auth.events.models import SecurityEvent
from ankra_auth.notify.models import MailOutbox
from ankra_auth.orgs.models import Invitation, Membership, Org, OrgEvent
from ankra_auth.passkeys.models import Passkey, WebAuthnChallenge
from ankra_auth.recovery_codes.models import RecoveryCode
from ankra_auth.sign_in_links.models import SignInLink
from ankra_auth.sso.models import SsoFlow, SsoIdentity, SsoPendingLink
from ankra_auth.totp.models import TotpDevice

__all__ = [
    "AttemptWindow",
    "AuthSession",
    "Base",
    "CliGrant",
    "Invitation",
    "DeviceToken",
    "EmailVerification",
    "MailOutbox",
    "Membership",
    "Org",
    "OrgEvent",
    "Passkey",
    "PendingLogin",
    "RecoveryCode",
    "SecurityEvent",
    "SignInLink",
    "SsoFlow",
    "SsoIdentity",
    "SsoPendingLink",
    "Throttle",
    "TotpDevice",
    "User",
    "WebAuthnChallenge",
]
