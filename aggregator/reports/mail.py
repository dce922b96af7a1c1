"""Sending a plain-text e-mail through the operator's SMTP relay (``[mail]``).

``security``: ``starttls`` upgrades the connection before anything else is said and
refuses a relay that does not offer it; ``tls`` speaks TLS from the first byte; ``none``
is for a relay on the same host. The relay's certificate is verified against the system's
authorities and ``ca_file``. Credentials, when set, are sent only over TLS.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from clearsignal.clock import utc_now
from clearsignal.settings import MailSettings

__all__ = ["MailError", "send_mail"]


class MailError(Exception):
    """The relay refused the message or could not be reached; the caller tries again later."""


def _context(settings: MailSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.ca_file is not None:
        context.load_verify_locations(cafile=str(settings.ca_file))
    return context


def message(settings: MailSettings, to: Sequence[str], subject: str, text: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = settings.sender
    mail["To"] = ", ".join(to)
    mail["Subject"] = subject
    mail["Date"] = format_datetime(utc_now())
    mail["Message-ID"] = make_msgid(domain=settings.sender.rsplit("@", 1)[1])
    mail.set_content(text)
    return mail


def send_mail(settings: MailSettings, to: Sequence[str], subject: str, text: str) -> None:
    if settings.host is None:
        raise MailError("no [mail] host is configured")
    if not to:
        return
    mail = message(settings, to, subject, text)
    timeout = settings.timeout_seconds
    try:
        if settings.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=timeout, context=_context(settings)
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        with client:
            if settings.security == "starttls":
                client.starttls(context=_context(settings))
            if settings.username and settings.password is not None:
                if settings.security == "none":
                    raise MailError("credentials are sent only over TLS: set security")
                client.login(settings.username, settings.password.get_secret_value())
            client.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{settings.host}:{settings.port}: {exc}") from exc
