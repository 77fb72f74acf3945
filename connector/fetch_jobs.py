"""Consumer side: Karez downloads a started pull into a local folder on the operator's request.

``POST /v3/edrs/{transferProcessId}/fetch`` (``{"folder": "/abs/path"}``) starts a job; the
transfer shows ``karez:fetch`` (folder, ``RUNNING`` / ``DONE`` / ``FAILED``, the error) and,
once done, ``karez:received`` (path, size, SHA-256 of each file written). The EDR's token is
refreshed when it has expired; a broken connection is resumed with Range.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable

import aiohttp

from connector.controlplane.transfers import TransferManager
from connector.dataplane.fetch import fetch_into
from connector.domain import CONSUMER, EndpointDataReference, TransferProcess
from connector.errors import Conflict, KarezError, NotFound, ValidationFailure
from connector.protocol.transfer import TransferState as T
from connector.store.base import Store

log = logging.getLogger(__name__)

EdrRefresher = Callable[[EndpointDataReference], Awaitable[EndpointDataReference]]
RUNNING, DONE, FAILED = "RUNNING", "DONE", "FAILED"


class FetchJobs:
    def __init__(
        self,
        store: Store,
        transfers: TransferManager,
        http: aiohttp.ClientSession,
        refresh_if_due: EdrRefresher,
    ) -> None:
        self._store = store
        self._transfers = transfers
        self._http = http
        self._refresh_if_due = refresh_if_due
        self._jobs: dict[str, asyncio.Task[None]] = {}

    async def start(self, transfer_id: str, folder: str) -> TransferProcess:
        """Start fetching ``transfer_id``'s data into ``folder``; the transfer as it stands."""
        if not isinstance(folder, str) or not os.path.isabs(folder):
            raise ValidationFailure("folder must be an absolute path", path="folder")
        async with self._store.session() as s:
            t = await s.get(TransferProcess, transfer_id)
            edr = await s.get(EndpointDataReference, transfer_id)
        if t is None or t.role != CONSUMER:
            raise NotFound(f"transfer process {transfer_id} not found", path="id")
        if edr is None or t.state != T.STARTED:
            raise Conflict(
                f"transfer {transfer_id} is {t.state}: a fetch needs a STARTED pull with an EDR",
                path="id",
            )
        running = self._jobs.get(transfer_id)
        if running is not None and not running.done():
            raise Conflict(f"a fetch of transfer {transfer_id} is already running", path="id")
        t = await self._transfers.record_fetch(transfer_id, {"folder": folder, "state": RUNNING})
        self._jobs[transfer_id] = asyncio.create_task(
            self._run(transfer_id, folder, t.asset_id or "data")
        )
        return t

    async def close(self) -> None:
        for task in list(self._jobs.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._jobs.clear()

    async def _authorization(self, transfer_id: str) -> str:
        async with self._store.session() as s:
            edr = await s.get(EndpointDataReference, transfer_id)
        if edr is None:
            raise NotFound("the EDR of this transfer is gone")
        return (await self._refresh_if_due(edr)).authorization

    async def _run(self, transfer_id: str, folder: str, name: str) -> None:
        state = {"folder": folder, "state": DONE}
        received = None
        try:
            async with self._store.session() as s:
                edr = await s.get(EndpointDataReference, transfer_id)
            if edr is None:
                raise NotFound("the EDR of this transfer is gone")
            written = await fetch_into(
                self._http,
                edr.endpoint,
                lambda: self._authorization(transfer_id),
                folder,
                name,
            )
            received = [{"path": w.path, "size": w.size, "sha256": w.sha256} for w in written]
            log.info("fetched transfer %s into %s: %d files", transfer_id, folder, len(written))
        except KarezError as exc:
            state = {"folder": folder, "state": FAILED, "error": exc.message}
        except Exception as exc:
            log.exception("fetch of transfer %s failed", transfer_id)
            state = {"folder": folder, "state": FAILED, "error": type(exc).__name__}
        finally:
            self._jobs.pop(transfer_id, None)
        await self._transfers.record_fetch(transfer_id, state, received)
