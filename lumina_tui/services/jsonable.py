"""How service results become the CLI's JSON: ISO-8601 UTC times with `Z`, pages as items+total."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


@dataclass(slots=True)
class Page(Generic[T]):
    """One page of a list, with the total that matched (the CLI prints `{items, total}`)."""

    items: list[T] = field(default_factory=list)
    total: int = 0

    def as_json(self, item_json: Any) -> dict[str, Any]:
        return {"items": [item_json(item) for item in self.items], "total": self.total}
