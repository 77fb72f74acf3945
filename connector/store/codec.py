"""Entities <-> JSON text and row tuples, shared by the SQL backends.

An entity is stored as one JSON object holding every dataclass field. Nested dataclasses (the
``Criterion`` and ``CallbackAddress`` lists) become nested objects and are rebuilt from the field
type hints on decode. Unknown keys are ignored on decode, so rows written by a newer node whose
entities gained a field stay readable.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from functools import cache
from typing import Any, TypeVar

from connector.domain import (
    ContractAgreement,
    ContractNegotiation,
    OutboxMessage,
    TransferProcess,
)
from connector.store.base import ENTITY_KINDS

T = TypeVar("T")

#: Columns of the process tables, in the order ``process_values`` returns them.
NEGOTIATION_COLUMNS = (
    "id", "role", "state", "counter_party_id", "consumer_pid", "provider_pid",
    "version", "created_at", "updated_at", "body",
)  # fmt: skip
TRANSFER_COLUMNS = (
    "id", "role", "state", "counter_party_id", "consumer_pid", "provider_pid", "agreement_id",
    "version", "created_at", "updated_at", "body",
)  # fmt: skip
#: Entities with their own table (indexed columns, optimistic version): class -> (table, columns).
PROCESS_TABLES: dict[type, tuple[str, tuple[str, ...]]] = {
    ContractNegotiation: ("negotiations", NEGOTIATION_COLUMNS),
    TransferProcess: ("transfers", TRANSFER_COLUMNS),
}
#: Columns of the outbox table: the ``OutboxMessage`` fields, ``body`` as JSON text.
OUTBOX_COLUMNS = tuple(f.name for f in dataclasses.fields(OutboxMessage))
_OUTBOX_BODY = OUTBOX_COLUMNS.index("body")


def kind_of(cls: type) -> str:
    """The kind name an entity class is stored under; TypeError for anything else."""
    try:
        return ENTITY_KINDS[cls]
    except KeyError:
        raise TypeError(f"{cls.__name__} is not a stored entity") from None


def created_at(obj: Any) -> int:
    """The time an entity is listed by: ``created_at``, or an agreement's ``signing_date``."""
    return getattr(obj, "signing_date" if isinstance(obj, ContractAgreement) else "created_at")


# --- JSON ----------------------------------------------------------------------------------


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _as_dict(obj: Any) -> dict[str, Any]:
    """The fields of a dataclass instance, shallow (nested ones are handled by the encoder)."""
    return {name: getattr(obj, name) for name in _field_names(type(obj))}


def _default(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _as_dict(obj)
    raise TypeError(f"cannot store a {type(obj).__name__} as JSON")


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default)


def dumps(value: Any) -> str:
    """Compact JSON text; dataclasses anywhere inside become objects."""
    return _encoder.encode(value)


def encode(obj: Any, **overrides: Any) -> str:
    """An entity as JSON text, with ``overrides`` replacing field values."""
    data = _as_dict(obj)
    data.update(overrides)
    return _encoder.encode(data)


def decode(cls: type[T], text: str | bytes) -> T:
    """A fresh ``cls`` instance from JSON text written by ``encode``."""
    return _build(cls, json.loads(text))


def _build(cls: type[T], data: dict[str, Any]) -> T:
    names, nested = _plan(cls)
    kwargs = {k: v for k, v in data.items() if k in names}
    for name, (item_cls, many) in nested.items():
        value = kwargs.get(name)
        if value is not None:
            kwargs[name] = [_build(item_cls, v) for v in value] if many else _build(item_cls, value)
    return cls(**kwargs)


@cache
def _plan(cls: type) -> tuple[frozenset[str], dict[str, tuple[type, bool]]]:
    """Field names of ``cls`` and its nested dataclass fields: name -> (class, is_list)."""
    hints = typing.get_type_hints(cls)
    nested: dict[str, tuple[type, bool]] = {}
    for name in _field_names(cls):
        target = _nested_target(hints[name])
        if target is not None:
            nested[name] = target
    return frozenset(_field_names(cls)), nested


def _nested_target(hint: Any) -> tuple[type, bool] | None:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _nested_target(args[0]) if len(args) == 1 else None
    if origin is list:
        args = typing.get_args(hint)
        return (args[0], True) if args and _is_dataclass_type(args[0]) else None
    return (hint, False) if _is_dataclass_type(hint) else None


def _is_dataclass_type(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


# --- rows ----------------------------------------------------------------------------------


def process_values(obj: Any, columns: tuple[str, ...], version: int) -> tuple[Any, ...]:
    """Column values of a negotiation or transfer, stored with ``version``."""
    body = encode(obj, version=version)
    return tuple(
        body if c == "body" else version if c == "version" else getattr(obj, c) for c in columns
    )


def outbox_values(msg: OutboxMessage) -> tuple[Any, ...]:
    """Column values of an outbox message, in ``OUTBOX_COLUMNS`` order."""
    return tuple(dumps(msg.body) if c == "body" else getattr(msg, c) for c in OUTBOX_COLUMNS)


def outbox_from_row(row: typing.Sequence[Any]) -> OutboxMessage:
    """An outbox message from a row selected in ``OUTBOX_COLUMNS`` order."""
    values = list(row)
    values[_OUTBOX_BODY] = json.loads(values[_OUTBOX_BODY])
    return OutboxMessage(*values)
