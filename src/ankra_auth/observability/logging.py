"""One JSON object per log line, each carrying the id of the request that caused it."""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from fastapi.exceptions import ValidationException
from pydantic import ValidationError

# Set per request by the middleware; every request runs in its own task, so its
# copy of the context (threadpool workers included) sees only its own id.
REQUEST_ID: ContextVar[str | None] = ContextVar("ankra_request_id", default=None)

# An incoming id is reused only when it is a short token that cannot smuggle
# anything into a log line; anything else gets a fresh id.
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

# Structured fields a record may carry (passed with ``extra=``), in output order.
FIELDS = ("method", "path", "status", "duration_ms")


def request_id_from(header: str | None) -> str:
    """The caller's ``X-Request-ID`` if it is a sane short token, else a new random id."""
    if header and _SANE_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Stamps ``record.request_id`` from the current request (``-`` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", ...}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
        }
        for field in FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                payload[field] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)

    def formatException(self, ei: Any) -> str:
        return without_inputs(super().formatException(ei), ei[1])


def without_inputs(text: str, exc: BaseException | None) -> str:
    """``text`` with every validation error message replaced by one that omits the input.

    A validation error quotes the values it rejected, and those can be a token or a
    code (a response model that failed on an access token, say).
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ValidationError):
            errors = exc.errors(include_input=False, include_url=False, include_context=False)
        elif isinstance(exc, ValidationException):
            errors = list(exc.errors())
        else:
            errors = None
        if errors is not None and str(exc):
            where = "; ".join(
                f"{'.'.join(str(part) for part in e.get('loc', ()))}: {e.get('type')}"
                for e in errors
            )
            summary = f"{len(errors)} validation errors (input withheld from the log): {where}"
            text = text.replace(str(exc), summary)
        exc = exc.__cause__ or exc.__context__
    return text


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def json_lines_for(setting: bool | None, stream: TextIO) -> bool:
    """Whether to log JSON lines: as ``ANKRA_LOG_JSON`` says when it is set; otherwise JSON
    for machines (containers, files, pipes) and text when ``stream`` is a terminal."""
    if setting is not None:
        return setting
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return True


class StartedLineFilter(logging.Filter):
    """Rewrites uvicorn's "Uvicorn running on http://127.0.0.1:8000" into where to go.

    The bind address is not where the pages work: browsers refuse passkeys on an IP
    address, and sign-in answers only pages at an allowed origin. So the line says
    "Open PUBLIC_URL/login", with the bind address as an address, not a link.
    """

    def __init__(self, open_url: str | None = None) -> None:
        super().__init__()
        self.open_url = open_url

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            self.open_url
            and record.name == "uvicorn.error"
            and isinstance(record.msg, str)
            and record.msg.startswith("Uvicorn running on ")
            and isinstance(record.args, tuple)
            and len(record.args) == 3
        ):
            _scheme, host, port = record.args
            record.msg = "Open %s (serving on %s port %s; press CTRL+C to quit)"
            record.args = (self.open_url, host, port)
        return True


def log_config(
    *, json_lines: bool, level: str = "INFO", open_url: str | None = None
) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the service (and for uvicorn's ``log_config``);
    ``open_url`` replaces the bind address in uvicorn's start-up line."""
    module = __name__
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": f"{module}.RequestIdFilter"},
            "started_line": {"()": f"{module}.StartedLineFilter", "open_url": open_url},
        },
        "formatters": {
            "json": {"()": f"{module}.JsonFormatter"},
            "text": {"format": TEXT_FORMAT},
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json" if json_lines else "text",
                "filters": ["request_id", "started_line"],
            }
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # uvicorn's own handlers would print plain text; send everything to ours.
            "uvicorn": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": level},
            # Its access line carries the query string; ours (ankra_auth.access) does not.
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
        },
    }
