"""What negotiations and transfers share: loading a process for a peer, storing a state change
with its outgoing messages and callbacks in one transaction, and retrying on a lost race."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from connector.controlplane.events import callback_messages
from connector.domain import Json, OutboxMessage, now_ms
from connector.errors import NotFound, ValidationFailure
from connector.store.base import ConcurrentUpdate, Session

R = TypeVar("R")


async def retrying(fn: Callable[[], Awaitable[R]], attempts: int = 8) -> R:
    """Run ``fn`` again when another worker changed the same process meanwhile."""
    for attempt in range(attempts):
        try:
            return await fn()
        except ConcurrentUpdate:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


async def load_for_peer(session: Session, cls: type[R], caller: str, pid: str, label: str) -> R:
    """The process ``pid`` if it is one of ``caller``'s; any other looks missing (404)."""
    process = await session.get(cls, pid)
    if process is None or process.counter_party_id != caller:  # type: ignore[attr-defined]
        raise NotFound(f"no {label} {pid}", path="pid", invalid_value=pid)
    return process


def check_pids(process: Any, msg: Json) -> None:
    """A message must name this process's own pids where it names any."""
    for key, own in (("consumerPid", process.consumer_pid), ("providerPid", process.provider_pid)):
        value = msg.get(key)
        if value is not None and own is not None and value != own:
            raise ValidationFailure(
                f"{key} {value!r} does not belong to this process", path=key, invalid_value=value
            )


async def save_process(
    session: Session,
    kind: str,
    process: Any,
    *,
    previous_state: str | None,
    outgoing: list[OutboxMessage] | None = None,
    new: bool = False,
    payload: Json | None = None,
) -> None:
    """Store a process, replace its unsent messages with ``outgoing``, and queue callbacks."""
    process.updated_at = now_ms()
    if process.state != previous_state:
        process.state_count = 0
    if new:
        await session.insert(process)
    else:
        await session.update(process)
    if outgoing:
        for old in await session.outbox_for(process.id):
            if old.process_kind == kind and old.lease_owner is None:
                await session.finish_outbox(old.id)
        for msg in outgoing:
            await session.enqueue(msg)
    if process.state != previous_state and process.callback_addresses:
        for msg in callback_messages(
            kind, process.id, process.state, process.callback_addresses, payload or {}
        ):
            await session.enqueue(msg)
