"""The Management API's OpenAPI document against what the app serves and its handlers accept.

1. Every (method, path) the app serves is documented, and every documented one is served.
2. The document is valid OpenAPI 3.1 (openapi-spec-validator when installed, plus our own
   structural checks either way) and is served, without an API key, under the base path.
3. Every request example validates against its requestBody schema and is accepted by the
   parser its handler uses; each field the schema requires is also required by that parser.
"""

from __future__ import annotations

import copy
import importlib.util
import re
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from connector.api.management.app import build_management_root
from connector.api.management.auth import ManagementAuth
from connector.api.management.openapi import openapi_document
from connector.errors import ValidationFailure
from connector.management_codec import (
    parse_asset,
    parse_catalog_request,
    parse_contract_definition,
    parse_contract_request,
    parse_counter,
    parse_dataset_request,
    parse_policy_definition,
    parse_query_spec,
    parse_secret,
    parse_terminate,
    parse_transfer_request,
)
from connector.management_codec.edrs import parse_fetch_request
from connector.management_codec.retirements import parse_retirement

BASE = "/management"
DOC_URI = "urn:karez:management-openapi"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
OPEN_PATHS = {"/openapi.json"}  # served without X-Api-Key


def _protocol_versions(body: Any) -> str:
    """The inline check of the /v4alpha/protocol-versions/request handler."""
    address = body.get("counterPartyAddress") if isinstance(body, dict) else None
    if not isinstance(address, str) or not address:
        raise ValidationFailure("counterPartyAddress is required", path="counterPartyAddress")
    return address


#: requestBody schema -> the parser its handlers read the body with
PARSERS: dict[str, Callable[[Any], Any]] = {
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
    "ProtocolVersionsRequest": _protocol_versions,
    "AgreementRetirementRequest": parse_retirement,
    "FetchRequest": parse_fetch_request,
}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return openapi_document(BASE)


def build_app() -> web.Application:
    """The management app as the node builds it; services are never called while routing."""
    return build_management_root(
        auth=ManagementAuth(api_key="test-key"),
        base_path=BASE,
        max_body=1 << 20,
        public_url="http://127.0.0.1:8185/public",
        transfer_types=("HttpData-PULL",),
        entities=None,
        negotiations=None,
        transfers=None,
        peers=None,
        resolve_peer=lambda given, address: given or "",
    )


def normalized(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def served_routes() -> set[tuple[str, str]]:
    out = set()
    for route in build_app().router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method in ("HEAD", "*") or not path.startswith(BASE + "/"):
            continue
        out.add((route.method.lower(), normalized(path[len(BASE) :])))
    return out


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"only local references are used: {ref}"
    node: Any = doc
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and token in node, f"unresolved $ref {ref}"
        node = node[token]
    return node


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def body_validator(doc: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator for ``schema`` whose ``#/components/...`` references reach the document."""
    registry: Registry = Registry().with_resource(DOC_URI, DRAFT202012.create_resource(doc))
    wrapped = {"$id": DOC_URI + "/request", "$ref": DOC_URI + "#" + schema["$ref"][1:]}
    return jsonschema.Draft202012Validator(wrapped, registry=registry)


BODY_OPERATIONS = [
    (method, path, op)
    for method, path, op in operations(openapi_document(BASE))
    if "requestBody" in op
]


# --- 1. routes --------------------------------------------------------------------------------


def test_every_served_route_is_documented_and_every_documented_route_served(doc):
    documented = {(method, normalized(path)) for method, path, _ in operations(doc)}
    served = served_routes()
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"


# --- 2. a valid OpenAPI 3.1 document, served under the base path ------------------------------


def test_openapi_spec_validator_accepts_the_document(doc):
    if importlib.util.find_spec("openapi_spec_validator") is None:
        pytest.skip("openapi-spec-validator is not installed; the structural tests still run")
    from openapi_spec_validator import validate

    validate(doc)


def test_document_structure(doc):
    assert doc["openapi"].startswith("3.1.")
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["servers"] == [{"url": BASE}]
    for ref in refs(doc):
        resolve(doc, ref)
    for name, schema in doc["components"]["schemas"].items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            pytest.fail(f"components/schemas/{name}: {exc.message}")
    schemes = doc["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {
        **schemes["ApiKey"],
        "type": "apiKey",
        "in": "header",
        "name": "X-Api-Key",
    }
    assert schemes["bearerAuth"] == {
        **schemes["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert doc["security"] == [{"ApiKey": []}, {"bearerAuth": []}]
    seen_ids: set[str] = set()
    for method, path, op in operations(doc):
        where = f"{method.upper()} {path}"
        assert path.startswith("/") and not path.startswith(BASE), where
        assert op.get("operationId") and op["operationId"] not in seen_ids, where
        seen_ids.add(op["operationId"])
        assert op.get("summary"), where
        responses = op.get("responses")
        assert responses, where
        for status, response in responses.items():
            assert re.fullmatch(r"[1-5]\d\d|default", status), where
            if "$ref" in response:
                response = resolve(doc, response["$ref"])
            assert response.get("description"), (where, status)
        assert any(s in responses for s in ("200", "204")), where
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{([^}]+)\}", path)), where
        assert all(p["required"] for p in op.get("parameters", []) if p["in"] == "path"), where
        if path in OPEN_PATHS:
            assert op.get("security") == [] and "401" not in responses, where
        else:
            assert "security" not in op and "401" in responses and "403" in responses, where
        if "requestBody" in op:
            content = op["requestBody"]["content"]["application/json"]
            assert "$ref" in content["schema"] and "example" in content, where
            assert "400" in responses, where


def test_state_enums_match_the_state_machines(doc):
    from connector.protocol.negotiation import NegotiationState
    from connector.protocol.transfer import TransferState

    schemas = doc["components"]["schemas"]
    assert schemas["NegotiationState"]["properties"]["state"]["enum"] == list(NegotiationState)
    assert schemas["TransferState"]["properties"]["state"]["enum"] == list(TransferState)


async def test_the_app_serves_the_document_without_a_key_and_guards_the_rest(doc):
    async with TestClient(TestServer(build_app())) as client:
        resp = await client.get(BASE + "/openapi.json")
        assert resp.status == 200
        assert await resp.json() == doc
        resp = await client.get(BASE + "/v3/dataplanes")
        assert resp.status == 401
        errors = await resp.json()
        body_validator(
            doc, {"$ref": "#/components/responses/Unauthorized/content/application~1json/schema"}
        ).validate(errors)
        resp = await client.get(BASE + "/v3/dataplanes", headers={"X-Api-Key": "test-key"})
        assert resp.status == 200


# --- 3. examples: schema and handler agree ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "op"), BODY_OPERATIONS, ids=[op["operationId"] for *_, op in BODY_OPERATIONS]
)
def test_request_example_matches_its_schema_and_its_handler(doc, method, path, op):
    content = op["requestBody"]["content"]["application/json"]
    example = content["example"]
    assert isinstance(example, dict) and example, "a realistic, non-empty example"
    validator = body_validator(doc, content["schema"])
    validator.validate(example)
    parse = PARSERS[content["schema"]["$ref"].rsplit("/", 1)[-1]]
    parse(copy.deepcopy(example))

    schema = resolve(doc, content["schema"]["$ref"])
    for field in schema.get("required", []):
        partial = {k: v for k, v in example.items() if k != field}
        assert not validator.is_valid(partial), f"the schema must require {field}"
        with pytest.raises(ValidationFailure):
            parse(partial)


# --- the examples against a live node ----------------------------------------------------------

LIVE_ORDER = [
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
    "queryContractNegotiations",
    "queryContractAgreements",
    "queryTransferProcesses",
    "queryEdrs",
]


async def test_a_live_node_accepts_the_provider_examples(doc, shared_dataspace, http):
    info = shared_dataspace["provider"].info
    async with http.get(info["managementUrl"] + "/openapi.json") as resp:
        assert resp.status == 200
        served = await resp.json()
    assert served["paths"] == doc["paths"]
    by_id = {op["operationId"]: (method, path, op) for method, path, op in operations(doc)}
    client = shared_dataspace.client(http, "provider")
    for name in LIVE_ORDER:
        method, path, op = by_id[name]
        example = op["requestBody"]["content"]["application/json"]["example"]
        result = await client.call(
            method.upper(), path.replace("{id}", example.get("@id", "")), example
        )
        ok = op["responses"].get("200")
        if ok is None:
            assert result is None, name
        else:
            body_validator(
                doc,
                {
                    "$ref": f"#/paths/{path.replace('/', '~1')}/{method}/"
                    "responses/200/content/application~1json/schema"
                },
            ).validate(result)
