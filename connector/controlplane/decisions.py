"""Policy decisions for a caller: builds the request context and asks the policy engine.

The claims about a participant come through one interface (:class:`ClaimsSource`); until the
identity issue lands they come from the configured list of trusted participants.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol

from connector.controlplane.profile_operands import (
    dataset_facts,
    profile_actions,
    profile_registry,
)
from connector.domain import Asset, Json, PolicyDefinition
from connector.errors import ValidationFailure
from connector.policy import Decision, Policy, RequestContext, evaluate, parse_policy
from connector.policy.inherit import resolve_inheritance
from connector.store.base import Session


class ClaimsSource(Protocol):
    def claims_for(self, participant_id: str) -> dict[str, Any]: ...


class ConfiguredClaims:
    """Claims from the node's configuration: the participant's id, display name and the
    profile claims written for it (clusters, organisation type, jurisdiction, ...)."""

    def __init__(
        self, names: dict[str, str | None], claims: dict[str, dict[str, Any]] | None = None
    ) -> None:
        self._names = names
        self._claims = claims or {}

    def claims_for(self, participant_id: str) -> dict[str, Any]:
        claims: dict[str, Any] = dict(self._claims.get(participant_id, {}))
        claims["participantId"] = participant_id
        name = self._names.get(participant_id)
        if name:
            claims["name"] = name
        return claims


@lru_cache(maxsize=1024)
def _parsed(policy_json: str) -> Policy:
    """Parsing costs more than deciding: a policy is parsed once per distinct content."""
    return parse_policy(json.loads(policy_json))


def has_rules(policy: Json) -> bool:
    return any(policy.get(k) for k in ("permission", "prohibition", "obligation"))


class PolicyDecider:
    def __init__(self, claims: ClaimsSource) -> None:
        self._claims = claims

    async def refresh_claims(self, session: Session, participant_id: str) -> None:
        """Re-read a participant's stored claims (in ``session``) where the source keeps them
        in the store, so that a replica decides with what another replica verified."""
        refresh = getattr(self._claims, "refresh", None)
        if refresh is not None:
            await refresh(session, participant_id)

    def decide(
        self,
        policy: Json,
        participant_id: str,
        scope: str,
        *,
        asset_id: str | None = None,
        asset: Asset | None = None,
        agreement_time: datetime | None = None,
        use_count: int | None = None,
        now: datetime | None = None,
        parents: dict[str, Json] | None = None,
    ) -> Decision | None:
        """The engine's decision, or None for a policy without rules (open, as in EDC)."""
        if not has_rules(policy):
            return None
        moment = now or datetime.now(UTC)
        ctx = RequestContext(
            participant_id=participant_id,
            claims=self._claims.claims_for(participant_id),
            asset_id=asset_id or (asset.id if asset else None),
            now=moment,
            # before an agreement exists (catalog, negotiation) it would be made now, unused
            agreement_time=agreement_time or moment,
            use_count=0 if use_count is None else use_count,
            scope=scope,
            values=dataset_facts(asset),
        )
        return evaluate(
            _parsed(json.dumps(policy, sort_keys=True)),
            ctx,
            profile_registry(),
            actions=profile_actions(),
            lookup=(parents or {}).get,
            trace=True,  # so a refusal can show the values its rule saw
        )


def permitted(decision: Decision | None) -> bool:
    return decision is None or decision.permitted


def explanation(decision: Decision | None) -> list[str]:
    return [] if decision is None else list(decision.explain())


def record(decision: Decision | None) -> Json | None:
    return None if decision is None else decision.to_record()


MAX_ANCESTORS = 16


async def policy_ancestors(session: Session, policy: Json) -> dict[str, Json]:
    """The policies ``policy`` inherits from (``inheritFrom`` names policy definitions),
    transitively and bounded; a missing one is left out, so the decision fails closed."""
    found: dict[str, Json] = {}
    todo = list(_parent_ids(policy))
    while todo and len(found) < MAX_ANCESTORS:
        iri = todo.pop()
        if iri in found:
            continue
        definition = await session.get(PolicyDefinition, iri)
        if definition is None:
            continue
        found[iri] = definition.policy
        todo.extend(_parent_ids(definition.policy))
    return found


def _parent_ids(policy: Json) -> list[str]:
    parents = policy.get("inheritFrom") or []
    return [str(p) for p in (parents if isinstance(parents, list) else [parents])]


def flatten(policy: Json, lookup: Callable[[str], Json | None]) -> Json:
    """``policy`` with the rules it inherits merged in, as a self-contained policy (what an
    offer shows and an agreement records). Unchanged if it inherits nothing or a parent is
    missing; then the decision fails closed and says which."""
    if not policy.get("inheritFrom"):
        return policy
    try:
        return resolve_inheritance(parse_policy(policy), lookup).to_json()
    except ValidationFailure:
        return policy


async def resolved_policy(session: Session, policy: Json) -> Json:
    """:func:`flatten` with the parents read from the store."""
    if not policy.get("inheritFrom"):
        return policy
    return flatten(policy, (await policy_ancestors(session, policy)).get)
