"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd in a thread), shared by provider and worker tests.

`SmtpSink` records every accepted message, can require AUTH (PLAIN/LOGIN passwords and XOAUTH2
tokens), can answer 4xx or 5xx to chosen recipients for their first N attempts, speaks STARTTLS or
implicit TLS with a throw-away CA made by `make_tls_files`, and lets a test wait for N messages on a
condition instead of sleeping:

    with SmtpSink(users={"rep@acme.test": "pw"}) as sink:
        sink.fail_rcpt("bounce@x.test", "550 5.1.1 No such user")
        sink.fail_rcpt("busy@x.test", "451 4.3.0 Try again later", times=2)
        ...
        assert sink.wait_for(3, timeout=10)
        message = sink.messages[0].parsed()
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email
import email.policy
import ipaddress
import ssl
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    login: str | None
    tls: bool

    def parsed(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class _Rule:
    reply: str
    times: int | None  # None: always


@dataclass(frozen=True)
class TlsFiles:
    """A throw-away CA and a server certificate for 127.0.0.1 / localhost, signed by it."""

    ca_cert: Path
    server_cert: Path
    server_key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.server_cert, self.server_key)
        return context


def make_tls_files(directory: Path) -> TlsFiles:
    """A CA and a leaf certificate (SAN 127.0.0.1 and localhost) written as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lumina test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.server_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


class _Handler:
    """aiosmtpd hooks: recipient rules, recording, and the XOAUTH2 mechanism."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.sink._cond:
            self.sink._sessions.add(id(session))
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self.sink._rcpt_reply(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = self.sink._data_reply()
        if reply is not None:
            return reply
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        transport = getattr(server, "transport", None)
        on_tls = session.ssl is not None or (
            transport is not None and transport.get_extra_info("ssl_object") is not None
        )
        received = ReceivedMessage(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=bytes(envelope.original_content or envelope.content or b""),
            login=login,
            tls=on_tls,
        )
        self.sink._record(received)
        return "250 2.0.0 Message accepted for delivery"

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        if len(args) < 2:
            blob = await server.challenge_auth("")
        else:
            blob = args[1].encode()
        try:
            decoded = base64.b64decode(blob, validate=True).decode() if isinstance(blob, bytes) else ""
        except (ValueError, UnicodeDecodeError):
            decoded = ""
        fields = dict(part.split("=", 1) for part in decoded.split("\x01") if "=" in part)
        user, bearer = fields.get("user", ""), fields.get("auth", "")
        token = bearer[len("Bearer ") :] if bearer.startswith("Bearer ") else None
        if token is not None and self.sink.xoauth2_tokens.get(user) == token:
            return AuthResult(success=True, auth_data=LoginPassword(user.encode(), b""))
        # Like Gmail: a JSON error as a challenge, an empty client reply, then 535.
        await server.challenge_auth('{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}')
        refusal = "535 5.7.8 Username and Password not accepted"
        return AuthResult(success=False, handled=False, message=refusal)


class _Controller(Controller):
    """Binds port 0 (a free port chosen by the OS) and remembers every live server session."""

    def __init__(self, sink: SmtpSink, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sink = sink

    def factory(self) -> SMTP:
        with warnings.catch_warnings():
            # AUTH without TLS is deliberate here: a local test server, plain on purpose.
            warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
            server = super().factory()
        self._sink._servers.append(server)
        return server

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink:
    """A real SMTP server on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        *,
        users: dict[str, str] | None = None,
        xoauth2_tokens: dict[str, str] | None = None,
        tls: TlsFiles | None = None,
        implicit_tls: bool = False,
        require_starttls: bool = False,
        hostname: str = "sink.lumina.test",
    ) -> None:
        self.users = dict(users or {})
        self.xoauth2_tokens = dict(xoauth2_tokens or {})
        self.tls = tls
        self.implicit_tls = implicit_tls
        self.host = "127.0.0.1"
        self.port = 0
        self._cond = threading.Condition()
        self._messages: list[ReceivedMessage] = []
        self._rules: dict[str, _Rule] = {}
        self._data_rule: _Rule | None = None
        self.rcpt_attempts: Counter[str] = Counter()
        self._sessions: set[int] = set()
        self._servers: list[SMTP] = []
        if implicit_tls and tls is None:
            raise ValueError("implicit TLS needs tls=make_tls_files(...)")
        smtp_kwargs: dict[str, Any] = {"server_hostname": hostname}
        if self.users or self.xoauth2_tokens:
            smtp_kwargs.update(authenticator=self._authenticate, auth_require_tls=False, auth_required=True)
        if tls is not None and not implicit_tls:
            smtp_kwargs.update(tls_context=tls.server_context(), require_starttls=require_starttls)
        self._controller = _Controller(
            self,
            handler=_Handler(self),
            hostname=self.host,
            port=0,
            ssl_context=tls.server_context() if implicit_tls and tls is not None else None,
            **smtp_kwargs,
        )

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> SmtpSink:
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # -- behaviour ----------------------------------------------------------------------------------

    def fail_rcpt(self, address: str, reply: str, *, times: int | None = None) -> None:
        """Answer `reply` (e.g. "451 4.3.0 Try later") to RCPT TO:<address>, for its first `times` tries."""
        with self._cond:
            self._rules[address.lower()] = _Rule(reply, times)

    def fail_data(self, reply: str, *, times: int | None = 1) -> None:
        """Answer `reply` to the next `times` DATA commands (after the message was transmitted)."""
        with self._cond:
            self._data_rule = _Rule(reply, times)

    def drop_connections(self) -> None:
        """Close every open client connection from the server side (a relay's idle timeout)."""
        loop = self._controller.loop

        def close_all() -> None:
            for server in self._servers:
                transport = getattr(server, "transport", None)
                if transport is not None and not transport.is_closing():
                    transport.close()

        async def run() -> None:
            close_all()
            await asyncio.sleep(0)

        asyncio.run_coroutine_threadsafe(run(), loop).result(timeout=5)

    def _rcpt_reply(self, address: str) -> str | None:
        with self._cond:
            key = address.lower()
            self.rcpt_attempts[key] += 1
            rule = self._rules.get(key)
            if rule is None:
                return None
            if rule.times is not None:
                if rule.times <= 0:
                    return None
                rule.times -= 1
            return rule.reply

    def _data_reply(self) -> str | None:
        with self._cond:
            rule = self._data_rule
            if rule is None or (rule.times is not None and rule.times <= 0):
                return None
            if rule.times is not None:
                rule.times -= 1
            return rule.reply

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if login in self.users and self.users[login] == password:
                return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    def _record(self, message: ReceivedMessage) -> None:
        with self._cond:
            self._messages.append(message)
            self._cond.notify_all()

    # -- what happened ------------------------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._cond:
            return list(self._messages)

    @property
    def connections(self) -> int:
        """How many SMTP sessions issued MAIL FROM (a reused connection counts once)."""
        with self._cond:
            return len(self._sessions)

    def wait_for(self, count: int, timeout: float = 60.0) -> bool:
        """Block until at least `count` messages were accepted, or `timeout` seconds passed."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def by_header(self, name: str, value: str) -> list[ReceivedMessage]:
        """Messages whose header `name` equals `value` (e.g. X-Lumina-Email-Id)."""
        return [m for m in self.messages if str(m.parsed().get(name, "")) == value]
