"""The OpenAPI document matches what the Management API serves and accepts."""

from __future__ import annotations

import re

import jsonschema
import pytest

from connector.api.management.common import Body
from connector.api.management.definitions import definition_routes
from connector.api.management.node_info import node_info_routes
from connector.api.management.openapi import OPERATIONS, openapi_document
from connector.api.management.processes import process_routes
from connector.management_codec import (
    parse_asset,
    parse_catalog_request,
    parse_contract_definition,
    parse_contract_request,
    parse_dataset_request,
    parse_policy_definition,
    parse_query_spec,
    parse_secret,
    parse_terminate,
    parse_transfer_request,
)
from connector.management_codec.negotiations import parse_counter

PARSERS = {
    "Asset": parse_asset,
    "PolicyDefinition": parse_policy_definition,
    "ContractDefinition": parse_contract_definition,
    "Secret": parse_secret,
    "QuerySpec": parse_query_spec,
    "CatalogRequest": parse_catalog_request,
    "DatasetRequest": parse_dataset_request,
    "ContractRequest": parse_contract_request,
    "TransferRequest": parse_transfer_request,
    "TerminateRequest": parse_terminate,
    "CounterRequest": parse_counter,
    "ProtocolVersionsRequest": lambda body: body["counterPartyAddress"],
}


def served_routes() -> set[tuple[str, str]]:
    """Every (method, path) the Management API serves (services are not called here)."""
    routes = definition_routes(None, Body(1024))  # type: ignore[arg-type]
    routes += process_routes(
        entities=None,
        negotiations=None,
        transfers=None,
        peers=None,  # type: ignore[arg-type]
        resolve_peer=lambda given, address: "",
        body=Body(1024),
    )
    routes += node_info_routes("http://x/public", ("HttpData-PULL",))
    return {(r.method.lower(), r.path) for r in routes}


def test_every_served_route_is_documented_and_back():
    documented = {(op.method, op.path) for op in OPERATIONS}
    assert served_routes() == documented


def test_document_structure_and_references():
    doc = openapi_document("/management")
    assert doc["openapi"].startswith("3.1") and doc["servers"] == [{"url": "/management"}]
    text = str(doc)
    for name in re.findall(r"#/components/schemas/(\w+)", text):
        assert name in doc["components"]["schemas"], name
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            assert op["responses"], (method, path)
            assert "401" in op["responses"]


@pytest.mark.parametrize(
    "op", [op for op in OPERATIONS if op.request], ids=lambda op: op.operation_id
)
def test_examples_match_their_schema_and_the_handler_parser(op):
    doc = openapi_document("/management")
    schema = {"$ref": f"#/components/schemas/{op.request}", "components": doc["components"]}
    jsonschema.validate(op.example, schema)
    PARSERS[op.request](op.example)


async def test_live_node_accepts_the_provider_examples(shared_dataspace, http):
    info = shared_dataspace["provider"].info
    async with http.get(info["managementUrl"] + "/openapi.json") as resp:
        assert resp.status == 200
        served_doc = await resp.json()
    assert "/v3/assets" in served_doc["paths"]
    p = shared_dataspace.client(http, "provider")
    order = [
        "createSecret",
        "createAsset",
        "createPolicyDefinition",
        "createContractDefinition",
        "updateSecret",
        "updateAsset",
        "updatePolicyDefinition",
        "updateContractDefinition",
        "querySecrets",
        "queryAssets",
        "queryPolicyDefinitions",
        "queryContractDefinitions",
        "queryNegotiations",
        "queryAgreements",
        "queryTransfers",
        "queryEdrs",
    ]
    by_id = {op.operation_id: op for op in OPERATIONS}
    for name in order:
        op = by_id[name]
        path = op.path.replace("{id}", str(op.example.get("@id", "")))
        result = await p.call(op.method.upper(), path, op.example)
        if op.array:
            assert isinstance(result, list)
        elif op.status == 200:
            assert result["@type"] == "IdResponse"
