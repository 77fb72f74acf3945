"""The outbox worker: delivers persisted messages to peers, with leases, retries and back-off.

Messages are written by the services in the same transaction as the state change that caused
them. The worker leases due messages (so several replicas over one PostgreSQL share the work,
and a crashed replica's messages are picked up once its lease runs out), sends them, and hands
the answer to the handler of the message's process kind inside one transaction that also
removes the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import aiohttp

from connector.controlplane.peer_client import PeerClient, describe_error
from connector.domain import OutboxMessage, now_ms
from connector.errors import KarezError, PeerError
from connector.logs import bind_process
from connector.store.base import ConcurrentUpdate, Session, Store

log = logging.getLogger(__name__)

LEASE_MS = 15_000
BATCH = 32


class DeliveryHandler(Protocol):
    async def on_delivered(self, session: Session, msg: OutboxMessage, body: Any) -> None: ...

    async def on_failed(self, session: Session, msg: OutboxMessage, error: str) -> None: ...


def backoff_ms(attempts: int, base_ms: int, max_ms: int) -> int:
    """Exponential back-off with full jitter on the upper half."""
    ceiling = min(max_ms, base_ms * (2 ** max(0, attempts - 1)))
    return int(ceiling / 2 + random.random() * ceiling / 2)


def is_permanent(status: int) -> bool:
    """A 4xx answer will not change on retry (except timeouts and rate limits)."""
    return 400 <= status < 500 and status not in (408, 425, 429)


class OutboxWorker:
    def __init__(
        self,
        store: Store,
        client: PeerClient,
        http: aiohttp.ClientSession,
        handlers: dict[str, DeliveryHandler],
        *,
        max_attempts: int = 8,
        base_delay_ms: int = 200,
        max_delay_ms: int = 30_000,
        concurrency: int = 64,
        secrets: Callable[[str], Awaitable[str | None]] | None = None,
        owner: str | None = None,
    ) -> None:
        self._secrets = secrets
        self._store = store
        self._client = client
        self._http = http
        self._handlers = handlers
        self._max_attempts = max_attempts
        self._base = base_delay_ms
        self._max = max_delay_ms
        self._owner = owner or f"worker-{uuid.uuid4()}"
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    @property
    def owner(self) -> str:
        return self._owner

    def dispatch(self, messages: list[OutboxMessage]) -> None:
        """Send messages already leased to this worker (see :class:`DispatchingStore`)."""
        for msg in messages:
            task = asyncio.create_task(self._deliver_when_free(msg))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver_when_free(self, msg: OutboxMessage) -> None:
        await self._slots.acquire()
        await self._deliver(msg)

    async def run(self) -> None:
        """Poll for what dispatch did not send: retries, and leases that ran out."""
        async with self._store.session() as s:
            released = await s.release_leases(self._owner)
        if released:
            log.info("took back %d messages this worker was sending when it stopped", released)
        while not self._stopping:
            try:
                claimed, due = await self._poll()
            except Exception:  # keep the worker alive whatever the store says
                log.exception("outbox poll failed")
                claimed, due = [], None
            for msg in claimed:
                await self._slots.acquire()
                task = asyncio.create_task(self._deliver(msg))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if len(claimed) >= BATCH:
                continue
            await self._sleep(due)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)

    async def _poll(self) -> tuple[list[OutboxMessage], int | None]:
        """Lease due messages and learn when the next one falls due, in one session."""
        async with self._store.session() as s:
            claimed = await s.claim_outbox(self._owner, now_ms(), LEASE_MS, BATCH)
            due = None if len(claimed) >= BATCH else await s.next_outbox_due()
        return claimed, due

    async def _sleep(self, due: int | None) -> None:
        timeout = 1.0 if due is None else min(1.0, max(0.0, (due - now_ms()) / 1000))
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _deliver(self, msg: OutboxMessage) -> None:
        body = msg.body if isinstance(msg.body, dict) else {}
        bind_process(body.get("consumerPid"), body.get("providerPid"))
        try:
            status, body, error = await self._send(msg)
            if error is None:
                await self._finish(msg, delivered=True, body=body)
            elif status is not None and is_permanent(status):
                await self._finish(msg, delivered=False, error=error)
            elif msg.attempts + 1 >= self._max_attempts:
                await self._finish(
                    msg,
                    delivered=False,
                    error=f"gave up after {msg.attempts + 1} attempts: {error}",
                )
            else:
                delay = backoff_ms(msg.attempts + 1, self._base, self._max)
                async with self._store.session() as s:
                    await s.retry_outbox(msg.id, msg.attempts + 1, now_ms() + delay, error)
                log.info(
                    "delivery of %s to %s failed (attempt %d), retry in %d ms: %s",
                    msg.message_type,
                    msg.url,
                    msg.attempts + 1,
                    delay,
                    error,
                    extra={"process_id": msg.process_id},
                )
        except Exception:
            log.exception(
                "outbox delivery of %s crashed", msg.id, extra={"process_id": msg.process_id}
            )
        finally:
            self._slots.release()

    async def _send(self, msg: OutboxMessage) -> tuple[int | None, Any, str | None]:
        if msg.process_kind == "callback":
            return await self._send_callback(msg)
        try:
            resp = await self._client.request("POST", msg.url, msg.counter_party_id or "", msg.body)
        except PeerError as exc:
            return None, None, exc.message
        if resp.status >= 300:
            return (
                resp.status,
                resp.body,
                f"peer answered {resp.status}: {describe_error(resp.body)}",
            )
        return resp.status, resp.body, None

    async def _send_callback(self, msg: OutboxMessage) -> tuple[int | None, Any, str | None]:
        headers = {}
        auth = msg.body.get("auth")
        if isinstance(auth, dict) and self._secrets is not None:
            value = await self._secrets(str(auth.get("secret")))
            if value is not None:
                headers[str(auth.get("header"))] = value
        try:
            async with self._http.post(
                msg.url, json=msg.body.get("event"), headers=headers
            ) as resp:
                await resp.read()
                if resp.status >= 300:
                    return resp.status, None, f"callback answered {resp.status}"
                return resp.status, None, None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return None, None, f"{type(exc).__name__}: {exc}"

    async def _finish(
        self, msg: OutboxMessage, *, delivered: bool, body: Any = None, error: str = ""
    ) -> None:
        handler = self._handlers.get(msg.process_kind)
        for attempt in range(5):
            try:
                async with self._store.session() as s:
                    if handler is not None:
                        if delivered:
                            await handler.on_delivered(s, msg, body)
                        else:
                            await handler.on_failed(s, msg, error)
                    await s.finish_outbox(msg.id)
                break
            except ConcurrentUpdate:
                await asyncio.sleep(0.01 * (attempt + 1))
            except KarezError as exc:
                log.warning("handling the answer to %s failed: %s", msg.id, exc.message)
                async with self._store.session() as s:
                    await s.finish_outbox(msg.id)
                break
        if not delivered:
            log.warning(
                "gave up delivering %s to %s: %s",
                msg.message_type,
                msg.url,
                error,
                extra={"process_id": msg.process_id},
            )


class _LeasingSession:
    """A session whose enqueued messages are leased to the local worker right away."""

    def __init__(self, inner: Session, owner: str) -> None:
        self._inner = inner
        self._owner = owner
        self.enqueued: list[OutboxMessage] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def enqueue(self, msg: OutboxMessage) -> None:
        msg.lease_owner = self._owner
        msg.lease_until = now_ms() + LEASE_MS
        await self._inner.enqueue(msg)
        self.enqueued.append(msg)


class DispatchingStore(Store):
    """The store as the services see it: a message written in a session is sent as soon as
    that session commits, by this node's worker, without waiting for the worker to poll.

    The row stays in the outbox (leased) until the peer acknowledges it, so a crash loses
    nothing: once the lease runs out, any worker sends it again.
    """

    def __init__(self, inner: Store) -> None:
        self._inner = inner
        self.worker: OutboxWorker | None = None

    async def open(self) -> None:
        await self._inner.open()

    async def close(self) -> None:
        await self._inner.close()

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        worker = self.worker
        if worker is None:
            async with self._inner.session() as s:
                yield s
            return
        async with self._inner.session() as s:
            leasing = _LeasingSession(s, worker.owner)
            yield leasing  # type: ignore[misc]
        if leasing.enqueued:
            worker.dispatch(leasing.enqueued)
