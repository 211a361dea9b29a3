"""Cursors of the logs' pages: a position (``seq``), opaque to clients, checked on the way in.

The user's security log and an organisation's log page the same way.
"""

from __future__ import annotations

import base64
import re

from ankra_auth.errors import InvalidCursor


def encode(seq: int) -> str:
    return base64.urlsafe_b64encode(f"e{seq}".encode()).decode().rstrip("=")


# What encode writes, and only that: ASCII digits, no sign, no leading zero.
_CURSOR_BODY = re.compile(r"e(0|[1-9][0-9]{0,18})")
_MAX_SEQ = 2**63 - 1  # a BIGINT: anything larger cannot be a position we handed out


def decode(cursor: str) -> int:
    """The position in a cursor this service issued; raises :class:`InvalidCursor` otherwise."""
    refused = InvalidCursor("The cursor is not one this server issued")
    if not cursor.isascii():
        raise refused
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError) as exc:
        raise refused from exc
    match = _CURSOR_BODY.fullmatch(raw)
    if match is None or int(match[1]) > _MAX_SEQ:
        raise refused
    seq = int(match[1])
    # Base64 has several spellings of one value (trailing bits, padding): only ours.
    if encode(seq) != cursor:
        raise refused
    return seq
