"""Provider webhooks (Mailgun, SendGrid, Postmark): verified on the raw body, recorded once.

Verification, per provider's documentation:
- Mailgun: HMAC-SHA256 of `timestamp + token` with the webhook signing key, hex, in the body's
  `signature` object; the token is single-use (a replay is refused).
- SendGrid (signed event webhook): ECDSA P-256 / SHA-256 over `timestamp + raw body`, the
  signature (base64 DER) and timestamp in the `X-Twilio-Email-Event-Webhook-Signature` /
  `-Timestamp` headers, checked with the account's verification key (base64 DER public key).
- Postmark: HTTP basic auth with the credentials set in its webhook URL. Postmark signs nothing and
  sends no timestamp, so there is no freshness window: replays are harmless (each event is keyed by
  Postmark's own ids, and appending is idempotent).

A signed timestamp more than `tolerance` seconds from now is refused (a captured request replayed
later), and so is a token or signature already seen (`webhook_receipts`). The receipt and every
event land in ONE transaction: a refused webhook stores nothing, an accepted one stores all of it.

Events name our email by `lumina_email_id` (Mailgun user variables, SendGrid custom args, Postmark
metadata), else by Message-ID or the provider's message id. Types map onto the log's:
delivered, bounced (a hard one also moves SENT -> BOUNCED and suppresses the address, as a bounce
found by mailbox sync does), opened, clicked, complained (suppressed too), unsubscribed.

The verification keys live in the keyring (`webhook:<provider>`), set with `lumina webhooks set`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, or_
from sqlmodel import Session, col, select

from lumina_tui.secrets import delete_secret, get_secret, set_secret
from lumina_tui.services import email_state, events, suppressions
from lumina_tui.services.errors import AuthenticationError, ConflictError, ValidationError
from lumina_tui.store import Database, utcnow
from lumina_tui.store.models import Email, WebhookReceipt
from lumina_tui.store.upsert import insert, inserted

PROVIDERS = ("mailgun", "sendgrid", "postmark")
EMAIL_ID_KEY = "lumina_email_id"
SENDGRID_SIGNATURE_HEADER = "x-twilio-email-event-webhook-signature"
SENDGRID_TIMESTAMP_HEADER = "x-twilio-email-event-webhook-timestamp"
MAX_EVENTS = 1000  # SendGrid batches; a body with more is not one of theirs
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class WebhookResult:
    """What one webhook request became: events recorded, already known, about no email of ours."""

    recorded: int = 0
    duplicates: int = 0
    unmatched: int = 0
    ignored: int = 0
    email_ids: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "recorded": self.recorded,
            "duplicates": self.duplicates,
            "unmatched": self.unmatched,
            "ignored": self.ignored,
        }


@dataclass(frozen=True)
class ProviderEvent:
    """One provider event in our words."""

    event_type: str  # one of events.EVENT_TYPES
    provider_event_id: str
    occurred_at: datetime
    email_id: str | None
    message_id: str | None
    provider_message_id: str | None
    recipient: str
    data: dict[str, Any]
    hard_bounce: bool = False


# -- keys ------------------------------------------------------------------------------------------


def _ref(provider: str) -> str:
    return f"webhook:{clean_provider(provider)}"


def clean_provider(provider: str) -> str:
    provider = (provider or "").strip().lower()
    if provider not in PROVIDERS:
        raise ValidationError(f"provider: choose one of {', '.join(PROVIDERS)}", field="provider")
    return provider


def configure(provider: str, secret: str) -> None:
    """Keep a provider's verification key (Mailgun signing key, SendGrid public key, Postmark
    `user:password`) in the keyring; checked for shape so a paste error shows now, not at 3 a.m."""
    provider = clean_provider(provider)
    secret = (secret or "").strip()
    if not secret:
        raise ValidationError("key: must not be empty", field="key")
    if provider == "sendgrid":
        sendgrid_public_key(secret)
    if provider == "postmark" and ":" not in secret:
        raise ValidationError("key: Postmark's basic auth is `user:password`", field="key")
    set_secret(_ref(provider), secret)


def forget(provider: str) -> None:
    delete_secret(_ref(provider))


def configured(provider: str) -> str | None:
    return get_secret(_ref(provider))


def sendgrid_public_key(text: str) -> Any:
    """SendGrid's verification key (base64 DER, as its settings page shows it) as a P-256 key."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    try:
        key = load_der_public_key(base64.b64decode(text.strip(), validate=True))
    except (ValueError, binascii.Error, TypeError):
        raise ValidationError("key: not a base64 DER public key", field="key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValidationError("key: SendGrid's key is an ECDSA P-256 public key", field="key")
    return key


# -- verification ----------------------------------------------------------------------------------


def _fresh(timestamp: str, now: datetime, tolerance: int) -> datetime:
    try:
        seconds = int(timestamp)
    except (TypeError, ValueError):
        raise ValidationError("timestamp: not a Unix time", field="timestamp") from None
    if not 0 < seconds < 2**40:
        raise ValidationError("timestamp: not a Unix time", field="timestamp")
    when = datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    if abs((now - when).total_seconds()) > tolerance:
        raise ValidationError(
            f"timestamp: more than {tolerance} seconds from the server's clock; refused as a replay",
            field="timestamp",
        )
    return when


def _mapping(value: object) -> dict[str, Any]:
    """A JSON object of a provider's document, or {} where the document has something else."""
    return value if isinstance(value, dict) else {}


def verify_mailgun(signature: Any, signing_key: str) -> tuple[str, str]:
    """(timestamp, token) of a Mailgun signature object whose HMAC is right."""
    if not isinstance(signature, dict):
        raise AuthenticationError("the Mailgun signature is missing")
    timestamp, token, given = (signature.get(k) for k in ("timestamp", "token", "signature"))
    if not (isinstance(timestamp, str) and isinstance(token, str) and isinstance(given, str)
            and timestamp and token and given and len(token) <= 200):
        raise AuthenticationError("the Mailgun signature is missing")
    expected = hmac.new(
        signing_key.encode("utf-8"), (timestamp + token).encode("utf-8"), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        raise AuthenticationError("the Mailgun signature does not verify")
    return timestamp, token


def verify_sendgrid(raw: bytes, signature: str | None, timestamp: str | None, public_key: Any) -> None:
    """ECDSA P-256 over `timestamp + raw body` (SendGrid's signed event webhook)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    if not signature or not timestamp:
        raise AuthenticationError("the SendGrid signature headers are missing")
    try:
        der = base64.b64decode(signature, validate=True)
        public_key.verify(der, timestamp.encode("utf-8") + raw, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, binascii.Error):
        raise AuthenticationError("the SendGrid signature does not verify") from None


def verify_postmark(authorization: str | None, credentials: str) -> None:
    if not authorization or not authorization.lower().startswith("basic "):
        raise AuthenticationError("Postmark webhooks need basic auth")
    try:
        given = base64.b64decode(authorization[6:].strip(), validate=True)
    except (ValueError, binascii.Error):
        raise AuthenticationError("the basic auth credentials are not valid") from None
    if not hmac.compare_digest(given, credentials.encode("utf-8")):
        raise AuthenticationError("the basic auth credentials are not valid")


# -- parsing ---------------------------------------------------------------------------------------


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ValidationError("body: not a JSON document", field="body") from None


def _text(value: Any, limit: int = 500) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _email_id(value: Any) -> str | None:
    text = _text(value, 64).strip().lower()
    return text if _UUID.match(text) else None


def _bracketed(message_id: str) -> str | None:
    message_id = message_id.strip()
    if not message_id:
        return None
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def _unix(value: Any, default: datetime) -> datetime:
    if isinstance(value, int | float) and 0 < value < 2**40:
        return datetime.fromtimestamp(float(value), UTC).replace(tzinfo=None)
    return default


def _iso(value: Any, default: datetime) -> datetime:
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return default
        return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    return default


_MAILGUN_TYPES = {
    "delivered": "delivered",
    "opened": "opened",
    "clicked": "clicked",
    "complained": "complained",
    "unsubscribed": "unsubscribed",
    "failed": "bounced",
}


def parse_mailgun(document: Any, now: datetime) -> list[ProviderEvent]:
    data = document.get("event-data") if isinstance(document, dict) else None
    if not isinstance(data, dict):
        raise ValidationError("event-data: missing", field="event-data")
    kind = _MAILGUN_TYPES.get(_text(data.get("event")))
    event_id = _text(data.get("id"), 200)
    if kind is None or not event_id:
        return []
    variables = _mapping(data.get("user-variables"))
    message = _mapping(data.get("message"))
    headers = _mapping(message.get("headers"))
    hard = kind == "bounced" and _text(data.get("severity")) == "permanent"
    status = _mapping(data.get("delivery-status"))
    extra: dict[str, Any] = {"url": _text(data.get("url"), 2000)} if kind == "clicked" else {}
    if kind == "bounced":
        extra = {
            "kind": "hard" if hard else "soft",
            "hard": hard,
            "status": _text(status.get("code") and str(status.get("code")), 20),
            "diagnostic": _text(status.get("message") or status.get("description")),
        }
    return [
        ProviderEvent(
            event_type=kind,
            provider_event_id=event_id,
            occurred_at=_unix(data.get("timestamp"), now),
            email_id=_email_id(variables.get(EMAIL_ID_KEY)),
            message_id=_bracketed(_text(headers.get("message-id"))),
            provider_message_id=None,
            recipient=_text(data.get("recipient"), 320).lower(),
            data={"reported_by": "mailgun", **extra},
            hard_bounce=hard,
        )
    ]


_SENDGRID_TYPES = {
    "delivered": "delivered",
    "bounce": "bounced",
    "open": "opened",
    "click": "clicked",
    "spamreport": "complained",
    "unsubscribe": "unsubscribed",
    "group_unsubscribe": "unsubscribed",
}


def parse_sendgrid(document: Any, now: datetime) -> list[ProviderEvent]:
    if not isinstance(document, list) or len(document) > MAX_EVENTS:
        raise ValidationError("body: SendGrid sends a JSON array of events", field="body")
    found: list[ProviderEvent] = []
    for item in document:
        if not isinstance(item, dict):
            continue
        kind = _SENDGRID_TYPES.get(_text(item.get("event")))
        event_id = _text(item.get("sg_event_id"), 200)
        if kind is None or not event_id:
            continue
        # SendGrid's `bounce` is a hard bounce (soft ones are `deferred`, and `blocked` has type).
        hard = kind == "bounced" and _text(item.get("type")) != "blocked"
        extra: dict[str, Any] = {"url": _text(item.get("url"), 2000)} if kind == "clicked" else {}
        if kind == "bounced":
            extra = {
                "kind": "hard" if hard else "soft",
                "hard": hard,
                "status": _text(item.get("status"), 20),
                "diagnostic": _text(item.get("reason")),
            }
        found.append(
            ProviderEvent(
                event_type=kind,
                provider_event_id=event_id,
                occurred_at=_unix(item.get("timestamp"), now),
                email_id=_email_id(item.get(EMAIL_ID_KEY)),
                message_id=_bracketed(_text(item.get("smtp-id"))),
                provider_message_id=_text(item.get("sg_message_id"), 200).split(".", 1)[0] or None,
                recipient=_text(item.get("email"), 320).lower(),
                data={"reported_by": "sendgrid", **extra},
                hard_bounce=hard,
            )
        )
    return found


_POSTMARK_TYPES = {
    "Delivery": "delivered",
    "Bounce": "bounced",
    "Open": "opened",
    "Click": "clicked",
    "SpamComplaint": "complained",
    "SubscriptionChange": "unsubscribed",
}
_POSTMARK_SOFT = {"SoftBounce", "Transient", "DnsError", "AutoResponder", "OutOfOffice", "Unknown"}


def parse_postmark(document: Any, now: datetime) -> list[ProviderEvent]:
    if not isinstance(document, dict):
        raise ValidationError("body: Postmark sends one JSON object", field="body")
    kind = _POSTMARK_TYPES.get(_text(document.get("RecordType")))
    message_id = _text(document.get("MessageID"), 200)
    if kind is None or not message_id:
        return []
    when = _iso(
        document.get("DeliveredAt")
        or document.get("BouncedAt")
        or document.get("ReceivedAt")
        or document.get("ChangedAt"),
        now,
    )
    own_id = document.get("ID")
    event_id = f"{kind}:{message_id}:{own_id if isinstance(own_id, int | str) else when.isoformat()}"
    metadata = _mapping(document.get("Metadata"))
    hard = kind == "bounced" and _text(document.get("Type")) not in _POSTMARK_SOFT
    extra: dict[str, Any] = {"url": _text(document.get("OriginalLink"), 2000)} if kind == "clicked" else {}
    if kind == "bounced":
        extra = {
            "kind": "hard" if hard else "soft",
            "hard": hard,
            "status": "5.0.0" if hard else "4.0.0",
            "diagnostic": _text(document.get("Description") or document.get("Details")),
        }
    recipient = document.get("Recipient") or document.get("Email")
    return [
        ProviderEvent(
            event_type=kind,
            provider_event_id=event_id[:300],
            occurred_at=when,
            email_id=_email_id(metadata.get(EMAIL_ID_KEY)),
            message_id=None,
            provider_message_id=message_id,
            recipient=_text(recipient, 320).lower(),
            data={"reported_by": "postmark", **extra},
            hard_bounce=hard,
        )
    ]


# -- recording -------------------------------------------------------------------------------------


def _find_email(session: Session, event: ProviderEvent) -> Email | None:
    if event.email_id:
        email = session.get(Email, event.email_id)
        if email is not None:
            return email
    conditions: list[ColumnElement[bool]] = []
    if event.message_id:
        conditions += [col(Email.message_id) == event.message_id,
                       col(Email.sent_message_id) == event.message_id]
    if event.provider_message_id:
        conditions.append(col(Email.provider_message_id) == event.provider_message_id)
    if not conditions:
        return None
    return session.execute(select(Email).where(or_(*conditions)).limit(1)).scalars().first()


def _record(session: Session, provider: str, event: ProviderEvent, result: WebhookResult) -> None:
    email = _find_email(session, event)
    if email is None:
        result.unmatched += 1
        return
    data = {**event.data, "recipient": event.recipient}
    recorded = False
    if event.hard_bounce:
        reason = " ".join(x for x in (data.get("status", ""), data.get("diagnostic", "")) if x)
        recorded = email_state.transition(
            session,
            email,
            email_state.BOUNCE,
            values={"last_error": f"bounced: {reason or 'hard bounce'}"[:500]},
            provider_event_id=event.provider_event_id,
            data=data,
            now=utcnow(),
            provider=provider,
            occurred_at=event.occurred_at,
        )
    if not recorded:
        recorded = events.append_event(
            session,
            workspace_id=email.workspace_id,
            email_id=email.id,
            event_type=event.event_type,
            provider=provider,
            provider_event_id=event.provider_event_id,
            data=data,
            occurred_at=event.occurred_at,
        )
    if recorded and (event.hard_bounce or event.event_type == "complained") and event.recipient:
        why = "spam complaint" if event.event_type == "complained" else "hard bounce"
        # An address we cannot suppress (malformed) leaves the event itself recorded.
        with contextlib.suppress(ValidationError):
            suppressions.suppress_in(session, email.workspace_id, event.recipient, f"{why} ({provider})")
    if recorded:
        result.recorded += 1
        result.email_ids.append(email.id)
    else:
        result.duplicates += 1


def receive(
    db: Database,
    provider: str,
    raw: bytes,
    headers: Mapping[str, str],
    *,
    tolerance_seconds: int = 300,
    now: datetime | None = None,
) -> WebhookResult:
    """Verify one webhook request and record its events; raises (storing nothing) when refused."""
    provider = clean_provider(provider)
    secret = configured(provider)
    if secret is None:
        raise AuthenticationError(f"no {provider} webhook key is configured (lumina webhooks set {provider})")
    now = now or utcnow()
    lowered = {k.lower(): v for k, v in headers.items()}
    receipt: str | None
    if provider == "mailgun":
        document = _json(raw)
        timestamp, token = verify_mailgun(
            document.get("signature") if isinstance(document, dict) else None, secret
        )
        _fresh(timestamp, now, tolerance_seconds)
        receipt = token
        parsed = parse_mailgun(document, now)
    elif provider == "sendgrid":
        signature = lowered.get(SENDGRID_SIGNATURE_HEADER)
        signed_at = lowered.get(SENDGRID_TIMESTAMP_HEADER)
        verify_sendgrid(raw, signature, signed_at, sendgrid_public_key(secret))
        assert signed_at is not None and signature is not None
        _fresh(signed_at, now, tolerance_seconds)
        receipt = hashlib.sha256(f"{signed_at}:{signature}".encode()).hexdigest()
        parsed = parse_sendgrid(_json(raw), now)
    else:
        verify_postmark(lowered.get("authorization"), secret)
        receipt = None
        parsed = parse_postmark(_json(raw), now)
    result = WebhookResult()
    with db.write() as session:
        if receipt is not None:
            stored = inserted(
                session,
                insert(session, WebhookReceipt)
                .values(provider=provider, receipt_id=receipt, received_at=now)
                .on_conflict_do_nothing(index_elements=["provider", "receipt_id"]),
            )
            if not stored:
                raise ConflictError("this webhook was already received; refused as a replay", field="token")
            # A receipt older than the freshness window guards nothing (that replay is stale anyway).
            session.execute(
                delete(WebhookReceipt).where(
                    col(WebhookReceipt.provider) == provider,
                    col(WebhookReceipt.received_at) < now - timedelta(seconds=2 * tolerance_seconds + 60),
                )
            )
        for event in parsed:
            _record(session, provider, event, result)
    return result
