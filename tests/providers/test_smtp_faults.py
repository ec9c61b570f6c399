"""SMTP fault injection the other provider tests do not cover (issue 14 point 4): a 421 "closing
channel" and a server that accepts the connection and then never answers. Both must come out as
transient failures (the worker retries, the rep sees the reason), never a hang or a crash."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest
from smtp_sink import SmtpSink
from test_smtp import message_to, smtp_config

from lumina_tui.providers.base import AccountConfig, TransientProviderError
from lumina_tui.providers.smtp import SmtpProvider

pytestmark = pytest.mark.chaos


def test_421_is_transient_and_the_next_send_reconnects(sink: SmtpSink) -> None:
    sink.fail_rcpt("busy@brightwave.example", "421 4.7.0 Too many connections, closing", times=1)
    with SmtpProvider(smtp_config(sink)) as provider:
        with pytest.raises(TransientProviderError) as busy:
            provider.send(message_to("busy@brightwave.example"), email_id=str(uuid.uuid4()))
        assert "421" in str(busy.value) or getattr(busy.value, "code", None) == 421
        provider.send(message_to("ok@brightwave.example"), email_id=str(uuid.uuid4()))
    assert sink.wait_for(1, timeout=30)


def test_a_server_that_accepts_then_hangs_is_a_transient_timeout() -> None:
    """The client's own timeout ends the call; the fake holds the socket open until the test ends."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        conn, _ = listener.accept()
        accepted.append(conn)  # never writes a greeting
        done.wait(60)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    config = AccountConfig(
        account_id=str(uuid.uuid4()),
        provider="smtp",
        email="rep@acme.test",
        settings={"host": "127.0.0.1", "port": port, "security": "plain", "timeout": 1},
    )
    try:
        with pytest.raises(TransientProviderError), SmtpProvider(config) as provider:
            provider.send(message_to("a@brightwave.example"), email_id=str(uuid.uuid4()))
    finally:
        done.set()
        thread.join(10)
        for conn in accepted:
            conn.close()
        listener.close()
