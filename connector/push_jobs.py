"""Provider side of ``HttpData-PUSH``: one job per started push transfer moves its data.

A job reads the node's own public data plane with an access token for the transfer (so the
agreement is checked and the access watch applies, as for a pull) and streams each body to the
consumer's endpoint with the credentials the consumer gave. Success completes the transfer with
the SHA-256 of what was sent; failure while the transfer is still STARTED terminates it with
the reason; a suspension or termination meanwhile simply ends the job. A restarted node picks
up the push transfers that were STARTED.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import replace
from typing import Any

import aiohttp

from connector.controlplane.transfers import STREAM, TransferManager, is_push
from connector.dataplane.access_watch import AccessWatch
from connector.dataplane.address import address_type, text
from connector.dataplane.files import FILE_TYPE
from connector.dataplane.push import Destination, push
from connector.dataplane.sql_source import SQL_TABLE_TYPE
from connector.dataplane.stream import APPENDS, FOLDER, ROWS, Source, stream_round
from connector.dataplane.tokens import AccessTokenService
from connector.domain import PROVIDER, TransferProcess
from connector.errors import KarezError
from connector.protocol import messages as m
from connector.protocol.transfer import TransferState as T
from connector.store.base import Store

log = logging.getLogger(__name__)


def destination_of(push_address: dict[str, Any]) -> Destination:
    """The HTTP endpoint, headers and method a DSP push DataAddress names."""
    props = m.endpoint_properties(push_address)
    headers = {}
    value = props.get("authorization")
    if value:
        name = props.get("authKey") or "Authorization"
        if props.get("authType", "").lower() == "bearer" and not value.startswith("Bearer "):
            value = f"Bearer {value}"
        headers[name] = value
    method = (props.get("method") or "POST").upper()
    if method not in ("POST", "PUT"):
        method = "POST"
    return Destination(str(push_address["endpoint"]), headers, method)


def stream_source(t: TransferProcess, public_url: str, token: str) -> Source | None:
    """What a stream of ``t`` reads, or None if its source cannot be streamed."""
    address = t.content_data_address or {}
    name = t.asset_id or "data"
    if is_folder(address):
        return Source(public_url, token, FOLDER, name)
    kind = address_type(address)
    if kind == SQL_TABLE_TYPE and text(address, "keyColumn"):
        fmt = (text(address, "format") or "csv").lower()
        return Source(public_url, token, ROWS, name, fmt, text(address, "keyColumn"))
    if kind == FILE_TYPE:
        return Source(public_url, token, APPENDS, name)
    return None


def is_folder(content_data_address: dict[str, Any] | None) -> bool:
    if not content_data_address or address_type(content_data_address) != FILE_TYPE:
        return False
    path = text(content_data_address, "path")
    return bool(path) and os.path.isdir(path)


class PushJobs:
    def __init__(
        self,
        store: Store,
        transfers: TransferManager,
        tokens: AccessTokenService,
        http: aiohttp.ClientSession,
        public_url: str,
        watch: AccessWatch,
        token_ttl_s: int = 3600,
        poll_s: float = 1.0,
    ) -> None:
        self._store = store
        self._transfers = transfers
        self._tokens = tokens
        self._http = http
        self._public_url = public_url
        self._ttl_s = token_ttl_s
        self._watch = watch
        self._poll_s = poll_s  # how often a stream looks for new data when nothing came
        self._jobs: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()  # started again while the previous job still ran

    def start(self, transfer_id: str) -> None:
        """Run the push of ``transfer_id``. While a job for it still winds down (a suspended
        push whose destination is slow to notice), the new one runs right after it."""
        running = self._jobs.get(transfer_id)
        if running is not None and not running.done():
            self._again.add(transfer_id)
            return
        self._jobs[transfer_id] = asyncio.create_task(self._run(transfer_id))

    def _finished(self, transfer_id: str) -> None:
        self._jobs.pop(transfer_id, None)
        if transfer_id in self._again:
            self._again.discard(transfer_id)
            self.start(transfer_id)

    async def resume(self) -> None:
        """At start: push transfers left STARTED by a stopped node run again."""
        async with self._store.session() as s:
            transfers = await s.list(TransferProcess)
        for t in transfers:
            if t.role == PROVIDER and is_push(t) and t.state == T.STARTED:
                self.start(t.id)

    async def close(self) -> None:
        self._again.clear()
        for task in list(self._jobs.values()):
            task.cancel()
        for task in list(self._jobs.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._jobs.clear()

    def _token(self, t: TransferProcess) -> str:
        """An access token to the node's own public data plane for ``t``."""
        token, _ = self._tokens.issue(
            t.id, t.agreement_id, t.asset_id or "", t.counter_party_id, ttl_s=self._ttl_s
        )
        return token

    async def _stream(self, t: TransferProcess, token: str) -> None:
        """Rounds of :func:`stream_round` until the transfer leaves STARTED."""
        source = stream_source(t, self._public_url, token)
        if source is None:
            await self._transfers.push_failed(
                t.id,
                "streaming needs a folder, a SqlTable with a keyColumn, or a file as its source",
            )
            return
        assert t.push_address is not None
        destination = destination_of(t.push_address)
        cursor = dict(t.stream_cursor)
        while True:
            source = replace(source, token=self._token(t))  # a stream may outlive one token
            try:
                cursor, sent = await stream_round(self._http, source, destination, cursor)
            except KarezError as exc:
                if self._watch.ended(t.id) is None:
                    await self._transfers.push_failed(t.id, f"stream failed: {exc.message}")
                return
            if not await self._transfers.stream_progress(t.id, cursor, sent):
                return
            if sent == 0:
                await asyncio.sleep(self._poll_s)

    async def _run(self, transfer_id: str) -> None:
        try:
            await self._push(transfer_id)
        finally:
            self._finished(transfer_id)

    async def _push(self, transfer_id: str) -> None:
        async with self._store.session() as s:
            t = await s.get(TransferProcess, transfer_id)
        if t is None or t.state != T.STARTED or not t.push_address:
            return
        token = self._token(t)
        if t.transfer_type == STREAM:
            await self._stream(t, token)
            return
        try:
            result = await push(
                self._http,
                self._public_url,
                token,
                destination_of(t.push_address),
                folder=is_folder(t.content_data_address),
            )
        except KarezError as exc:
            cut = self._watch.ended(transfer_id)
            if cut is not None:  # access ended (suspended, terminated, retired): not a failure
                log.info("push of transfer %s stopped: %s", transfer_id, cut)
                return
            log.info("push of transfer %s failed: %s", transfer_id, exc.message)
            await self._transfers.push_failed(transfer_id, f"push failed: {exc.message}")
            return
        except Exception:
            log.exception("push of transfer %s failed", transfer_id)
            await self._transfers.push_failed(transfer_id, "push failed: internal error")
            return
        log.info("push of transfer %s done: %d bytes", transfer_id, result.bytes)
        await self._transfers.push_done(transfer_id, result.bytes, result.sha256)
