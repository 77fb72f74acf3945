"""Offers: how a contract definition and an asset become the Offer a catalog shows.

An offer id encodes the contract definition and the asset it was made for (EDC does the
same), so a provider receiving a request can find the terms it offered and check that the
consumer asked for exactly those.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from dataclasses import dataclass

from connector.domain import Asset, ContractDefinition, Json, PolicyDefinition

_POLICY_KEYS_DROPPED = ("@id", "@type", "target", "assigner", "assignee", "@context")


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def policy_fingerprint(policy: Json) -> str:
    terms = {k: v for k, v in policy.items() if k not in _POLICY_KEYS_DROPPED}
    digest = hashlib.sha256(json.dumps(terms, sort_keys=True).encode()).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode().rstrip("=")


def offer_id(definition_id: str, asset_id: str, policy: Json) -> str:
    return f"{_b64(definition_id)}:{_b64(asset_id)}:{policy_fingerprint(policy)}"


@dataclass(frozen=True)
class OfferRef:
    definition_id: str
    asset_id: str
    fingerprint: str


def parse_offer_id(value: str) -> OfferRef | None:
    parts = value.split(":")
    if len(parts) != 3:
        return None
    try:
        return OfferRef(_unb64(parts[0]), _unb64(parts[1]), parts[2])
    except (ValueError, UnicodeDecodeError):
        return None


def make_offer(
    definition: ContractDefinition,
    asset: Asset,
    policy_def: PolicyDefinition,
    provider_id: str,
    *,
    with_target: bool = False,
) -> Json:
    """The Offer (DSP compact ODRL) for one asset under one contract definition."""
    policy = copy.deepcopy(policy_def.policy)
    for key in _POLICY_KEYS_DROPPED:
        policy.pop(key, None)
    offer: Json = {
        "@id": offer_id(definition.id, asset.id, policy_def.policy),
        "@type": "Offer",
        "assigner": provider_id,
    }
    if with_target:
        offer["target"] = asset.id
    offer.update(policy)
    if not offer.get("permission") and not offer.get("prohibition"):
        offer["permission"] = [{"action": "use"}]  # EDC semantics: a policy without rules is open
    return offer


def agreement_from_offer(
    offer: Json, agreement_id: str, target: str, provider_id: str, consumer_id: str, timestamp: str
) -> Json:
    """The Agreement carrying exactly the offer's terms, bound to both parties."""
    agreement = {k: copy.deepcopy(v) for k, v in offer.items() if k not in _POLICY_KEYS_DROPPED}
    agreement.update(
        {
            "@id": agreement_id,
            "@type": "Agreement",
            "target": target,
            "assigner": provider_id,
            "assignee": consumer_id,
            "timestamp": timestamp,
        }
    )
    return agreement
