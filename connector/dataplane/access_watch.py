"""Ends downloads whose access has ended, while their bytes are still moving.

Every download of the public data plane runs under :meth:`AccessWatch.watching`: a check
(``still_granted``: the transfer still STARTED, the agreement not retired, its policy still
satisfied) runs every ``interval_s``, so a change made anywhere (another replica, another
process) stops the download within that interval. A change made in this process stops it at
once through :meth:`stop_transfer` / :meth:`stop_agreement`. Stopping aborts the connection:
the consumer receives a truncated body, never the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

#: Seconds between checks of a running download (a stop takes effect within this).
DEFAULT_INTERVAL_S = 0.25
#: Transfers whose last cut-off reason is remembered.
MAX_REMEMBERED = 10_000

#: ``() -> None`` if access continues, else the reason it ended.
Check = Callable[[], Awaitable[str | None]]


@dataclass(eq=False)
class Download:
    """One running download: what it serves, and how to cut it off."""

    transfer_id: str
    agreement_id: str
    task: asyncio.Task[object] | None
    abort: Callable[[], None]
    stopped: str | None = field(default=None)  # the reason, once stopped

    def stop(self, reason: str) -> None:
        if self.stopped is not None:
            return
        self.stopped = reason
        log.info("download for transfer %s stopped: %s", self.transfer_id, reason)
        with contextlib.suppress(Exception):
            self.abort()
        if self.task is not None and not self.task.done():
            self.task.cancel()


class AccessWatch:
    """The running downloads of this process, by transfer."""

    def __init__(self, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._downloads: set[Download] = set()
        self._ended: OrderedDict[str, str] = OrderedDict()  # transfer id -> why it was cut

    def ended(self, transfer_id: str) -> str | None:
        """Why the last download of ``transfer_id`` was cut off, if it was (so that a reader
        can tell an intended stop from a failure)."""
        return self._ended.get(transfer_id)

    def _remember(self, download: Download) -> None:
        if download.stopped is not None:
            self._ended[download.transfer_id] = download.stopped
            self._ended.move_to_end(download.transfer_id)
            while len(self._ended) > MAX_REMEMBERED:
                self._ended.popitem(last=False)

    def __len__(self) -> int:
        return len(self._downloads)

    @contextlib.asynccontextmanager
    async def watching(
        self,
        transfer_id: str,
        agreement_id: str,
        still_granted: Check,
        abort: Callable[[], None],
    ) -> AsyncIterator[Download]:
        """Run the body as a download of ``transfer_id``; stop it (``abort`` the connection and
        cancel the task) as soon as access ends."""
        download = Download(transfer_id, agreement_id, asyncio.current_task(), abort)
        self._ended.pop(transfer_id, None)
        self._downloads.add(download)
        poller = asyncio.create_task(self._poll(download, still_granted))
        try:
            yield download
        finally:
            self._remember(download)
            self._downloads.discard(download)
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller

    async def _poll(self, download: Download, still_granted: Check) -> None:
        while download.stopped is None:
            await asyncio.sleep(self.interval_s)
            try:
                reason = await still_granted()
            except Exception as exc:  # a failing check ends access rather than extending it
                reason = f"access could not be checked ({type(exc).__name__})"
            if reason is not None:
                download.stop(reason)

    def active(self, transfer_id: str) -> int:
        """How many downloads of ``transfer_id`` are running."""
        return sum(1 for d in self._downloads if d.transfer_id == transfer_id)

    def stop_transfer(self, transfer_id: str, reason: str) -> int:
        """Stop every download of ``transfer_id`` now; returns how many."""
        return self._stop(lambda d: d.transfer_id == transfer_id, reason)

    def stop_agreement(self, agreement_id: str, reason: str) -> int:
        """Stop every download under ``agreement_id`` now; returns how many."""
        return self._stop(lambda d: d.agreement_id == agreement_id, reason)

    def _stop(self, match: Callable[[Download], bool], reason: str) -> int:
        hits = [d for d in self._downloads if match(d)]
        for download in hits:
            download.stop(reason)
        return len(hits)
