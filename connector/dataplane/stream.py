"""The streaming transfer type: data that keeps coming reaches the consumer while STARTED.

A stream job calls :func:`stream_round` again and again; each round sends what is new since
the cursor and returns the new cursor (a JSON object the control plane keeps with the transfer,
so a resumed or restarted stream goes on where it was):

* a folder: files that appeared or changed (by size and modification time) are pushed to
  ``<endpoint>/<path>``;
* a ``SqlTable`` with a ``keyColumn``: rows after the last key seen are pushed as one batch to
  ``<endpoint>/<asset>-<n>.<csv|jsonl>``; the last row's key is read as the batch passes;
* a single file: bytes appended since the last offset (a Range request) are pushed to
  ``<endpoint>/<asset>.<n>``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from connector.dataplane.push import Destination, PushFailed, _listing_entries, copy_body

FOLDER = "folder"
ROWS = "rows"
APPENDS = "appends"


class RowTracker:
    """Follows a CSV (with header) or JSON-lines body: is there a row, what is the last key."""

    def __init__(self, fmt: str, key_column: str) -> None:
        self.fmt = fmt
        self.key_column = key_column
        self._partial = b""
        self._lines = 0
        self._header: list[str] | None = None
        self._last: bytes | None = None

    def feed(self, chunk: bytes) -> None:
        data = self._partial + chunk
        *complete, self._partial = data.split(b"\n")
        for line in complete:
            if not line.strip():
                continue
            self._lines += 1
            if self.fmt == "csv" and self._header is None:
                self._header = next(csv.reader([line.decode("utf-8")]))
            else:
                self._last = line

    @property
    def has_content(self) -> bool:
        return self._last is not None or (
            self._partial.strip() != b"" and (self.fmt != "csv" or self._header is not None)
        )

    @property
    def last_key(self) -> str | None:
        line = self._last
        if self._partial.strip():
            line = self._partial
        if line is None:
            return None
        if self.fmt == "jsonl":
            value = json.loads(line).get(self.key_column)
        else:
            row = next(csv.reader([line.decode("utf-8")]))
            header = self._header or []
            if self.key_column not in header:
                raise PushFailed(f"the stream's keyColumn {self.key_column!r} is not in the rows")
            value = row[header.index(self.key_column)]
        if value is None:
            raise PushFailed(f"a row has no value in keyColumn {self.key_column!r}")
        return value if isinstance(value, str) else json.dumps(value)


@dataclass(frozen=True)
class Source:
    """What a stream reads: the provider's public endpoint for the transfer, and its kind."""

    url: str
    token: str
    kind: str  # FOLDER, ROWS or APPENDS
    name: str  # the asset's name, for batch and part names
    fmt: str = "csv"
    key_column: str | None = None


async def stream_round(
    http: aiohttp.ClientSession,
    source: Source,
    destination: Destination,
    cursor: dict[str, Any],
) -> tuple[dict[str, Any], int]:
    """Send what is new since ``cursor``; returns ``(new cursor, bytes sent)``."""
    auth = {"Authorization": source.token}
    base = destination.endpoint.rstrip("/")
    if source.kind == FOLDER:
        sent_total = 0
        seen = dict(cursor.get("files", {}))
        for entry in await _listing_entries(http, source.url, auth):
            path = str(entry["path"])
            version = f"{entry.get('size')}:{entry.get('modified')}"
            if seen.get(path) == version:
                continue
            quoted = quote(path, safe="/")
            copied = await copy_body(
                http, f"{source.url.rstrip('/')}/{quoted}", auth, destination, f"{base}/{quoted}"
            )
            if copied is not None:
                sent_total += copied.bytes
            seen[path] = version
        return {**cursor, "files": seen}, sent_total
    batch = int(cursor.get("batch", 0)) + 1
    if source.kind == ROWS:
        assert source.key_column is not None
        last = cursor.get("after")
        url = source.url + ("?" + urlencode({"after": last}) if last is not None else "")
        tracker = RowTracker(source.fmt, source.key_column)
        target = f"{base}/{quote(source.name, safe='')}-{batch:06d}.{source.fmt}"
        copied = await copy_body(http, url, auth, destination, target, observer=tracker)
        if copied is None:
            return cursor, 0
        return {**cursor, "after": tracker.last_key, "batch": batch}, copied.bytes
    offset = int(cursor.get("offset", 0))
    target = f"{base}/{quote(source.name, safe='')}.{batch:06d}"
    headers = {**auth, "Range": f"bytes={offset}-"}
    copied = await copy_body(http, source.url, headers, destination, target)
    if copied is None or copied.bytes == 0:
        return cursor, 0
    return {**cursor, "offset": offset + copied.bytes, "batch": batch}, copied.bytes
