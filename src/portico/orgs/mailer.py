"""Sending mail over SMTP (the invitation mail), with the standard library.

``smtplib`` is blocking, so every send runs in a worker thread and the event loop
keeps serving. ``smtp://`` upgrades with STARTTLS (required unless the server is on
this machine, where a plain local relay is common); ``smtps://`` is TLS from the
first byte. Certificates are verified. Errors name what failed, never the server's
URL, which may carry a password.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from portico.settings import Settings, is_loopback_url

log = logging.getLogger("portico.mail")
DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
TIMEOUT = 10.0


class MailError(Exception):
    """The mail could not be handed to the server; the message is safe to show."""


@dataclass(frozen=True)
class Mail:
    """One plain-text message to one recipient."""

    to: str
    subject: str
    body: str


class Mailer:
    """An SMTP server to hand mail to, from one sender address."""

    def __init__(self, url: str, sender: str, *, timeout: float = TIMEOUT,
                 context: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError("the mail server URL must be smtp://host[:port] or smtps://…")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or DEFAULT_PORTS[parts.scheme]
        self.sender = sender
        self.timeout = timeout
        self.context = context or ssl.create_default_context()
        self.local = is_loopback_url(f"http://{self.host}")
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None

    def __repr__(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"Mailer({scheme}://{self.host}:{self.port})"

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer | None:
        """The configured mailer, or None when ``smtp_url`` is unset."""
        if settings.smtp_url is None:
            return None
        return cls(settings.smtp_url.get_secret_value(), settings.mail_from)

    def message(self, mail: Mail) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg["Message-ID"] = make_msgid(domain=self.host)
        msg.set_content(mail.body)
        return msg

    async def send(self, mail: Mail) -> None:
        """Hand ``mail`` to the server; ``MailError`` when that did not happen."""
        message = self.message(mail)
        try:
            await asyncio.to_thread(self._send_sync, message)
        except MailError:
            raise
        except smtplib.SMTPAuthenticationError:
            raise MailError("the mail server refused the login") from None
        except smtplib.SMTPRecipientsRefused:
            raise MailError("the mail server refused the recipient address") from None
        except smtplib.SMTPResponseException as exc:
            raise MailError(f"the mail server answered {exc.smtp_code}") from None
        except (smtplib.SMTPException, ssl.SSLError) as exc:
            raise MailError(f"the mail exchange failed ({type(exc).__name__})") from None
        except TimeoutError:
            raise MailError("the mail server did not answer in time") from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise MailError(f"the mail server could not be reached ({reason})") from None

    def _send_sync(self, message: EmailMessage) -> None:
        if self.implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self.context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            client.ehlo()
            if not self.implicit_tls:
                if client.has_extn("starttls"):
                    client.starttls(context=self.context)
                    client.ehlo()
                elif not self.local:
                    raise MailError("the mail server does not offer STARTTLS")
            if self._user is not None:
                client.login(self._user, self._password or "")
            client.send_message(message)
