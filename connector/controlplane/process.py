"""What negotiations and transfers share: loading a process for a peer, storing a state change
with its outgoing messages and callbacks in one transaction, and retrying on a lost race."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from connector.controlplane.decisions import PolicyDecider
from connector.controlplane.events import callback_messages
from connector.domain import CONSUMER, KAREZ_NS, Json, OutboxMessage, now_ms
from connector.errors import NotFound, ValidationFailure
from connector.store.base import ConcurrentUpdate, Session, Store

#: Private property (on a contract definition or a contract request): "manual" makes the
#: process wait for its operator at each decision; "auto" decides by the policy.
APPROVAL = KAREZ_NS + "approval"

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


async def load_own(session: Session, cls: type[R], id: str, label: str) -> R:
    """A process of this node by its id, for its operator; 404 naming it if there is none."""
    process = await session.get(cls, id)
    if process is None:
        raise NotFound(f"{label} {id} not found", path="id", invalid_value=id)
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


class ProcessManager:
    """Base of the negotiation and transfer managers: configuration and storing changes."""

    kind = ""  # "negotiation" or "transfer": the outbox and callback kind

    def __init__(
        self,
        store: Store,
        decider: PolicyDecider,
        participant_id: str,
        protocol_url: str,
        *,
        default_approval: str = "auto",
    ) -> None:
        self._store = store
        self._decider = decider
        self.participant_id = participant_id
        self._protocol_url = protocol_url
        self._default_approval = default_approval

    def _manual(self, process: Any) -> bool:
        value = process.private_properties.get(APPROVAL)
        if value is None:
            return self._default_approval == "manual"
        return str(value).lower() == "manual"

    def _payload(self, process: Any) -> Json:
        """What a callback event about ``process`` carries."""
        raise NotImplementedError

    async def _save(
        self,
        s: Session,
        process: Any,
        *,
        previous_state: str | None,
        outgoing: list[OutboxMessage] | None = None,
        new: bool = False,
    ) -> None:
        await save_process(
            s,
            self.kind,
            process,
            previous_state=previous_state,
            outgoing=outgoing,
            new=new,
            payload=self._payload(process),
        )

    async def _acknowledge(
        self,
        s: Session,
        process: Any,
        sent_state: str | None,
        body: Any,
        acknowledged: Callable[[str, str], str | None],
    ) -> str | None:
        """The peer acknowledged what ``process`` sent in ``sent_state``: learn the provider's pid
        from the answer and take the ACK's transition (none if the process moved on meanwhile).
        Returns the new state, if any."""
        learned = False
        if process.role == CONSUMER and process.provider_pid is None and isinstance(body, dict):
            ppid = body.get("providerPid")
            if isinstance(ppid, str):
                process.provider_pid, learned = ppid, True
        new_state = acknowledged(sent_state, process.state) if sent_state else None
        if new_state is None:
            if learned:
                await s.update(process)
            return None
        before = process.state
        process.state = new_state
        await self._save(s, process, previous_state=before)
        return new_state
