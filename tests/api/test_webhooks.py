"""Provider webhooks on `lumina serve` (issue 13 point 5): verified on the raw body, recorded once.

SendGrid's published test vector (sendgrid-python, test/unit/test_eventwebhook.py) verifies with our
`cryptography` code; then each provider end to end through the app with keys made here: a good
request records its events (a hard bounce moves SENT -> BOUNCED and suppresses the address), and a
bad signature, a stale timestamp, a replay and an oversized body are refused and store nothing.
SQLite and PostgreSQL both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time
import uuid
from datetime import datetime

import pytest
from api_support import client_for, rows_snapshot, send_through_api, team_workspace
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from lumina_tui.services import outbox, webhooks
from lumina_tui.services.errors import AuthenticationError, ValidationError
from lumina_tui.worker import tasks
from lumina_tui.worker.provider_pool import ProviderPool

# SendGrid's own test vector (sendgrid-python, test/unit/test_eventwebhook.py).
SG_PUBLIC_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpig"
    "lSI8eNEc6wEA3F+g=="
)
SG_SIGNATURE = (
    "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM="
)
SG_TIMESTAMP = "1600112502"
SG_PAYLOAD = (
    json.dumps(
        [
            {
                "email": "hello@world.com",
                "event": "dropped",
                "reason": "Bounced Address",
                "sg_event_id": "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
                "sg_message_id": "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
                "smtp-id": "<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>",
                "timestamp": 1600112492,
            }
        ],
        sort_keys=True,
        separators=(",", ":"),
    )
    + "\r\n"
)
SG_OTHER_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7Gj"
    "UuFDb/R1NGe1OPzpA=="
)
SG_BAD_SIGNATURE = (
    "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH3j/0="
)
MAILGUN_KEY = "key-mailgun-signing-0123456789abcdef"

# On both engines: receipts, events, the BOUNCED transition and suppressions are SQL of their own.
pytestmark = pytest.mark.parametrize("store_engine", ["sqlite", "postgresql"], indirect=True)
POSTMARK_AUTH = "postmark-hook:s3cret-pw-for-hooks"


def test_sendgrids_published_test_vector_verifies() -> None:
    key = webhooks.sendgrid_public_key(SG_PUBLIC_KEY)
    webhooks.verify_sendgrid(SG_PAYLOAD.encode(), SG_SIGNATURE, SG_TIMESTAMP, key)
    for payload, signature, timestamp, public in [
        (b"payload", SG_SIGNATURE, SG_TIMESTAMP, key),
        (SG_PAYLOAD.encode(), SG_BAD_SIGNATURE, SG_TIMESTAMP, key),
        (SG_PAYLOAD.encode(), SG_SIGNATURE, "timestamp", key),
        (SG_PAYLOAD.encode(), SG_SIGNATURE, SG_TIMESTAMP, webhooks.sendgrid_public_key(SG_OTHER_KEY)),
        (SG_PAYLOAD.encode(), "not base64!", SG_TIMESTAMP, key),
    ]:
        with pytest.raises(AuthenticationError):
            webhooks.verify_sendgrid(payload, signature, timestamp, public)


def test_the_vector_through_receive_at_its_own_time_and_stale_now(db) -> None:
    webhooks.configure("sendgrid", SG_PUBLIC_KEY)
    headers = {
        "X-Twilio-Email-Event-Webhook-Signature": SG_SIGNATURE,
        "X-Twilio-Email-Event-Webhook-Timestamp": SG_TIMESTAMP,
    }
    with pytest.raises(ValidationError) as stale:
        webhooks.receive(db, "sendgrid", SG_PAYLOAD.encode(), headers)
    assert stale.value.field == "timestamp"
    then = datetime(2020, 9, 14, 19, 41, 50)  # 1600112510: eight seconds after it was signed
    result = webhooks.receive(db, "sendgrid", SG_PAYLOAD.encode(), headers, now=then)
    assert result.as_json() == {"recorded": 0, "duplicates": 0, "unmatched": 0, "ignored": 0}  # `dropped`
    with pytest.raises(Exception, match="replay"):
        webhooks.receive(db, "sendgrid", SG_PAYLOAD.encode(), headers, now=then)


# -- end to end through the app --------------------------------------------------------------------


@pytest.fixture
def hooked(settings, db):
    """A team workspace with one SENT email (delivered to the maildir by the real worker code)."""
    quick = settings.model_copy(update={"undo_window_seconds": 0.0})
    ws = team_workspace(db, "Northwind", "lead@north.test")
    with client_for(quick, db) as api:
        email_id = send_through_api(api, ws).email["id"]
        ctx = tasks.WorkerRuntime(
            settings=quick,
            db=db,
            worker_id=tasks.new_worker_id(),
            providers=ProviderPool(db, quick),
            rng=random.Random(1),
        )
        assert tasks.send_email(ctx, email_id) == "sent"
        private = ec.generate_private_key(ec.SECP256R1())
        public_der = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        webhooks.configure("sendgrid", base64.b64encode(public_der).decode())
        webhooks.configure("mailgun", MAILGUN_KEY)
        webhooks.configure("postmark", POSTMARK_AUTH)
        yield {"api": api, "ws": ws, "email_id": email_id, "private": private, "db": db}


def _events(hooked) -> list[dict]:
    api, ws = hooked["api"], hooked["ws"]
    return api.get(f"/emails/{hooked['email_id']}/events", headers=ws.headers).json()["items"]


def _sendgrid(private, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = private.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
    }


def _sendgrid_body(email_id: str, *kinds: str) -> bytes:
    events = [
        {
            "email": "ana@bright.test",
            "event": kind,
            "sg_event_id": f"sg-{kind}-{email_id[:8]}",
            "sg_message_id": "msg.filter",
            "timestamp": int(time.time()),
            "lumina_email_id": email_id,
            **({"url": "https://bright.test/pricing"} if kind == "click" else {}),
        }
        for kind in kinds
    ]
    return json.dumps(events).encode() + b"\r\n"


def test_sendgrid_events_recorded_once_and_refusals_store_nothing(hooked, settings) -> None:
    api, private, email_id = hooked["api"], hooked["private"], hooked["email_id"]
    body = _sendgrid_body(email_id, "delivered", "open", "click", "processed")
    accepted = api.post("/webhooks/sendgrid", content=body, headers=_sendgrid(private, body))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"recorded": 3, "duplicates": 0, "unmatched": 0, "ignored": 0}
    kinds = [e["event_type"] for e in _events(hooked) if e["provider"] == "sendgrid"]
    assert sorted(kinds) == ["clicked", "delivered", "opened"]

    before = rows_snapshot(hooked["db"])
    replay_headers = _sendgrid(private, body)
    fresh = api.post("/webhooks/sendgrid", content=body, headers=replay_headers)
    assert fresh.json()["duplicates"] == 3  # a provider's retry: idempotent, nothing new
    after_retry = rows_snapshot(hooked["db"])
    assert {k: v for k, v in after_retry.items() if k != "webhook_receipts"} == {
        k: v for k, v in before.items() if k != "webhook_receipts"
    }
    refusals = {
        "replay": (body, replay_headers, 409),
        "bad signature": (
            body,
            {
                **_sendgrid(private, body),
                "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(b"x" * 70).decode(),
            },
            401,
        ),
        "tampered body": (body.replace(b"delivered", b"bounce"), _sendgrid(private, body), 401),
        "stale": (body, _sendgrid(private, body, int(time.time()) - 301), 400),
        "future": (body, _sendgrid(private, body, int(time.time()) + 3600), 400),
        "no signature": (body, {"Content-Type": "application/json"}, 401),
    }
    for name, (content, headers, status) in refusals.items():
        response = api.post("/webhooks/sendgrid", content=content, headers=headers)
        assert response.status_code == status, (name, response.text)
        assert set(response.json()["error"]) >= {"code", "field", "message"}
        assert rows_snapshot(hooked["db"]) == after_retry, name


def test_oversized_webhook_bodies_get_413_and_store_nothing(hooked, settings) -> None:
    api, private = hooked["api"], hooked["private"]
    before = rows_snapshot(hooked["db"])
    big = b"[" + b" " * (settings.api.webhook_max_body_bytes + 1) + b"]"
    response = api.post("/webhooks/sendgrid", content=big, headers=_sendgrid(private, big))
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"

    def chunks():
        yield b"["
        for _ in range(settings.api.webhook_max_body_bytes // 65536 + 2):
            yield b" " * 65536
        yield b"]"

    streamed = api.post("/webhooks/mailgun", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert rows_snapshot(hooked["db"]) == before


def _mailgun(
    email_id: str,
    event: str,
    *,
    timestamp: int | None = None,
    token: str | None = None,
    key: str = MAILGUN_KEY,
    **extra,
) -> dict:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    token = token or uuid.uuid4().hex
    signature = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": stamp, "token": token, "signature": signature},
        "event-data": {
            "event": event,
            "id": f"mg-{event}-{token[:8]}",
            "timestamp": time.time(),
            "recipient": "ana@bright.test",
            "user-variables": {"lumina_email_id": email_id},
            **extra,
        },
    }


def test_mailgun_hard_bounce_moves_the_email_and_suppresses(hooked, settings) -> None:
    api, ws, email_id = hooked["api"], hooked["ws"], hooked["email_id"]
    bounce = _mailgun(
        email_id,
        "failed",
        severity="permanent",
        **{"delivery-status": {"code": 550, "message": "5.1.1 user unknown"}},
    )
    accepted = api.post("/webhooks/mailgun", json=bounce)
    assert accepted.status_code == 200 and accepted.json()["recorded"] == 1, accepted.text
    email = api.get(f"/emails/{email_id}", headers=ws.headers).json()
    assert email["status"] == "BOUNCED"
    bounced = [e for e in _events(hooked) if e["event_type"] == "bounced"]
    assert bounced[0]["provider"] == "mailgun" and bounced[0]["data"]["hard"] is True
    from lumina_tui.services import suppressions

    assert [s.value for s in suppressions.list_suppressions(hooked["db"], ws.actor)] == ["ana@bright.test"]

    before = rows_snapshot(hooked["db"])
    replay = api.post("/webhooks/mailgun", json=bounce)
    assert replay.status_code == 409
    forged = api.post("/webhooks/mailgun", json=_mailgun(email_id, "opened", key="not-the-key"))
    assert forged.status_code == 401
    stale = api.post("/webhooks/mailgun", json=_mailgun(email_id, "opened", timestamp=int(time.time()) - 400))
    assert stale.status_code == 400 and stale.json()["error"]["field"] == "timestamp"
    unsigned = _mailgun(email_id, "opened")
    del unsigned["signature"]
    assert api.post("/webhooks/mailgun", json=unsigned).status_code == 401
    assert rows_snapshot(hooked["db"]) == before


def test_postmark_basic_auth_and_idempotent_events(hooked, settings) -> None:
    api, email_id = hooked["api"], hooked["email_id"]
    delivery = {
        "RecordType": "Delivery",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Recipient": "ana@bright.test",
        "DeliveredAt": "2026-12-03T10:00:00Z",
        "Metadata": {"lumina_email_id": email_id},
    }
    auth = "Basic " + base64.b64encode(POSTMARK_AUTH.encode()).decode()
    wrong = "Basic " + base64.b64encode(b"postmark-hook:guess").decode()
    before = rows_snapshot(hooked["db"])
    assert api.post("/webhooks/postmark", json=delivery, headers={"Authorization": wrong}).status_code == 401
    assert api.post("/webhooks/postmark", json=delivery).status_code == 401
    assert rows_snapshot(hooked["db"]) == before
    first = api.post("/webhooks/postmark", json=delivery, headers={"Authorization": auth})
    assert first.status_code == 200 and first.json()["recorded"] == 1
    again = api.post("/webhooks/postmark", json=delivery, headers={"Authorization": auth})
    assert again.json() == {"recorded": 0, "duplicates": 1, "unmatched": 0, "ignored": 0}
    stranger = {**delivery, "Metadata": {}, "MessageID": "unknown"}
    assert (
        api.post("/webhooks/postmark", json=stranger, headers={"Authorization": auth}).json()["unmatched"]
        == 1
    )
    assert [e["event_type"] for e in _events(hooked)].count("delivered") == 1


def test_no_key_configured_is_refused(settings, db) -> None:
    with client_for(settings, db) as api:
        response = api.post("/webhooks/mailgun", json=_mailgun(str(uuid.uuid4()), "opened"))
    assert response.status_code == 401
    assert "lumina webhooks set mailgun" in response.json()["error"]["message"]


def test_email_lookup_by_message_id_when_no_custom_argument(hooked) -> None:
    email = outbox.get_email(hooked["db"], hooked["ws"].actor, hooked["email_id"])
    body = json.dumps(
        [
            {
                "email": "ana@bright.test",
                "event": "open",
                "sg_event_id": "sg-open-by-mid",
                "timestamp": int(time.time()),
                "smtp-id": email.message_id,
            }
        ]
    ).encode()
    response = hooked["api"].post(
        "/webhooks/sendgrid", content=body, headers=_sendgrid(hooked["private"], body)
    )
    assert response.json()["recorded"] == 1
