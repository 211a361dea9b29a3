"""One email normalisation for every path: sign-up, sign-in, admin commands, orgs.

An address is trimmed, put in Unicode NFC, and lower-cased; an internationalised
domain is kept in its Unicode form (``xn--bcher-kva.example`` becomes
``bücher.example``), which is also the form the sign-up validator hands back.
So the NFD and NFC spellings of one address, and the punycode and Unicode
spellings of its domain, are one account. Lower-casing the local part as well
was the rule before and stays: no mail provider we know of has two mailboxes
differing only in case, and a second account for ``Alice@`` would be a trap.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

import idna
from pydantic import AfterValidator, EmailStr, StringConstraints

from ankra_auth.text import NoControl

MAX_LENGTH = 320


def _unicode_domain(domain: str) -> str:
    try:
        return idna.decode(domain)
    except (idna.IDNAError, UnicodeError, ValueError):
        # Not a valid IDNA name: keep it as typed (lower-cased); it can't be signed
        # up with, so it simply finds no account.
        return domain


def normalize_email(email: str) -> str:
    """The canonical form of ``email``; never raises, idempotent."""
    value = unicodedata.normalize("NFC", email.strip()).lower()
    local, at, domain = value.rpartition("@")
    if not at:
        return value
    return unicodedata.normalize("NFC", f"{local}@{_unicode_domain(domain)}".lower())


# A new address (sign-up, admin create): a valid email, then canonical.
NewEmail = Annotated[EmailStr, NoControl, AfterValidator(normalize_email)]
# An address that is only looked up (sign-in, member add): any text, canonical; a
# malformed one simply finds no account.
EmailLookup = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_LENGTH),
    NoControl,
    AfterValidator(normalize_email),
]
