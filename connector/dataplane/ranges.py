"""HTTP byte ranges (RFC 9110 section 14) for a representation of known size: pure functions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


class Unsatisfiable(Exception):
    """The Range header asks for no byte of the representation: answer 416."""


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` to ``end``, both inclusive."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(value: str | None, size: int) -> ByteRange | None:
    """The single byte range asked for, or ``None`` to send the whole representation.

    A missing, malformed or multi-range header yields ``None`` (a server may ignore Range);
    a well-formed range that selects nothing raises :class:`Unsatisfiable`.
    """
    if not value or size <= 0:
        return None
    unit, _, spec = value.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _SPEC.match(spec)
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0:
            raise Unsatisfiable()
        return ByteRange(max(size - suffix, 0), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise Unsatisfiable()
    return ByteRange(start, min(int(last), size - 1) if last else size - 1)


def if_range_matches(value: str | None, etag: str, last_modified: int) -> bool:
    """Whether an ``If-Range`` precondition holds (absent: it does).

    An entity tag must match strongly; a date must equal ``last_modified`` (epoch seconds).
    """
    if value is None:
        return True
    value = value.strip()
    if value.startswith(('"', "W/")):
        return not value.startswith("W/") and value == etag
    try:
        return int(parsedate_to_datetime(value).timestamp()) == last_modified
    except (TypeError, ValueError, IndexError):
        return False
