"""The provider's DCAT catalog, built per requester: only what its access policies allow."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from connector.controlplane.decisions import PolicyDecider, flatten, permitted
from connector.controlplane.offers import make_offer
from connector.domain import (
    EDC_NS,
    Asset,
    ContractDefinition,
    Criterion,
    Json,
    PolicyDefinition,
)
from connector.errors import NotFound, ValidationFailure
from connector.management_codec.assets import render_asset
from connector.query import QuerySpec, apply
from connector.store.base import Store

DSP_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
TRANSFER_FORMATS = ("HttpData-PULL",)


def dataset_properties(asset: Asset) -> Json:
    """Public asset properties as full IRIs (the DSP context knows none of them)."""
    out: Json = {}
    for key, value in asset.properties.items():
        if key in ("@id", "id"):
            continue
        out[key if ":" in key else EDC_NS + key] = value
    return out


def parse_filter(raw: Any) -> list[Criterion]:
    """The catalog request ``filter``: a list of EDC criteria, or nothing."""
    if raw in (None, []):
        return []
    if not isinstance(raw, list):
        raise ValidationFailure("filter must be a list of criteria", path="filter")
    criteria = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not {"operandLeft", "operator"} <= item.keys():
            raise ValidationFailure(
                "unsupported filter: expected {operandLeft, operator, operandRight}",
                path=f"filter[{i}]",
                invalid_value=item,
            )
        criteria.append(Criterion(item["operandLeft"], item["operator"], item.get("operandRight")))
    return criteria


class CatalogService:
    def __init__(
        self, store: Store, decider: PolicyDecider, participant_id: str, protocol_url: str
    ) -> None:
        self._store = store
        self._decider = decider
        self._participant_id = participant_id
        self._protocol_url = protocol_url
        self.service_id = f"{participant_id}#dsp"

    def _service(self) -> Json:
        return {"@id": self.service_id, "@type": "DataService", "endpointURL": self._protocol_url}

    async def _visible(self, requester: str) -> dict[str, tuple[Asset, list[Json]]]:
        """asset id -> (asset, offers) for every asset the requester may see."""
        async with self._store.session() as s:
            definitions = await s.list(ContractDefinition)
            policies = {p.id: p for p in await s.list(PolicyDefinition)}
            assets = await s.list(Asset)
        rendered = [render_asset(a) for a in assets]

        def lookup(iri: str) -> Json | None:
            found = policies.get(iri)
            return None if found is None else found.policy

        by_id = {a.id: a for a in assets}
        visible: dict[str, tuple[Asset, list[Json]]] = {}
        for definition in definitions:
            access = policies.get(definition.access_policy_id)
            contract = policies.get(definition.contract_policy_id)
            if access is None or contract is None:
                continue
            spec = QuerySpec(
                offset=0, limit=1_000_000, filter_expression=definition.assets_selector
            )
            for item in apply(rendered, spec):
                asset = by_id[item["@id"]]
                # the access policy may read facts about the dataset: decided per asset
                decision = self._decider.decide(
                    flatten(access.policy, lookup), requester, "catalog", asset=asset
                )
                if not permitted(decision):
                    continue
                entry = visible.setdefault(asset.id, (asset, []))
                terms = replace(contract, policy=flatten(contract.policy, lookup))
                entry[1].append(make_offer(definition, asset, terms, self._participant_id))
        return visible

    def _dataset(self, asset: Asset, offers: list[Json]) -> Json:
        dataset: Json = {"@id": asset.id, "@type": "Dataset", "hasPolicy": offers}
        dataset["distribution"] = [
            {"@type": "Distribution", "format": fmt, "accessService": self.service_id}
            for fmt in TRANSFER_FORMATS
        ]
        dataset.update(dataset_properties(asset))
        return dataset

    async def catalog(self, requester: str, criteria: list[Criterion] | None = None) -> Json:
        visible = await self._visible(requester)
        datasets = [self._dataset(a, offers) for a, offers in visible.values()]
        if criteria:
            wanted = {
                item["@id"]
                for item in apply(
                    [render_asset(a) for a, _ in visible.values()],
                    QuerySpec(offset=0, limit=1_000_000, filter_expression=criteria),
                )
            }
            datasets = [d for d in datasets if d["@id"] in wanted]
        catalog: Json = {
            "@context": [DSP_CONTEXT],
            "@id": f"{self._participant_id}#catalog",
            "@type": "Catalog",
            "participantId": self._participant_id,
            "service": [self._service()],
        }
        if datasets:  # the schema wants a non-empty list or none at all
            catalog["dataset"] = datasets
        return catalog

    async def dataset(self, requester: str, dataset_id: str) -> Json:
        visible = await self._visible(requester)
        if dataset_id not in visible:
            raise NotFound(f"dataset {dataset_id} not found", path="id", invalid_value=dataset_id)
        asset, offers = visible[dataset_id]
        dataset = self._dataset(asset, offers)
        for dist in dataset["distribution"]:
            dist["accessService"] = self._service()
        return {"@context": [DSP_CONTEXT], **dataset}
