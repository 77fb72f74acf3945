"""Transfer processes on both sides, as persisted state machines (rules in
``connector.protocol.transfer``). The provider issues the data address (with an access
token for its public data plane) when it starts a transfer; the consumer keeps it as an EDR.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from connector.controlplane.decisions import (
    PolicyDecider,
    explanation,
    permitted,
    policy_ancestors,
)
from connector.controlplane.edr_refresh import stamp_expiry
from connector.controlplane.process import (
    APPROVAL,
    ProcessManager,
    check_pids,
    load_for_peer,
    load_own,
    retrying,
)
from connector.domain import (
    CONSUMER,
    EDC_NS,
    KAREZ_NS,
    PROVIDER,
    AgreementRetirement,
    Asset,
    CallbackAddress,
    ContractAgreement,
    ContractNegotiation,
    EndpointDataReference,
    Json,
    OutboxMessage,
    TransferProcess,
    new_urn,
)
from connector.errors import Forbidden, InvalidStateTransition, NotFound, ValidationFailure
from connector.protocol import messages as m
from connector.protocol import negotiation as nsm
from connector.protocol import transfer as tsm
from connector.protocol.binding import join_url
from connector.protocol.transfer import TransferState as T
from connector.store.base import Session, Store

log = logging.getLogger(__name__)

REQUEST = "TransferRequestMessage"
START = "TransferStartMessage"
COMPLETION = "TransferCompletionMessage"
SUSPENSION = "TransferSuspensionMessage"
TERMINATION = "TransferTerminationMessage"

PATH_SUFFIX = {
    START: "start",
    COMPLETION: "completion",
    SUSPENSION: "suspension",
    TERMINATION: "termination",
}
SENDING_STATE = {
    REQUEST: T.REQUESTING,
    (START, PROVIDER): T.STARTING,
    (START, CONSUMER): T.RESUMING,
    COMPLETION: T.COMPLETING,
    SUSPENSION: T.SUSPENDING,
    TERMINATION: T.TERMINATING,
}
PULL = "HttpData-PULL"
PUSH = "HttpData-PUSH"
#: Push that goes on: what is added to the source while STARTED is sent too.
STREAM = "HttpData-STREAM"
SUPPORTED_TYPES = (PULL, PUSH, STREAM)
#: Extension properties of a TransferCompletionMessage: the SHA-256 and size of what was sent.
SHA256 = KAREZ_NS + "sha256"
BYTE_SIZE = KAREZ_NS + "byteSize"


def is_push(t: TransferProcess) -> bool:
    """Whether the provider sends (push or stream) rather than the consumer pulling."""
    return t.transfer_type in (PUSH, STREAM)


#: Issues the pull data address (endpoint + token) for a started provider transfer.
DataAddressIssuer = Callable[[TransferProcess], Json]
#: ``(transfer id, reason)``: a provider transfer left STARTED; its downloads must stop.
AccessEnded = Callable[[str, str], object]
#: Consumer: the DSP DataAddress a push goes to, for the destination its operator gave.
PushDestination = Callable[[TransferProcess], Awaitable[Json]]
#: Provider: a push transfer was started and the consumer knows it; move the data now.
PushReady = Callable[[str], object]


class TransferManager(ProcessManager):
    kind = "transfer"

    def __init__(
        self,
        store: Store,
        decider: PolicyDecider,
        participant_id: str,
        protocol_url: str,
        issue_data_address: DataAddressIssuer,
        *,
        default_approval: str = "auto",
        on_access_ended: AccessEnded | None = None,
        push_destination: PushDestination | None = None,
        on_push_ready: PushReady | None = None,
    ) -> None:
        super().__init__(
            store, decider, participant_id, protocol_url, default_approval=default_approval
        )
        self._issue = issue_data_address
        self._on_access_ended = on_access_ended
        self._push_destination = push_destination
        self._on_push_ready = on_push_ready

    async def _save(
        self,
        s: Session,
        process: Any,
        *,
        previous_state: str | None,
        outgoing: list[OutboxMessage] | None = None,
        new: bool = False,
    ) -> None:
        await super()._save(s, process, previous_state=previous_state, outgoing=outgoing, new=new)
        ended = previous_state == T.STARTED and process.state != T.STARTED
        if ended and process.role == PROVIDER and self._on_access_ended is not None:
            # the data stops now, not at the next check of a running download
            self._on_access_ended(process.id, f"transfer {process.state}")

    def _payload(self, t: TransferProcess) -> Json:
        return {
            "transferProcessId": t.id,
            "counterPartyId": t.counter_party_id,
            "contractId": t.agreement_id,
            "assetId": t.asset_id,
            "transferType": t.transfer_type,
            "state": t.state,
            "type": t.role,
        }

    def _outgoing(self, t: TransferProcess, send: str, reason: str | None) -> OutboxMessage | None:
        cpid, ppid = t.consumer_pid, t.provider_pid
        if send == REQUEST:
            body = m.transfer_request(
                cpid,
                t.agreement_id,
                t.transfer_type,
                self._protocol_url,
                data_address=t.push_address,
            )
            path = "transfers/request"
        else:
            if cpid is None or ppid is None:
                return None
            if send == START:
                pull = t.role == PROVIDER and not is_push(t)
                body = m.transfer_start(cpid, ppid, data_address=self._issue(t) if pull else None)
            elif send == COMPLETION:
                body = m.transfer_completion(cpid, ppid)
                if t.role == PROVIDER and t.sha256 is not None:
                    body[SHA256] = t.sha256
                    body[BYTE_SIZE] = t.byte_size
            elif send == SUSPENSION:
                body = m.transfer_suspension(cpid, ppid, code="SUSPENDED", reason=_reasons(reason))
            else:
                body = m.transfer_termination(
                    cpid, ppid, code="TERMINATED", reason=_reasons(reason)
                )
            pid = cpid if t.role == PROVIDER else ppid
            path = f"transfers/{pid}/{PATH_SUFFIX[send]}"
        m.check(body)  # everything Karez sends validates against the DSP schemas
        return OutboxMessage(
            id=str(uuid.uuid4()),
            process_id=t.id,
            process_kind="transfer",
            message_type=send,
            url=join_url(t.counter_party_address, path),
            body=body,
            counter_party_id=t.counter_party_id,
        )

    async def _apply_command(
        self,
        s: Session,
        t: TransferProcess,
        name: str,
        *,
        reason: str | None = None,
        previous_state: str | None = None,
        new: bool = False,
    ) -> None:
        before = previous_state if previous_state is not None else t.state
        tr = tsm.command(t.role, t.state, name)
        t.state = tr.state
        if reason and name in ("terminate", "suspend"):
            t.error_detail = reason
        msg = self._outgoing(t, tr.send, reason)
        if msg is None:
            t.state = T.TERMINATED
        await self._save(s, t, previous_state=before, outgoing=[msg] if msg else [], new=new)

    async def _policy_problem(
        self, s: Session, agreement: ContractAgreement, transfer_id: str | None = None
    ) -> str | None:
        """Re-evaluate the agreement's policy as a transfer starts (this start is one more use)."""
        return await agreement_problem(self._decider, s, agreement, transfer_id)

    # ------------------------------------------------------------------ consumer API
    async def initiate(
        self,
        *,
        counter_party_address: str,
        contract_id: str,
        transfer_type: str,
        data_destination: Json | None,
        callback_addresses: list[CallbackAddress],
        private_properties: Json,
        protocol: str,
    ) -> TransferProcess:
        async def run() -> TransferProcess:
            async with self._store.session() as s:
                t = await self._new_consumer_transfer(
                    s,
                    counter_party_address=counter_party_address,
                    contract_id=contract_id,
                    transfer_type=transfer_type,
                    data_destination=data_destination,
                    callback_addresses=callback_addresses,
                    private_properties=private_properties,
                    protocol=protocol,
                )
                if is_push(t):
                    t.push_address = await self._destination(t)
                await self._apply_command(s, t, "request", new=True, previous_state="")
                return t

        if transfer_type not in SUPPORTED_TYPES:
            raise ValidationFailure(
                f"unsupported transferType {transfer_type!r}; supported: "
                + ", ".join(SUPPORTED_TYPES),
                path="transferType",
                invalid_value=transfer_type,
            )
        if transfer_type in (PUSH, STREAM) and not data_destination:
            raise ValidationFailure(
                f"a {transfer_type} transfer needs a dataDestination", path="dataDestination"
            )
        t = await retrying(run)
        return t

    async def _destination(self, t: TransferProcess) -> Json:
        if self._push_destination is None:
            raise ValidationFailure("this node cannot receive pushed data", path="transferType")
        return await self._push_destination(t)

    async def _new_consumer_transfer(
        self,
        s: Session,
        *,
        counter_party_address: str,
        contract_id: str,
        transfer_type: str,
        data_destination: Json | None,
        callback_addresses: list[CallbackAddress],
        private_properties: Json,
        protocol: str,
    ) -> TransferProcess:
        agreement = await s.get(ContractAgreement, contract_id)
        if agreement is None or agreement.consumer_id != self.participant_id:
            raise ValidationFailure(
                f"no contract agreement {contract_id!r} with this node as consumer",
                path="contractId",
                invalid_value=contract_id,
            )
        tid = new_urn()
        return TransferProcess(
            id=tid,
            role=CONSUMER,
            state=T.INITIAL,
            counter_party_id=agreement.provider_id,
            counter_party_address=counter_party_address,
            agreement_id=agreement.id,
            transfer_type=transfer_type,
            consumer_pid=tid,
            protocol=protocol,
            asset_id=agreement.asset_id,
            data_destination=data_destination,
            callback_addresses=callback_addresses,
            private_properties=private_properties,
        )

    async def pull_after_finalized(self, s: Session, n: ContractNegotiation) -> None:
        """EDR flow: once a negotiation started through ``POST /v3/edrs`` is FINALIZED, start an
        HttpData-PULL transfer in the same transaction."""
        if not n.edr or n.agreement_id is None:
            return
        t = await self._new_consumer_transfer(
            s,
            counter_party_address=n.counter_party_address,
            contract_id=n.agreement_id,
            transfer_type="HttpData-PULL",
            data_destination=None,
            callback_addresses=n.callback_addresses,
            private_properties={},
            protocol=n.protocol,
        )
        await self._apply_command(s, t, "request", new=True, previous_state="")

    # ------------------------------------------------------------------ operator commands
    async def command(
        self, transfer_id: str, name: str, *, reason: str | None = None
    ) -> TransferProcess:
        async def run() -> TransferProcess:
            async with self._store.session() as s:
                t = await load_own(s, TransferProcess, transfer_id, "transfer process")
                if name == "start" and t.role == PROVIDER:
                    agreement = await s.get(ContractAgreement, t.agreement_id)
                    problem = (
                        await self._policy_problem(s, agreement, t.id)
                        if agreement
                        else "no agreement"
                    )
                    if problem:
                        raise ValidationFailure(problem, path="contractId")
                await self._apply_command(s, t, name, reason=reason)
                return t

        t = await retrying(run)
        return t

    async def deprovision(self, transfer_id: str) -> None:
        """EDC's ``deprovision``: Karez provisions nothing, so this only checks that the transfer
        has ended (its tokens already stopped working when it did)."""
        async with self._store.session() as s:
            t = await load_own(s, TransferProcess, transfer_id, "transfer process")
        if t.state not in (T.COMPLETED, T.TERMINATED):
            raise InvalidStateTransition(
                f"transfer {transfer_id} is {t.state}: deprovision needs COMPLETED or TERMINATED",
                state=t.state,
                path="id",
            )

    # ------------------------------------------------------------------ protocol: provider
    async def on_request(self, caller: str, msg: Json) -> tuple[TransferProcess, str]:
        async def run() -> tuple[TransferProcess, str]:
            async with self._store.session() as s:
                existing = await s.find_transfer(
                    PROVIDER, counter_party_id=caller, consumer_pid=msg["consumerPid"]
                )
                if existing is not None:
                    return existing, tsm.dsp_state(existing.state)
                agreement_id = msg["agreementId"]
                agreement = await s.get(ContractAgreement, agreement_id)
                if (
                    agreement is None
                    or agreement.provider_id != self.participant_id
                    or agreement.consumer_id != caller
                ):
                    raise ValidationFailure(
                        f"unknown agreement {agreement_id!r}",
                        path="agreementId",
                        invalid_value=agreement_id,
                    )
                negotiation = (
                    await s.get(ContractNegotiation, agreement.negotiation_id)
                    if agreement.negotiation_id
                    else None
                )
                if negotiation is None or negotiation.state != nsm.NegotiationState.FINALIZED:
                    raise ValidationFailure(
                        f"agreement {agreement_id!r} is not finalized",
                        path="agreementId",
                        invalid_value=agreement_id,
                    )
                fmt = msg["format"]
                if fmt not in SUPPORTED_TYPES:
                    raise ValidationFailure(
                        f"unsupported format {fmt!r}; supported: {', '.join(SUPPORTED_TYPES)}",
                        path="format",
                        invalid_value=fmt,
                    )
                push_address = msg.get("dataAddress")
                if fmt in (PUSH, STREAM):
                    _check_push_address(push_address)
                asset = await s.get(Asset, agreement.asset_id)
                tid = new_urn()
                t = TransferProcess(
                    id=tid,
                    role=PROVIDER,
                    state=tsm.initial_state(PROVIDER, REQUEST),
                    counter_party_id=caller,
                    counter_party_address=msg["callbackAddress"],
                    agreement_id=agreement.id,
                    transfer_type=fmt,
                    consumer_pid=msg["consumerPid"],
                    provider_pid=tid,
                    asset_id=agreement.asset_id,
                    push_address=push_address if fmt in (PUSH, STREAM) else None,
                    content_data_address=asset.data_address if asset else None,
                    private_properties={
                        k: v for k, v in negotiation.private_properties.items() if k == APPROVAL
                    },
                )
                await self._save(s, t, previous_state=None, new=True)
                problem = await self._policy_problem(s, agreement, t.id)
                if problem is None and asset is None:
                    problem = f"asset {agreement.asset_id} no longer exists"
                if problem:
                    await self._apply_command(s, t, "terminate", reason=problem)
                elif not self._manual(t):
                    await self._apply_command(s, t, "start")
                return t, "REQUESTED"

        t, state = await retrying(run)
        return t, state

    # ------------------------------------------------------------------ protocol: both sides
    async def on_message(
        self, caller: str, pid: str, message_type: str, msg: Json
    ) -> tuple[TransferProcess, str]:
        async def run() -> tuple[TransferProcess, str]:
            async with self._store.session() as s:
                t = await load_for_peer(s, TransferProcess, caller, pid, "transfer process")
                check_pids(t, msg)
                tr = tsm.receive(t.role, t.state, message_type)
                if tr.duplicate:
                    return t, tsm.dsp_state(t.state)
                before = t.state
                t.state = tr.state
                if t.role == CONSUMER and t.provider_pid is None and msg.get("providerPid"):
                    t.provider_pid = msg["providerPid"]
                if message_type in (TERMINATION, SUSPENSION):
                    reasons = msg.get("reason") or []
                    if reasons:
                        t.error_detail = "; ".join(str(r) for r in reasons)
                if t.role == CONSUMER and message_type == START and not is_push(t):
                    await self._store_edr(s, t, msg.get("dataAddress"))
                if t.role == CONSUMER and message_type == COMPLETION:
                    _record_digest(t, msg)
                await self._save(s, t, previous_state=before)
                if t.role == PROVIDER and t.state == T.RESUMING and not self._manual(t):
                    await self._apply_command(s, t, "start")
                return t, tsm.dsp_state(tr.state)

        t, state = await retrying(run)
        return t, state

    async def _store_edr(self, s: Session, t: TransferProcess, data_address: Any) -> None:
        if not isinstance(data_address, dict):
            return
        props: dict[str, Any] = dict(m.endpoint_properties(data_address))
        # EDC providers name the properties with full EDC IRIs; the DSP examples use short names
        authorization = props.pop("authorization", None) or props.pop(EDC_NS + "authorization", "")
        endpoint = data_address.get("endpoint") or props.pop(EDC_NS + "endpoint", "")
        stamp_expiry(props)
        agreement = await s.get(ContractAgreement, t.agreement_id)
        edr = EndpointDataReference(
            transfer_process_id=t.id,
            agreement_id=t.agreement_id,
            asset_id=t.asset_id,
            provider_id=t.counter_party_id,
            contract_negotiation_id=agreement.negotiation_id if agreement else None,
            endpoint=str(endpoint),
            authorization=str(authorization),
            endpoint_type=str(data_address.get("endpointType", "")),
            properties=props,
        )
        if await s.get(EndpointDataReference, t.id) is None:
            await s.insert(edr)
        else:
            await s.update(edr)

    async def get_for_peer(self, caller: str, pid: str) -> TransferProcess:
        async with self._store.session() as s:
            return await load_for_peer(s, TransferProcess, caller, pid, "transfer process")

    # ------------------------------------------------------------------ outbox answers
    async def on_delivered(self, s: Session, msg: OutboxMessage, body: Any) -> None:
        t = await s.get(TransferProcess, msg.process_id)
        if t is None:
            return
        key: Any = (msg.message_type, t.role) if msg.message_type == START else msg.message_type
        state = await self._acknowledge(s, t, SENDING_STATE.get(key), body, tsm.acknowledged)
        ready = msg.message_type == START and t.role == PROVIDER and is_push(t)
        if ready and state == T.STARTED and self._on_push_ready is not None:
            self._on_push_ready(t.id)

    # ------------------------------------------------------------------ consumer inbox
    async def inbox_folder(self, transfer_id: str, provider_id: str) -> tuple[str, str]:
        """Consumer: ``(folder, default file name)`` a push of ``transfer_id`` writes into."""
        async with self._store.session() as s:
            t = await s.get(TransferProcess, transfer_id)
        if t is None or t.role != CONSUMER or t.counter_party_id != provider_id or not is_push(t):
            raise Forbidden("the token names no push transfer of this node")
        if t.state != T.STARTED:
            raise Forbidden(f"transfer {transfer_id} is {t.state}, not STARTED")
        folder = _prop(t.data_destination, "folder")
        if not folder:
            raise Forbidden("this transfer does not push into a local folder")
        return folder, t.asset_id or "data"

    async def record_received(self, transfer_id: str, entry: Json) -> None:
        """Consumer: a file arrived in the inbox folder (path, size, sha256)."""

        async def run() -> None:
            async with self._store.session() as s:
                t = await load_own(s, TransferProcess, transfer_id, "transfer process")
                t.received = [e for e in t.received if e.get("path") != entry["path"]] + [entry]
                await s.update(t)

        await retrying(run)

    async def record_fetch(
        self, transfer_id: str, fetch: Json, received: list[Json] | None = None
    ) -> TransferProcess:
        """Consumer: the state of a fetch into a local folder (and the files it wrote)."""

        async def run() -> TransferProcess:
            async with self._store.session() as s:
                t = await load_own(s, TransferProcess, transfer_id, "transfer process")
                t.fetch = fetch
                if received is not None:
                    t.received = received
                await s.update(t)
                return t

        return await retrying(run)

    # ------------------------------------------------------------------ push results
    async def push_done(self, transfer_id: str, byte_size: int, sha256: str | None) -> None:
        """Provider: the push moved everything; record what was sent and complete."""

        async def run() -> None:
            async with self._store.session() as s:
                t = await load_own(s, TransferProcess, transfer_id, "transfer process")
                if t.state != T.STARTED:
                    return  # suspended or ended meanwhile: nothing to complete
                t.sha256, t.byte_size = sha256, byte_size
                await self._apply_command(s, t, "complete")

        await retrying(run)

    async def stream_progress(self, transfer_id: str, cursor: Json, bytes_sent: int) -> bool:
        """Provider: a stream round sent ``bytes_sent`` more; keep its cursor. False once the
        transfer is no longer STARTED (the stream must end)."""

        async def run() -> bool:
            async with self._store.session() as s:
                t = await load_own(s, TransferProcess, transfer_id, "transfer process")
                if t.state != T.STARTED:
                    return False
                t.stream_cursor = cursor
                t.byte_size = (t.byte_size or 0) + bytes_sent
                await s.update(t)
                return True

        return await retrying(run)

    async def push_failed(self, transfer_id: str, reason: str) -> None:
        """Provider: the push failed while the transfer was still STARTED; terminate it."""

        async def run() -> None:
            async with self._store.session() as s:
                t = await load_own(s, TransferProcess, transfer_id, "transfer process")
                if t.state == T.STARTED:
                    await self._apply_command(s, t, "terminate", reason=reason)

        await retrying(run)

    async def on_failed(self, s: Session, msg: OutboxMessage, error: str) -> None:
        t = await s.get(TransferProcess, msg.process_id)
        if t is None or t.state in (T.COMPLETED, T.TERMINATED):
            return
        before = t.state
        t.state = T.TERMINATED
        t.error_detail = f"{msg.message_type} failed: {error}"
        await self._save(s, t, previous_state=before)


def _check_push_address(address: Any) -> None:
    """A push's DataAddress must name an http(s) endpoint."""
    endpoint = address.get("endpoint") if isinstance(address, dict) else None
    if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
        raise ValidationFailure(
            "a push transfer needs a dataAddress with an http(s) endpoint",
            path="dataAddress.endpoint",
        )
    m.endpoint_properties(address)  # well-formed properties, or a ValidationFailure


def _prop(address: Json | None, name: str) -> str | None:
    """A string property of an EDC-compact data address (short or full EDC name)."""
    if not address:
        return None
    value = address.get(name, address.get(EDC_NS + name))
    return value if isinstance(value, str) and value else None


def _record_digest(t: TransferProcess, msg: Json) -> None:
    sha, size = msg.get(SHA256), msg.get(BYTE_SIZE)
    if isinstance(sha, str) and len(sha) == 64:
        t.sha256 = sha.lower()
    if isinstance(size, int) and not isinstance(size, bool) and size >= 0:
        t.byte_size = size


def _reasons(reason: str | None) -> list[str] | None:
    return [reason] if reason else None


class DataAccess:
    """Decides, for each request to the public data plane, whether a token still grants data.

    The token only names the transfer; the transfer's current state and the agreement's policy
    decide, so suspension, termination or an expired window stop access at once.
    """

    def __init__(self, store: Store, decider: PolicyDecider) -> None:
        self._store = store
        self._decider = decider

    async def check_refresh(self, transfer_id: str, consumer_id: str) -> TransferProcess:
        """A refresh is granted only for a STARTED transfer of this consumer."""
        async with self._store.session() as s:
            t = await s.get(TransferProcess, transfer_id)
        if t is None or t.role != PROVIDER or t.counter_party_id != consumer_id:
            raise Forbidden("the refresh token names no transfer of this consumer")
        if t.state != T.STARTED:
            raise Forbidden(f"transfer {transfer_id} is {t.state}, not STARTED")
        return t

    async def record_served(self, transfer_id: str, byte_size: int, sha256: str) -> None:
        """A whole representation was served for ``transfer_id``: keep its size and SHA-256
        with the transfer (they ride in a completion the provider sends)."""

        async def run() -> None:
            async with self._store.session() as s:
                t = await s.get(TransferProcess, transfer_id)
                if t is None or t.role != PROVIDER:
                    return
                t.sha256, t.byte_size = sha256, byte_size
                await s.update(t)

        await retrying(run)

    async def still_granted(
        self, transfer_id: str, agreement_id: str, consumer_id: str
    ) -> str | None:
        """None while the token's transfer may still receive data, else why not."""
        try:
            await self.data_address(transfer_id, agreement_id, consumer_id)
        except (Forbidden, NotFound) as exc:
            return exc.message
        return None

    async def data_address(
        self,
        transfer_id: str,
        agreement_id: str,
        consumer_id: str,
        asset_id: str | None = None,
    ) -> Json:
        async with self._store.session() as s:
            t = await s.get(TransferProcess, transfer_id)
            if t is None or t.role != PROVIDER or t.counter_party_id != consumer_id:
                raise Forbidden("the token names no transfer of this consumer")
            if t.agreement_id != agreement_id:
                raise Forbidden("the token was issued for another agreement")
            if asset_id is not None and asset_id != (t.asset_id or ""):
                raise Forbidden("the token was issued for another asset")
            if t.state != T.STARTED:
                raise Forbidden(f"transfer {transfer_id} is {t.state}, not STARTED")
            agreement = await s.get(ContractAgreement, agreement_id)
            if agreement is None:
                raise Forbidden("the agreement no longer exists")
            problem = await agreement_problem(self._decider, s, agreement, t.id)
        if problem:
            raise Forbidden(problem)
        if not t.content_data_address:
            raise NotFound("the dataset has no data address")
        return t.content_data_address


#: States of a provider transfer that has been started (a use of the agreement).
_USED = frozenset(
    {T.STARTING, T.STARTED, T.SUSPENDING, T.SUSPENDED, T.RESUMING, T.COMPLETING, T.COMPLETED}
)


async def agreement_problem(
    decider: PolicyDecider,
    s: Session,
    agreement: ContractAgreement,
    transfer_id: str | None,
) -> str | None:
    """Why the agreement no longer grants the data (retired; its policy's time windows, use
    counts, dataset facts), or None. The transfer ``transfer_id`` (starting or started) counts
    as one use."""
    retired = await s.get(AgreementRetirement, agreement.id)
    if retired is not None:
        return f"the agreement was retired: {retired.reason}"
    others = [
        t
        for t in await s.transfers_for_agreement(agreement.id)
        if t.role == PROVIDER and t.id != transfer_id and t.state in _USED
    ]
    uses = len(others) + 1  # this transfer, starting or started
    asset = await s.get(Asset, agreement.asset_id)
    await decider.refresh_claims(s, agreement.consumer_id)
    decision = decider.decide(
        agreement.policy,
        agreement.consumer_id,
        "transfer",
        asset_id=agreement.asset_id,
        asset=asset,
        agreement_time=datetime.fromtimestamp(agreement.signing_date / 1000, UTC),
        use_count=uses,
        parents=await policy_ancestors(s, agreement.policy),
    )
    if permitted(decision):
        return None
    return "policy denied: " + ("; ".join(explanation(decision)) or "not satisfied")
