"""SMTP: STARTTLS, implicit TLS or plain; a password or an XOAUTH2 bearer token from the keyring.

Every failure is sorted into the three kinds the worker acts on: connection refused, timeouts, a
dropped connection and 4xx replies are transient; 5xx replies are permanent and carry the server's
own words ("550 5.1.1 no such user"); 530/534/535 are authentication failures. One connection is
kept open and reused across sends (the worker may send 50+ a second to a local relay); an idle one is
checked with NOOP, and one found dead before any message data was sent is reopened transparently.
SMTP cannot say whether it already accepted a message, so `find_sent` always answers None.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import logging
import smtplib
import socket
import ssl
import threading
import time
from email.message import EmailMessage
from typing import Any

from lumina_tui.logs import register_secret, register_secrets
from lumina_tui.providers.base import (
    AccountConfig,
    AuthError,
    PermanentProviderError,
    ProviderError,
    SendReceipt,
    TransientProviderError,
)
from lumina_tui.providers.mime_builder import WireMessage, wire_from_message

log = logging.getLogger(__name__)

SECURITY_MODES = ("starttls", "ssl", "plain")
AUTH_MODES = ("password", "xoauth2", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "plain": 25}
AUTH_FAILURE_CODES = {530, 534, 535}
DEFAULT_TIMEOUT_SECONDS = 30.0
# A reused connection idle for longer than this is checked with NOOP before the next send.
IDLE_CHECK_SECONDS = 5.0


def _reply_text(reply: bytes | str | None) -> str:
    if reply is None:
        return ""
    if isinstance(reply, bytes):
        return reply.decode("utf-8", errors="replace").strip()
    return str(reply).strip()


def _by_code(code: int, reason: str) -> ProviderError:
    """4xx: try again later; 530/534/535: reconnect the account; any other 5xx: refused for good."""
    if code in AUTH_FAILURE_CODES:
        return AuthError(reason, code=code)
    if 400 <= code < 500:
        return TransientProviderError(reason, code=code)
    if code >= 500:
        return PermanentProviderError(reason, code=code)
    return TransientProviderError(reason, code=code)


def classify(exc: BaseException, *, host: str, port: int) -> ProviderError:
    """Map an smtplib / socket / ssl exception to the kind of failure the worker acts on."""
    where = f"{host}:{port}"
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = exc.recipients or {}
        parts = [f"{rcpt}: {code} {_reply_text(text)}" for rcpt, (code, text) in replies.items()]
        reason = "recipient refused — " + "; ".join(parts) if parts else "every recipient was refused"
        codes = [code for code, _text in replies.values()]
        if codes and all(code >= 500 for code in codes):
            return PermanentProviderError(reason, code=max(codes))
        return TransientProviderError(reason, code=min(codes) if codes else None)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = _reply_text(exc.smtp_error)
        prefix = {
            smtplib.SMTPSenderRefused: "sender refused",
            smtplib.SMTPDataError: "message refused",
            smtplib.SMTPAuthenticationError: "login refused",
            smtplib.SMTPConnectError: f"connection to {where} refused",
            smtplib.SMTPHeloError: "greeting refused",
        }.get(type(exc), "server error")
        return _by_code(exc.smtp_code, f"{prefix}: {exc.smtp_code} {text}".strip())
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentProviderError(f"{where} does not support what this account needs: {exc}")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TransientProviderError(f"{where} closed the connection: {exc}".rstrip(": "))
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentProviderError(
            f"the TLS certificate of {where} was not accepted: {exc.verify_message}"
        )
    if isinstance(exc, ssl.SSLError):
        return TransientProviderError(f"TLS with {where} failed: {exc.reason or exc}")
    if isinstance(exc, ConnectionRefusedError):
        return TransientProviderError(f"connection to {where} refused")
    if isinstance(exc, TimeoutError | socket.timeout):
        return TransientProviderError(f"{where} did not answer in time")
    if isinstance(exc, socket.gaierror):
        return TransientProviderError(f"cannot resolve {host}: {exc.strerror or exc}")
    if isinstance(exc, OSError):
        return TransientProviderError(f"network error talking to {where}: {exc.strerror or exc}")
    if isinstance(exc, smtplib.SMTPException):
        return TransientProviderError(f"SMTP error with {where}: {exc}")
    return TransientProviderError(f"unexpected error with {where}: {exc.__class__.__name__}: {exc}")


def is_loopback(host: str) -> bool:
    """localhost, *.localhost, 127.0.0.0/8 or ::1: a relay on this machine (nothing crosses a network)."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class _Stale(Exception):
    """A reused connection turned out dead before any message data went out: safe to reopen."""


class SmtpProvider:
    """One SMTP account; thread-safe (a lock serialises sends on the one reused connection)."""

    name = "smtp"

    def __init__(self, config: AccountConfig) -> None:
        settings = dict(config.settings or {})
        self.account_id = config.account_id
        self.from_email = config.email
        self.host = str(settings.get("host") or "").strip()
        self.security = str(settings.get("security") or "starttls").lower()
        if self.security not in SECURITY_MODES:
            raise PermanentProviderError(
                f"unknown SMTP security {self.security!r} (use starttls, ssl or plain)"
            )
        self.port = int(settings.get("port") or DEFAULT_PORTS[self.security])
        self.auth = str(settings.get("auth") or ("password" if config.secret else "none")).lower()
        if self.auth not in AUTH_MODES:
            raise PermanentProviderError(f"unknown SMTP auth {self.auth!r} (use password, xoauth2 or none)")
        self.username = str(settings.get("username") or config.email)
        self.timeout = float(settings.get("timeout") or DEFAULT_TIMEOUT_SECONDS)
        self.ca_file = settings.get("ca_file") or None
        self.local_hostname = settings.get("local_hostname") or None
        self.insecure_plaintext = settings.get("insecure_plaintext") is True
        # The rep said (or `accounts test` found) that the server offers SMTPUTF8.
        self.smtputf8 = settings.get("smtputf8") is True
        self._secret = config.secret
        self._register_wire_forms()
        if not self.host:
            raise PermanentProviderError("this SMTP account has no host")
        if self.auth != "none" and not self._secret:
            raise AuthError(
                f"no {'password' if self.auth == 'password' else 'XOAUTH2 token'} is stored for "
                f"{config.email}; add the account again with --password-stdin"
            )
        self.offers_smtputf8: bool | None = None  # what `check` found the server to offer
        self._conn: smtplib.SMTP | None = None
        self._last_used = 0.0
        self._lock = threading.Lock()

    def _register_wire_forms(self) -> None:
        """The secret as AUTH PLAIN / LOGIN / XOAUTH2 put it on the wire, so an echo of it is scrubbed too."""
        if not self._secret:
            return
        register_secret(self._secret)
        wire = [
            f"\0{self.username}\0{self._secret}",
            f"user={self.username}\x01auth=Bearer {self._secret}\x01\x01",
        ]
        register_secrets(base64.b64encode(text.encode("utf-8")).decode("ascii") for text in wire)

    # -- connection -------------------------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca_file)
        return context

    def _open(self) -> smtplib.SMTP:
        conn: smtplib.SMTP
        if self.security == "ssl":
            conn = smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self.local_hostname,
                timeout=self.timeout,
                context=self._tls_context(),
            )
        else:
            conn = smtplib.SMTP(
                self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
            )
        try:
            conn.ehlo()
            if self.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise PermanentProviderError(
                        f"{self.host}:{self.port} does not offer STARTTLS; choose --ssl or --plain"
                    )
                conn.starttls(context=self._tls_context())
                conn.ehlo()
            self._login(conn)
        except BaseException:
            self._quietly_close(conn)
            raise
        return conn

    def _login(self, conn: smtplib.SMTP) -> None:
        if self.auth == "none":
            return
        assert self._secret is not None
        if self.security == "plain" and not self.insecure_plaintext and not is_loopback(self.host):
            # The account was stored before this rule, or its settings were edited by hand.
            raise PermanentProviderError(
                f"refusing to send the login unencrypted to {self.host}; add the account again with "
                "--starttls or --ssl (or --insecure-plaintext if you accept the risk)"
            )
        if self.auth == "password":
            conn.login(self.username, self._secret)
            return
        initial = f"user={self.username}\x01auth=Bearer {self._secret}\x01\x01"

        def xoauth2(challenge: bytes | None = None) -> str:
            # On failure the server sends a JSON error as a challenge; an empty reply ends the exchange.
            return "" if challenge else initial

        conn.ehlo_or_helo_if_needed()
        if not conn.has_extn("auth") or "XOAUTH2" not in conn.esmtp_features.get("auth", "").upper():
            raise PermanentProviderError(f"{self.host}:{self.port} does not offer AUTH XOAUTH2")
        code, reply = conn.auth("XOAUTH2", xoauth2, initial_response_ok=True)
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, reply)

    @staticmethod
    def _quietly_close(conn: smtplib.SMTP | None) -> None:
        if conn is None:
            return
        try:
            conn.quit()
        except Exception:
            with contextlib.suppress(Exception):
                conn.close()

    def _connection(self) -> tuple[smtplib.SMTP, bool]:
        """The open connection (reused: True) or a fresh one (reused: False)."""
        conn = self._conn
        if conn is not None and time.monotonic() - self._last_used > IDLE_CHECK_SECONDS:
            try:
                code, _ = conn.noop()
                if code != 250:
                    raise smtplib.SMTPServerDisconnected("NOOP refused")
            except (smtplib.SMTPException, OSError):
                self._quietly_close(conn)
                conn = self._conn = None
        if conn is not None:
            return conn, True
        self._conn = self._open()
        return self._conn, False

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    # -- sending ----------------------------------------------------------------------------------

    def _transmit(
        self, conn: smtplib.SMTP, reused: bool, from_addr: str, rcpts: list[str], data: bytes
    ) -> str:
        """MAIL, RCPT, DATA by hand: a dead reused connection is only retried before DATA began."""
        options: list[str] = []
        if conn.does_esmtp and conn.has_extn("size"):
            options.append(f"size={len(data)}")
        if any(not address.isascii() for address in [from_addr, *rcpts]):
            if not conn.has_extn("smtputf8"):
                raise PermanentProviderError(
                    f"{self.host}:{self.port} does not offer SMTPUTF8, which a non-ASCII mailbox name needs"
                )
            options += ["SMTPUTF8", "BODY=8BITMIME"]
        try:
            code, reply = conn.mail(from_addr, options)
        except (smtplib.SMTPServerDisconnected, ConnectionError, BrokenPipeError) as exc:
            if reused:
                raise _Stale() from exc
            raise
        if code != 250:
            if code == 421 and reused:
                raise _Stale()
            self._rset(conn)
            raise smtplib.SMTPSenderRefused(code, reply, from_addr)
        refused: dict[str, tuple[int, bytes]] = {}
        for rcpt in rcpts:
            code, reply = conn.rcpt(rcpt)
            if code not in (250, 251):
                refused[rcpt] = (code, reply)
        if len(refused) == len(rcpts):
            self._rset(conn)
            raise smtplib.SMTPRecipientsRefused(refused)
        code, reply = conn.data(data)
        if code != 250:
            self._rset(conn)
            raise smtplib.SMTPDataError(code, reply)
        detail = f"accepted by {self.host}:{self.port}: {code} {_reply_text(reply)}"
        if refused:
            detail += "; refused: " + ", ".join(
                f"{r} ({c} {_reply_text(t)})" for r, (c, t) in refused.items()
            )
        return detail

    @staticmethod
    def _rset(conn: smtplib.SMTP) -> None:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            conn.rset()

    def send(self, message: EmailMessage, *, email_id: str) -> SendReceipt:
        return self.send_wire(wire_from_message(message), email_id=email_id)

    def send_wire(self, wire: WireMessage, *, email_id: str) -> SendReceipt:
        """Send a message already serialised (`mime_builder.build_wire`): what SMTP transmits."""
        message_id = wire.message_id
        from_addr, rcpts, data = wire.envelope_from, list(wire.recipients), wire.data
        if not rcpts:
            raise PermanentProviderError("the message has no recipient")
        with self._lock:
            for _attempt in range(2):
                try:
                    conn, reused = self._connection()
                    detail = self._transmit(conn, reused, from_addr, rcpts, data)
                    self._last_used = time.monotonic()
                    return SendReceipt(provider_message_id=message_id, detail=detail)
                except _Stale:
                    log.info("smtp %s:%s: reused connection was closed; reconnecting", self.host, self.port)
                    self._drop()
                    continue
                except smtplib.SMTPResponseException as exc:
                    if exc.smtp_code == 421 or isinstance(exc, smtplib.SMTPAuthenticationError):
                        self._drop()  # the server is closing this session (or it never logged in)
                    raise classify(exc, host=self.host, port=self.port) from None
                except smtplib.SMTPRecipientsRefused as exc:
                    raise classify(exc, host=self.host, port=self.port) from None
                except ProviderError:
                    self._drop()
                    raise
                except Exception as exc:  # connection, TLS, timeout: the session is unusable
                    self._drop()
                    raise classify(exc, host=self.host, port=self.port) from None
            raise TransientProviderError(f"{self.host}:{self.port} keeps closing the connection")

    def find_sent(
        self, *, email_id: str, message_id: str, message: EmailMessage | None = None
    ) -> SendReceipt | None:
        """SMTP cannot tell whether a server already accepted a message."""
        return None

    def check(self) -> str:
        """For `lumina accounts test`: connect, EHLO, TLS, login and NOOP; no message is sent."""
        conn: smtplib.SMTP | None = None
        try:
            conn = self._open()
            self.offers_smtputf8 = bool(conn.has_extn("smtputf8"))
            code, reply = conn.noop()
            if code != 250:
                raise smtplib.SMTPResponseException(code, reply)
        except ProviderError:
            raise
        except Exception as exc:
            raise classify(exc, host=self.host, port=self.port) from None
        finally:
            self._quietly_close(conn)
        login = {
            "password": f"logged in as {self.username}",
            "xoauth2": "XOAUTH2 accepted",
            "none": "no login",
        }
        return f"{self.host}:{self.port} ({self.security}): connected, {login[self.auth]}, NOOP ok"

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            self._quietly_close(conn)

    def __enter__(self) -> SmtpProvider:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
