"""Text is text: the one pydantic type for strings a person typed (names, emails).

Control characters (C0, DEL, C1) and lone surrogates are refused before any other
check: a NUL is stored by SQLite but makes PostgreSQL fail, an escape sequence
rewrites the terminal of whoever is shown the name later, and a lone surrogate
cannot be encoded for the database at all. Refusing them at the schema answers
422 on both databases alike.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from fastapi import Depends, Path
from pydantic import BeforeValidator

from ankra_auth.errors import NotFound, raises

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def refuse_control(value: Any) -> Any:
    """Raise ``ValueError`` for a string holding a control character; other input passes on."""
    if isinstance(value, str) and CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


NoControl = BeforeValidator(refuse_control)


def refuse_invisible(value: Any) -> Any:
    """Raise ``ValueError`` for a string holding a Unicode format character (bidi overrides
    and isolates, zero-width spaces and joiners) or a line or paragraph separator: in a
    name they reorder or hide what a person reads (an org called "‮Acme" is not Acme)."""
    if isinstance(value, str) and any(unicodedata.category(ch) in _INVISIBLE for ch in value):
        raise ValueError("must not contain invisible or direction-changing characters")
    return value


_INVISIBLE = frozenset({"Cf", "Zl", "Zp"})
NoInvisible = BeforeValidator(refuse_invisible)
# Every free-text field is ``Text``, or ``Annotated[str, StringConstraints(...), NoControl]``
# when it has limits: after the constraints, so they stay native (strip before length).
# Names that others read (organisations, passkeys) add ``NoInvisible``.
Text = Annotated[str, NoControl]

# Every id the service hands out is ``uuid4().hex``; anything else names nothing.
_ID = re.compile(r"[0-9a-f]{32}")


def is_resource_id(value: str) -> bool:
    """Whether ``value`` could name one of our rows (``db.new_id``)."""
    return _ID.fullmatch(value) is not None


def resource_id(alias: str, *, missing: str) -> Any:
    """A path parameter holding one of our ids: ``Annotated[str, resource_id("id", ...)]``.

    One that cannot exist (NUL, too long, another alphabet) answers 404 with
    ``missing``, the detail the service gives for an unknown id, before any
    database sees it.
    """
    return path_id(alias, pattern=_ID.pattern, missing=missing)


def path_id(alias: str, *, pattern: str, missing: str) -> Any:
    """A path parameter that names something only when it matches ``pattern`` (whole):
    anything else answers 404 with ``missing`` before any database sees it."""
    compiled = re.compile(pattern)

    # A default, not ``Annotated``: under postponed annotations a local ``alias``
    # inside the annotation could not be resolved by FastAPI.
    @raises(NotFound)
    def check(value: str = Path(alias=alias)) -> str:
        if compiled.fullmatch(value) is None:
            raise NotFound(missing)
        return value

    return Depends(check)
