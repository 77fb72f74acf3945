"""Contract negotiations on both sides: persisted state machines driven by messages,
operator commands and automatic decisions.

Every change is one transaction: the new state, the agreement if any, and the messages to
send (outbox) are written together. The protocol rules themselves live in
``connector.protocol.negotiation`` (pure); this module only applies them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from connector.controlplane.decisions import (
    PolicyDecider,
    explanation,
    permitted,
    record,
    resolved_policy,
)
from connector.controlplane.offers import agreement_from_offer, make_offer, parse_offer_id
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
    PROVIDER,
    Asset,
    CallbackAddress,
    ContractAgreement,
    ContractDefinition,
    ContractNegotiation,
    Json,
    OutboxMessage,
    PolicyDefinition,
    new_urn,
)
from connector.errors import (
    InvalidStateTransition,
    ValidationFailure,
)
from connector.policy import same_terms
from connector.protocol import messages as m
from connector.protocol import negotiation as nsm
from connector.protocol.binding import join_url
from connector.protocol.negotiation import NegotiationState as S
from connector.store.base import Session, Store

log = logging.getLogger(__name__)

REQUEST = "ContractRequestMessage"
OFFER = "ContractOfferMessage"
AGREEMENT = "ContractAgreementMessage"
VERIFICATION = "ContractAgreementVerificationMessage"
EVENT = "ContractNegotiationEventMessage"
TERMINATION = "ContractNegotiationTerminationMessage"

#: The state a process is in while the message it sent waits for the peer's ACK.
SENDING_STATE = {
    REQUEST: S.REQUESTING,
    OFFER: S.OFFERING,
    AGREEMENT: S.AGREEING,
    VERIFICATION: S.VERIFYING,
    TERMINATION: S.TERMINATING,
    (EVENT, "ACCEPTED"): S.ACCEPTING,
    (EVENT, "FINALIZED"): S.FINALIZING,
}


def _iso_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class NegotiationManager(ProcessManager):
    kind = "negotiation"

    def __init__(
        self,
        store: Store,
        decider: PolicyDecider,
        participant_id: str,
        protocol_url: str,
        *,
        default_approval: str = "auto",
        on_finalized: Callable[[Session, ContractNegotiation], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(
            store, decider, participant_id, protocol_url, default_approval=default_approval
        )
        self.on_finalized = on_finalized

    def _outgoing(
        self,
        n: ContractNegotiation,
        send: str,
        event_type: str | None,
        reason: str | None,
        agreement: Json | None,
    ) -> OutboxMessage | None:
        """The outbox message for ``send``, or None when the peer cannot be addressed yet."""
        cpid, ppid = n.consumer_pid, n.provider_pid
        base = n.counter_party_address
        if send == REQUEST:
            offer = n.offers[-1]
            if ppid is None:
                body = m.contract_request(cpid, offer, callback_address=self._protocol_url)
                path = "negotiations/request"
            else:
                body = m.contract_request(cpid, offer, provider_pid=ppid)
                path = f"negotiations/{ppid}/request"
        elif send == OFFER:
            if cpid is None:
                return None
            body = m.contract_offer(ppid, n.offers[-1], consumer_pid=cpid)
            path = f"negotiations/{cpid}/offers"
        elif send == AGREEMENT:
            body = m.contract_agreement(cpid, ppid, agreement)
            path = f"negotiations/{cpid}/agreement"
        elif send == VERIFICATION:
            body = m.agreement_verification(cpid, ppid)
            path = f"negotiations/{ppid}/agreement/verification"
        elif send == EVENT:
            body = m.negotiation_event(cpid, ppid, event_type)
            pid = cpid if n.role == PROVIDER else ppid
            path = f"negotiations/{pid}/events"
        elif send == TERMINATION:
            if cpid is None or ppid is None:
                return None
            body = m.negotiation_termination(
                cpid, ppid, code="TERMINATED", reason=[reason] if reason else None
            )
            pid = cpid if n.role == PROVIDER else ppid
            path = f"negotiations/{pid}/termination"
        else:  # pragma: no cover - the state machine names only the types above
            raise ValueError(send)
        m.check(body)  # everything Karez sends validates against the DSP schemas
        return OutboxMessage(
            id=str(uuid.uuid4()),
            process_id=n.id,
            process_kind="negotiation",
            message_type=send if send != EVENT else f"{EVENT}:{event_type}",
            url=join_url(base, path),
            body=body,
            counter_party_id=n.counter_party_id,
        )

    def _payload(self, n: ContractNegotiation) -> Json:
        return {
            "contractNegotiationId": n.id,
            "counterPartyId": n.counter_party_id,
            "counterPartyAddress": n.counter_party_address,
            "protocol": n.protocol,
            "state": n.state,
            "contractAgreementId": n.agreement_id,
            "type": n.role,
        }

    async def _apply_command(
        self,
        s: Session,
        n: ContractNegotiation,
        name: str,
        *,
        reason: str | None = None,
        new: bool = False,
        previous_state: str | None = None,
    ) -> None:
        """Run command ``name`` on ``n`` and store the result with its outgoing message."""
        before = previous_state if previous_state is not None else n.state
        t = nsm.command(n.role, n.state, name)
        n.state = t.state
        agreement = await self._make_agreement(s, n) if name == "agree" else None
        if name == "terminate" and reason:
            n.error_detail = reason
        msg = self._outgoing(n, t.send, t.event_type, reason, agreement)
        if msg is None:
            # the peer cannot be addressed (it never told us its id): end locally
            n.state = S.TERMINATED
        await self._save(s, n, previous_state=before, outgoing=[msg] if msg else [], new=new)

    async def _make_agreement(self, s: Session, n: ContractNegotiation) -> Json:
        offer = n.offers[-1]
        agreement_id = n.agreement_id or new_urn()
        consumer_id = n.counter_party_id
        policy = agreement_from_offer(
            offer,
            agreement_id,
            n.asset_id or offer.get("target", ""),
            self.participant_id,
            consumer_id,
            _iso_now(),
        )
        existing = await s.get(ContractAgreement, agreement_id) if n.agreement_id else None
        n.agreement_id = agreement_id
        agreement = ContractAgreement(
            id=agreement_id,
            provider_id=self.participant_id,
            consumer_id=consumer_id,
            asset_id=policy["target"],
            policy=policy,
            negotiation_id=n.id,
        )
        if existing is None:
            await s.insert(agreement)
        else:
            await s.update(agreement)
        return policy

    async def _auto(self, s: Session, n: ContractNegotiation, previous_state: str) -> bool:
        """Take the automatic next step if approval is automatic. True if one was taken."""
        if self._manual(n):
            return False
        name = None
        if n.role == PROVIDER and n.state == S.ACCEPTED:
            name = "agree"
        elif n.role == PROVIDER and n.state == S.VERIFIED:
            name = "finalize"
        elif n.role == CONSUMER and n.state == S.OFFERED:
            name = "accept"
        elif n.role == CONSUMER and n.state == S.AGREED:
            name = "verify"
        if name is None:
            return False
        await self._apply_command(s, n, name, previous_state=previous_state)
        return True

    # ------------------------------------------------------------------ consumer API
    async def initiate(
        self,
        *,
        counter_party_address: str,
        counter_party_id: str,
        offer: Json,
        callback_addresses: list[CallbackAddress],
        private_properties: Json,
        protocol: str,
        edr: bool = False,
    ) -> ContractNegotiation:
        """Start a negotiation as consumer (Management API ``POST /v3/contractnegotiations``)."""
        target = offer.get("target")
        if not isinstance(target, str) or not target:
            raise ValidationFailure(
                "the offer needs a target (the dataset id)", path="policy.target"
            )
        if not isinstance(offer.get("@id"), str):
            raise ValidationFailure("the offer needs an @id", path="policy.@id")
        nid = new_urn()
        n = ContractNegotiation(
            id=nid,
            role=CONSUMER,
            state=S.INITIAL,
            counter_party_id=counter_party_id,
            counter_party_address=counter_party_address,
            consumer_pid=nid,
            protocol=protocol,
            asset_id=target,
            offers=[offer],
            last_offer_by=CONSUMER,
            callback_addresses=callback_addresses,
            private_properties=private_properties,
            edr=edr,
        )

        async def run() -> None:
            async with self._store.session() as s:
                await self._apply_command(s, n, "request", new=True, previous_state="")

        await run()
        return n

    # ------------------------------------------------------------------ operator commands
    async def command(
        self,
        negotiation_id: str,
        name: str,
        *,
        policy: Json | None = None,
        reason: str | None = None,
    ) -> ContractNegotiation:
        """An operator's decision: counter, agree, accept, verify, finalize, terminate."""

        async def run() -> ContractNegotiation:
            async with self._store.session() as s:
                n = await load_own(s, ContractNegotiation, negotiation_id, "contract negotiation")
                before = n.state
                if name == "counter":
                    if policy is None:
                        raise ValidationFailure("a counter needs a policy", path="policy")
                    counter = dict(policy)
                    counter.setdefault("@id", new_urn())
                    counter["@type"] = "Offer"
                    counter["target"] = n.asset_id or counter.get("target")
                    if n.role == PROVIDER:
                        counter["assigner"] = self.participant_id
                    nsm.command(n.role, n.state, "counter")  # check before changing anything
                    n.offers.append(counter)
                    n.last_offer_by = n.role
                await self._apply_command(s, n, name, reason=reason, previous_state=before)
                return n

        n = await retrying(run)
        return n

    async def delete(self, negotiation_id: str) -> None:
        """Forget a TERMINATED negotiation (EDC's ``DELETE``); any other state is a conflict."""
        async with self._store.session() as s:
            n = await load_own(s, ContractNegotiation, negotiation_id, "contract negotiation")
            if n.state != S.TERMINATED:
                raise InvalidStateTransition(
                    f"only a TERMINATED negotiation can be deleted; this one is {n.state}",
                    state=n.state,
                    path="id",
                )
            await s.delete(ContractNegotiation, negotiation_id)

    # ------------------------------------------------------------------ protocol: provider
    async def on_initial_request(self, caller: str, msg: Json) -> tuple[ContractNegotiation, str]:
        """A consumer's first ContractRequestMessage. Returns (negotiation, DSP state to ACK)."""
        consumer_pid = msg["consumerPid"]
        offer = msg["offer"]

        async def run() -> tuple[ContractNegotiation, str]:
            async with self._store.session() as s:
                existing = await s.find_negotiation(
                    PROVIDER, counter_party_id=caller, consumer_pid=consumer_pid
                )
                if existing is not None:  # a repeated request: answer as before
                    return existing, nsm.dsp_state(existing.state)
                definition, asset, contract = await self._offered_terms(s, offer)
                # the terms as offered: inherited rules merged in, as the catalog showed them
                contract = replace(contract, policy=await resolved_policy(s, contract.policy))
                nid = new_urn()
                n = ContractNegotiation(
                    id=nid,
                    role=PROVIDER,
                    state=nsm.initial_state(PROVIDER, REQUEST),
                    counter_party_id=caller,
                    counter_party_address=msg["callbackAddress"],
                    consumer_pid=consumer_pid,
                    provider_pid=nid,
                    asset_id=asset.id,
                    offers=[offer],
                    last_offer_by=CONSUMER,
                    contract_definition_id=definition.id,
                    private_properties={
                        k: v for k, v in definition.private_properties.items() if k == APPROVAL
                    },
                )
                offered = make_offer(definition, asset, contract, self.participant_id)
                same, why = same_terms(offered, offer)
                reason = None
                if not same:
                    n.decision = {
                        "permitted": False,
                        "reason": f"the request changes the offer: {why}",
                    }
                    reason = f"request does not match offer {offer['@id']}: {why}"
                else:
                    decision = self._decider.decide(
                        contract.policy,
                        caller,
                        "negotiation",
                        asset=asset,
                    )
                    n.decision = record(decision)
                    if not permitted(decision):
                        why = "; ".join(explanation(decision)) or "policy not satisfied"
                        reason = f"policy denied: {why}"
                # one write: the new negotiation with its first decision and message
                if reason is not None:
                    await self._apply_command(
                        s, n, "terminate", reason=reason, new=True, previous_state=""
                    )
                elif self._manual(n):
                    await self._save(s, n, previous_state="", new=True)
                else:
                    await self._apply_command(s, n, "agree", new=True, previous_state="")
                return n, "REQUESTED"

        n, state = await retrying(run)
        return n, state

    async def _offered_terms(
        self, s: Session, offer: Json
    ) -> tuple[ContractDefinition, Asset, PolicyDefinition]:
        ref = parse_offer_id(str(offer.get("@id", "")))
        unknown = ValidationFailure(
            f"unknown offer {offer.get('@id')!r}: not an offer of this provider",
            path="offer.@id",
            invalid_value=offer.get("@id"),
        )
        if ref is None:
            raise unknown
        definition = await s.get(ContractDefinition, ref.definition_id)
        asset = await s.get(Asset, ref.asset_id)
        if definition is None or asset is None:
            raise unknown
        contract = await s.get(PolicyDefinition, definition.contract_policy_id)
        if contract is None:
            raise unknown
        target = offer.get("target")
        if target is not None and target != asset.id:
            raise ValidationFailure(
                f"offer target {target!r} is not the dataset of offer {offer['@id']!r}",
                path="offer.target",
                invalid_value=target,
            )
        return definition, asset, contract

    async def on_message(
        self, caller: str, pid: str, message_type: str, msg: Json
    ) -> tuple[ContractNegotiation, str]:
        """Any message about an existing negotiation, on either side. Returns the ACK state."""

        async def run() -> tuple[ContractNegotiation, str]:
            async with self._store.session() as s:
                n = await load_for_peer(s, ContractNegotiation, caller, pid, "contract negotiation")
                check_pids(n, msg)
                event_type = msg.get("eventType")
                if isinstance(event_type, str) and event_type.startswith("dspace:"):
                    event_type = event_type.split(":", 1)[1]
                t = nsm.receive(
                    n.role,
                    n.state,
                    message_type,
                    event_type=event_type,
                    last_offer_by=n.last_offer_by,
                )
                if t.duplicate:
                    return n, nsm.dsp_state(n.state)
                before = n.state
                if n.role == CONSUMER and n.provider_pid is None and msg.get("providerPid"):
                    n.provider_pid = msg["providerPid"]
                n.state = t.state
                await self._on_received(s, n, message_type, msg, before)
                return n, nsm.dsp_state(t.state)

        n, state = await retrying(run)
        return n, state

    async def _on_received(
        self, s: Session, n: ContractNegotiation, message_type: str, msg: Json, before: str
    ) -> None:
        if message_type == TERMINATION:
            reasons = msg.get("reason") or []
            text = "; ".join(str(r) for r in reasons) if reasons else "no reason given"
            n.error_detail = f"terminated by the counter-party: {text}"
            await self._save(s, n, previous_state=before)
            return
        if message_type == OFFER:
            n.offers.append(msg["offer"])
            n.last_offer_by = PROVIDER
        elif message_type == REQUEST:
            n.offers.append(msg["offer"])
            n.last_offer_by = CONSUMER
            await self._save(s, n, previous_state=before)
            await self._decide_counter_request(s, n)
            return
        elif message_type == AGREEMENT:
            problem = self._check_agreement(n, msg["agreement"])
            agreement = msg["agreement"]
            n.agreement_id = agreement["@id"]
            if problem:
                await self._save(s, n, previous_state=before)
                await self._apply_command(s, n, "terminate", reason=problem)
                return
            await self._store_agreement(s, n, agreement)
        elif message_type == EVENT and n.state == S.FINALIZED:
            await self._save(s, n, previous_state=before)
            if n.role == CONSUMER and self.on_finalized is not None:
                await self.on_finalized(s, n)
            return
        await self._save(s, n, previous_state=before)
        await self._auto(s, n, n.state)

    async def _decide_counter_request(self, s: Session, n: ContractNegotiation) -> None:
        """Provider: the consumer countered our offer. Agree if it carries our last offer's
        terms, refuse if not; with manual approval the operator decides either way."""
        if self._manual(n):
            return
        ours, requested = n.offers[-2], n.offers[-1]  # a counter comes only after our offer
        same, why = same_terms(ours, requested)
        if same:
            await self._apply_command(s, n, "agree")
        else:
            await self._apply_command(
                s,
                n,
                "terminate",
                reason=f"counter-request not accepted: it differs from the provider's offer: {why}",
            )

    def _check_agreement(self, n: ContractNegotiation, agreement: Json) -> str | None:
        """Consumer: the agreement must carry the terms we last saw, for us, on our dataset."""
        if agreement.get("target") != n.asset_id:
            return f"agreement target {agreement.get('target')!r} is not {n.asset_id!r}"
        if agreement.get("assignee") not in (None, self.participant_id):
            return f"agreement assignee {agreement.get('assignee')!r} is not this participant"
        if agreement.get("assigner") not in (None, n.counter_party_id):
            return f"agreement assigner {agreement.get('assigner')!r} is not the provider"
        same, why = same_terms(n.offers[-1], agreement)
        if not same:
            return f"agreement terms differ from the last offer: {why}"
        return None

    async def _store_agreement(self, s: Session, n: ContractNegotiation, agreement: Json) -> None:
        record_ = ContractAgreement(
            id=agreement["@id"],
            provider_id=n.counter_party_id,
            consumer_id=self.participant_id,
            asset_id=agreement["target"],
            policy=agreement,
            negotiation_id=n.id,
        )
        if await s.get(ContractAgreement, record_.id) is None:
            await s.insert(record_)
        else:
            await s.update(record_)

    # ------------------------------------------------------------------ protocol: consumer
    async def on_initial_offer(self, caller: str, msg: Json) -> tuple[ContractNegotiation, str]:
        """A provider-initiated negotiation (ContractOfferMessage without consumerPid)."""

        async def run() -> tuple[ContractNegotiation, str]:
            async with self._store.session() as s:
                existing = await s.find_negotiation(
                    CONSUMER, counter_party_id=caller, provider_pid=msg["providerPid"]
                )
                if existing is not None:
                    return existing, nsm.dsp_state(existing.state)
                nid = new_urn()
                offer = msg["offer"]
                n = ContractNegotiation(
                    id=nid,
                    role=CONSUMER,
                    state=nsm.initial_state(CONSUMER, OFFER),
                    counter_party_id=caller,
                    counter_party_address=msg["callbackAddress"],
                    consumer_pid=nid,
                    provider_pid=msg["providerPid"],
                    asset_id=offer.get("target"),
                    offers=[offer],
                    last_offer_by=PROVIDER,
                    # an unsolicited offer always waits for the operator
                    private_properties={APPROVAL: "manual"},
                )
                await self._save(s, n, previous_state=None, new=True)
                return n, nsm.dsp_state(n.state)

        return await retrying(run)

    async def get_for_peer(self, caller: str, pid: str) -> ContractNegotiation:
        async with self._store.session() as s:
            return await load_for_peer(s, ContractNegotiation, caller, pid, "contract negotiation")

    # ------------------------------------------------------------------ outbox answers
    async def on_delivered(self, s: Session, msg: OutboxMessage, body: Any) -> None:
        n = await s.get(ContractNegotiation, msg.process_id)
        if n is None:
            return
        kind, _, event = msg.message_type.partition(":")
        sent_state = SENDING_STATE.get((kind, event) if event else kind)
        new_state = await self._acknowledge(s, n, sent_state, body, nsm.acknowledged)
        if new_state == S.FINALIZED and n.role == CONSUMER and self.on_finalized is not None:
            await self.on_finalized(s, n)

    async def on_failed(self, s: Session, msg: OutboxMessage, error: str) -> None:
        n = await s.get(ContractNegotiation, msg.process_id)
        if n is None or n.state in (S.FINALIZED, S.TERMINATED):
            return
        before = n.state
        n.state = S.TERMINATED
        n.error_detail = f"{msg.message_type.split(':')[0]} failed: {error}"
        await self._save(s, n, previous_state=before)


__all__ = ["NegotiationManager", "InvalidStateTransition"]
