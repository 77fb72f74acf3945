"""What every source shares while it streams a body: counting, hashing, reporting."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Awaitable, Callable

#: Called once a response has been written completely: ``(bytes_sent, sha256_hex or None)``.
OnComplete = Callable[[int, str | None], Awaitable[None] | None]

#: Size of the pieces a body is read and written in.
CHUNK_SIZE = 256 * 1024


class TransferInterrupted(ConnectionResetError):
    """The source failed after the response had started; the connection is being dropped.

    Raised instead of a :class:`connector.errors.KarezError` because no error body can be sent
    any more: the caller must let it propagate rather than render a response.
    """


class Meter:
    """Counts the bytes sent and, when the whole representation is sent, hashes them."""

    def __init__(self, whole_body: bool) -> None:
        self.bytes_sent = 0
        self._hash = hashlib.sha256() if whole_body else None

    def update(self, chunk: bytes) -> None:
        self.bytes_sent += len(chunk)
        if self._hash is not None:
            self._hash.update(chunk)

    @property
    def sha256_hex(self) -> str | None:
        return self._hash.hexdigest() if self._hash is not None else None

    async def report(self, on_complete: OnComplete | None) -> None:
        if on_complete is None:
            return
        result = on_complete(self.bytes_sent, self.sha256_hex)
        if inspect.isawaitable(result):
            await result
