"""Whole rows read as table models on the raw sqlite3 connection of `Database.write_sqlite`.

For the hot paths that run their rules on the sqlite3 connection itself (the send intent, issue 14
point 3): an ORM `session.get` cost ~0.3-0.5 ms each, a sqlite3 SELECT a few tens of microseconds.
The values come back as SQLAlchemy itself would hand them over (timestamps as naive datetimes, JSON
columns decoded, booleans as bool), read from the model's own column list, so a column added to a
model is read here too, and the model built is the same one the ORM path builds.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import JSON, Boolean, DateTime, inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import SQLModel

M = TypeVar("M", bound=SQLModel)

_Plan = tuple[str, tuple[tuple[str, Callable[[Any], Any] | None], ...]]
_plans: dict[type[SQLModel], _Plan] = {}


def _converter(column_type: object) -> Callable[[Any], Any] | None:
    if isinstance(column_type, DateTime):
        return datetime.fromisoformat
    if isinstance(column_type, JSON):
        return json.loads
    if isinstance(column_type, Boolean):
        return bool
    return None


def _plan(model: type[SQLModel]) -> _Plan:
    plan = _plans.get(model)
    if plan is None:
        mapper = inspect(model)
        table = getattr(model, "__tablename__")  # noqa: B009 - a table model's name, typed str | Callable
        attributes = [(prop.key, prop.columns[0]) for prop in mapper.column_attrs]
        columns = ", ".join(f'"{column.name}"' for _key, column in attributes)
        plan = _plans[model] = (
            f'SELECT {columns} FROM "{table}"',
            tuple((key, _converter(column.type)) for key, column in attributes),
        )
    return plan


def columns(model: type[SQLModel]) -> str:
    """Every column of the model, in `row_values`' order: for a `RETURNING` that reads rows back."""
    sql, _fields = _plan(model)
    return sql.removeprefix("SELECT ").rsplit(" FROM ", 1)[0]


def row_values(model: type[SQLModel], row: Sequence[Any]) -> dict[str, Any]:
    """One row of `select_models`'s SELECT as the model's attribute values."""
    _sql, fields = _plan(model)
    return {
        key: (convert(value) if convert is not None and value is not None else value)
        for (key, convert), value in zip(fields, row, strict=True)
    }


def detached(model: type[M], values: dict[str, Any]) -> M:
    """The instance the ORM would hand back for a row it read (a detached object), without `__init__`.

    Built as SQLAlchemy's loader builds a row's object (`ClassManager.new_instance`, SQLModel's
    `__new__`, the values into the instance dict) and then detached with its identity key, as every
    object a service returns after its session closed. Profiled: `Model(**values)` set each
    attribute through pydantic and SQLAlchemy's instrumentation, ~80 us per model, a tenth of a
    send's CPU once its SQL was lean. A nullable column missing from `values` is None; another is
    an error (the object would otherwise raise on first reading it).
    """
    mapper = inspect(model)
    _sql, fields = _plan(model)
    missing = [key for key, _convert in fields if key not in values]
    for key in missing:
        if not mapper.columns[key].nullable:
            raise KeyError(f"{model.__name__}.{key}: a value is required")
        values[key] = None
    instance: M = mapper.class_manager.new_instance()
    instance.__dict__.update(values)
    make_transient_to_detached(instance)
    return instance


def select_models(
    conn: sqlite3.Connection, model: type[M], where: str, params: Sequence[Any]
) -> list[M]:
    """`SELECT <every column of model> FROM <its table> WHERE <where>` as detached model instances."""
    sql, _fields = _plan(model)
    return [detached(model, row_values(model, row)) for row in conn.execute(f"{sql} WHERE {where}", params)]


def select_model(conn: sqlite3.Connection, model: type[M], where: str, params: Sequence[Any]) -> M | None:
    """The first row of `select_models`, or None."""
    found = select_models(conn, model, f"{where} LIMIT 1", params)
    return found[0] if found else None


def _stored(value: Any) -> Any:
    """A value as SQLAlchemy binds it for SQLite: timestamps as its text, JSON as json.dumps."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")  # as db.sqlite_stamp
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


_inserts: dict[type[SQLModel], tuple[str, tuple[str, ...]]] = {}


def insert_model(conn: sqlite3.Connection, row: SQLModel) -> None:
    """INSERT one table model's row, every column, stored as the ORM would store it."""
    model = type(row)
    found = _inserts.get(model)
    if found is None:
        mapper = inspect(model)
        attributes = [(prop.key, prop.columns[0].name) for prop in mapper.column_attrs]
        table = getattr(model, "__tablename__")  # noqa: B009 - typed str | Callable on SQLModel
        names = ", ".join(f'"{name}"' for _key, name in attributes)
        marks = ", ".join("?" for _ in attributes)
        found = _inserts[model] = (
            f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
            tuple(key for key, _name in attributes),
        )
    sql, keys = found
    conn.execute(sql, tuple(_stored(getattr(row, key)) for key in keys))
