"""Two hashes with two jobs: `hash_draft` says which draft a suggestion was made from (staleness);
`request_key` says which request made it (cache key and `suggestion_id`).

They differ on purpose. A formal and a casual personalize of the same draft share an `input_hash`
(both go stale when the rep edits the draft) but must never share a cache entry, so the request key
also covers the operation, tone, instruction, every input value, the engine, model and prompt version.
The composer imports `hash_draft` directly: it must compute exactly what the orchestrator computed.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel


def normalize_text(text: str | None) -> str:
    """NFC, LF line endings and no trailing blanks per line: edits a rep cannot see don't count."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip(" \t") for line in text.split("\n"))


def hash_draft(subject: str | None, body: str | None, prospect_id: str | None) -> str:
    """The `input_hash` of a suggestion; recompute it on the current draft to detect staleness."""
    payload = json.dumps(
        [normalize_text(subject), normalize_text(body), str(prospect_id or "")],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def request_key(
    *,
    operation: str,
    tone: float | None,
    instruction: str | None,
    inputs: Mapping[str, Any],
    engine: str,
    model: str,
    prompt_version: str,
) -> str:
    """Cache key and `suggestion_id`: equal only when every input and every setting is equal."""
    payload = {
        "operation": operation,
        "tone": None if tone is None else round(float(tone), 3),
        "instruction": instruction or None,
        "inputs": _plain(inputs),
        "engine": engine,
        "model": model,
        "prompt_version": prompt_version,
    }
    encoded = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()
