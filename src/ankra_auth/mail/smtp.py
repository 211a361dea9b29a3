"""Handing one message to the SMTP server (the standard library's ``smtplib``, blocking:
the sender runs it on a thread of its own).

What went wrong decides what happens next: a server that cannot be reached, drops the
connection, times out or answers 4xx is tried again later (:class:`TryLater`); a 5xx
answer is final (:class:`Refused`).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from ankra_auth.mail.smtp_url import SmtpServer


class DeliveryError(Exception):
    """The message was not accepted; ``str()`` is a one-line reason for the log."""


class TryLater(DeliveryError):
    """Not accepted now: an outage, a timeout, a 4xx answer."""


class Refused(DeliveryError):
    """Refused for good: a 5xx answer."""


def send(server: SmtpServer, message: EmailMessage, *, envelope_from: str, to: str) -> None:
    """Deliver ``message`` to ``to``; raises :class:`TryLater` or :class:`Refused`."""
    try:
        _send(server, message, envelope_from=envelope_from, to=to)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()), (0, b""))
        raise _by_code(int(code), reply, "recipient refused") from exc
    except smtplib.SMTPResponseException as exc:  # sender refused, data refused, auth, ...
        raise _by_code(exc.smtp_code, exc.smtp_error, "refused") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise TryLater(f"the server does not support what is required: {exc}") from exc
    except (smtplib.SMTPException, OSError) as exc:  # unreachable, dropped, timed out, TLS
        raise TryLater(f"{type(exc).__name__}: {exc}"[:300]) from exc


def _send(server: SmtpServer, message: EmailMessage, *, envelope_from: str, to: str) -> None:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if server.implicit_tls:
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
    with client:
        client.ehlo()
        if not server.implicit_tls:
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            elif server.starttls_required:
                raise smtplib.SMTPNotSupportedError(
                    "STARTTLS is required (starttls=required) and the server does not offer it"
                )
        if server.username is not None:
            client.login(server.username, server.password or "")
        client.send_message(message, from_addr=envelope_from, to_addrs=[to])


def _by_code(code: int, reply: bytes | str, what: str) -> DeliveryError:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    reason = f"{what}: {code} {text}".strip()[:300]
    return Refused(reason) if 500 <= code < 600 else TryLater(reason)
