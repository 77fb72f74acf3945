"""A small Management API client (used by the demo, the benchmarks and the tests)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

EDC_CONTEXT = {"@vocab": "https://w3id.org/edc/v0.0.1/ns/"}
ODRL = "http://www.w3.org/ns/odrl/2/"
#: The prefixes of the Management API's responses (``odrl:``, ``karez:``, ...).
RESPONSE_PREFIXES = {
    "edc": "https://w3id.org/edc/v0.0.1/ns/",
    "odrl": ODRL,
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "dspace": "https://w3id.org/dspace/2025/1/",
    "karez": "https://w3id.org/karez/ns/",
}


class ManagementError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class ManagementClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, api_key: str) -> None:
        self.session = session
        self.base = base_url.rstrip("/")
        self.headers = {"X-Api-Key": api_key}

    async def call(
        self, method: str, path: str, body: Any = None, expect: int | None = None
    ) -> Any:
        async with self.session.request(
            method, self.base + path, json=body, headers=self.headers
        ) as resp:
            raw = await resp.read()
            data = None
            if raw:
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    data = raw.decode("utf-8", "replace")
            if resp.status >= 300 or (expect is not None and resp.status != expect):
                raise ManagementError(resp.status, data)
            return data

    # --- provider --------------------------------------------------------------------
    async def create_asset(
        self,
        asset_id: str,
        data_address: dict,
        properties: dict | None = None,
        private_properties: dict | None = None,
    ) -> Any:
        body = {
            "@context": EDC_CONTEXT,
            "@id": asset_id,
            "properties": properties or {},
            "dataAddress": {"@type": "DataAddress", **data_address},
        }
        if private_properties:
            body["privateProperties"] = private_properties
        return await self.call("POST", "/v3/assets", body)

    async def create_policy(
        self,
        policy_id: str,
        permissions: list | None = None,
        prohibitions: list | None = None,
        obligations: list | None = None,
    ) -> Any:
        policy: dict[str, Any] = {"@type": "Set", "permission": permissions or []}
        if prohibitions:
            policy["prohibition"] = prohibitions
        if obligations:
            policy["obligation"] = obligations
        body = {
            "@context": [EDC_CONTEXT, "http://www.w3.org/ns/odrl.jsonld"],
            "@id": policy_id,
            "policy": policy,
        }
        return await self.call("POST", "/v3/policydefinitions", body)

    async def create_contract_definition(
        self,
        def_id: str,
        access: str,
        contract: str,
        selector: list | None = None,
        private_properties: dict | None = None,
    ) -> Any:
        body = {
            "@context": EDC_CONTEXT,
            "@id": def_id,
            "accessPolicyId": access,
            "contractPolicyId": contract,
            "assetsSelector": selector or [],
        }
        if private_properties:
            body["privateProperties"] = private_properties
        return await self.call("POST", "/v3/contractdefinitions", body)

    # --- consumer --------------------------------------------------------------------
    async def catalog(self, address: str, participant_id: str) -> Any:
        body = {
            "@context": EDC_CONTEXT,
            "@type": "CatalogRequest",
            "counterPartyAddress": address,
            "counterPartyId": participant_id,
            "protocol": "dataspace-protocol-http:2025-1",
        }
        return await self.call("POST", "/v3/catalog/request", body)

    async def negotiate(
        self,
        address: str,
        provider_id: str,
        offer: dict,
        asset_id: str,
        private_properties: dict | None = None,
        path: str = "/v3/contractnegotiations",
        callbacks: list | None = None,
    ) -> str:
        prefixed = any(k.startswith("odrl:") for k in offer)
        drop = ("@context", "assigner", "target", "odrl:assigner", "odrl:target")
        policy = {k: v for k, v in offer.items() if k not in drop}
        policy["odrl:assigner" if prefixed else "assigner"] = {"@id": provider_id}
        policy["odrl:target" if prefixed else "target"] = {"@id": asset_id}
        body = {
            # an offer copied from a catalog keeps the prefixes the catalog was written with
            "@context": {**EDC_CONTEXT, **RESPONSE_PREFIXES}
            if prefixed
            else [EDC_CONTEXT, "http://www.w3.org/ns/odrl.jsonld"],
            "@type": "ContractRequest",
            "counterPartyAddress": address,
            "counterPartyId": provider_id,
            "protocol": "dataspace-protocol-http:2025-1",
            "policy": policy,
            "callbackAddresses": callbacks or [],
        }
        if private_properties:
            body["privateProperties"] = private_properties
        return (await self.call("POST", path, body))["@id"]

    async def transfer(
        self,
        address: str,
        agreement_id: str,
        transfer_type: str = "HttpData-PULL",
        private_properties: dict | None = None,
    ) -> str:
        body = {
            "@context": EDC_CONTEXT,
            "@type": "TransferRequest",
            "counterPartyAddress": address,
            "contractId": agreement_id,
            "transferType": transfer_type,
            "protocol": "dataspace-protocol-http:2025-1",
        }
        if private_properties:
            body["privateProperties"] = private_properties
        return (await self.call("POST", "/v3/transferprocesses", body))["@id"]

    async def wait_state(
        self, kind: str, pid: str, states: set[str] | str, timeout: float = 30.0
    ) -> dict:
        """Poll ``/v3/{kind}/{id}`` until its state is one of ``states``."""
        wanted = {states} if isinstance(states, str) else states
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            obj = await self.call("GET", f"/v3/{kind}/{pid}")
            if obj.get("state") in wanted:
                return obj
            if time.monotonic() > deadline:
                raise TimeoutError(f"{kind} {pid} is {obj.get('state')}, not {sorted(wanted)}")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)


def first_offer(catalog: dict, asset_id: str) -> dict:
    """The first offer for ``asset_id`` in a catalog as the Management API renders it."""
    datasets = catalog.get("dcat:dataset", catalog.get("dataset", []))
    if isinstance(datasets, dict):
        datasets = [datasets]
    for dataset in datasets:
        if dataset.get("@id") == asset_id:
            policies = dataset.get("odrl:hasPolicy", dataset.get("hasPolicy"))
            if isinstance(policies, list):
                return policies[0]
            return policies
    raise KeyError(f"no dataset {asset_id} in the catalog")
