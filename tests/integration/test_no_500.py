"""Malformed input never gets a 500: a seeded fuzz of every body-taking endpoint of the
Management API and the DSP. CI runs a short round; a longer one:
``FUZZ_ROUNDS=200 FUZZ_SEED=7 .venv/bin/python -m pytest tests/integration/test_no_500.py``."""

from __future__ import annotations

import json
import os
import random

from connector.api.management.openapi import openapi_document
from connector.dataspace import protocol_token

DSP_POSTS = [
    "catalog/request",
    "negotiations/request",
    "negotiations/offers",
    "negotiations/urn:uuid:x/request",
    "negotiations/urn:uuid:x/offers",
    "negotiations/urn:uuid:x/agreement",
    "negotiations/urn:uuid:x/agreement/verification",
    "negotiations/urn:uuid:x/events",
    "negotiations/urn:uuid:x/termination",
    "transfers/request",
    "transfers/urn:uuid:x/start",
    "transfers/urn:uuid:x/completion",
    "transfers/urn:uuid:x/suspension",
    "transfers/urn:uuid:x/termination",
]
ATOMS = [
    None,
    True,
    0,
    -1,
    1.5,
    "",
    "x",
    "urn:uuid:x",
    "http://127.0.0.1:9/x",
    [],
    {},
    [1, "a"],
    {"@id": 5},
    {"@value": None},
    "https://w3id.org/dspace/2025/1/context.jsonld",
]
KEYS = [
    "@context",
    "@type",
    "@id",
    "offer",
    "policy",
    "permission",
    "action",
    "constraint",
    "consumerPid",
    "providerPid",
    "callbackAddress",
    "agreementId",
    "format",
    "dataAddress",
    "counterPartyAddress",
    "counterPartyId",
    "contractId",
    "transferType",
    "filterExpression",
    "offset",
    "limit",
    "properties",
    "privateProperties",
    "reason",
    "leftOperand",
    "operator",
    "rightOperand",
    "assetsSelector",
    "accessPolicyId",
    "eventType",
    "value",
]
TYPES = [
    "CatalogRequestMessage",
    "ContractRequestMessage",
    "ContractOfferMessage",
    "TransferRequestMessage",
    "ContractNegotiationEventMessage",
    "Offer",
    "Set",
]


def junk(rnd: random.Random, depth: int = 0):
    if depth > 3 or rnd.random() < 0.3:
        return rnd.choice(ATOMS + TYPES)
    if rnd.random() < 0.3:
        return [junk(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]
    return {rnd.choice(KEYS): junk(rnd, depth + 1) for _ in range(rnd.randint(0, 5))}


def message(rnd: random.Random):
    body = junk(rnd)
    if isinstance(body, dict) and rnd.random() < 0.7:
        body["@context"] = ["https://w3id.org/dspace/2025/1/context.jsonld"]
        body["@type"] = rnd.choice(TYPES)
    return body


async def test_no_endpoint_answers_500(shared_dataspace, http):
    rnd = random.Random(int(os.environ.get("FUZZ_SEED", "20261125")))
    rounds = int(os.environ.get("FUZZ_ROUNDS", "4"))
    info = shared_dataspace["provider"].info
    paths = [
        (method.upper(), path.replace("{id}", "fuzz-id"))
        for path, ops in openapi_document("/management")["paths"].items()
        for method in ops
        if method in ("post", "put")
    ]
    statuses = []
    for _ in range(rounds):
        for method, path in paths:
            raw = json.dumps(message(rnd)).encode() if rnd.random() < 0.9 else b"{\x00 nope"
            async with http.request(
                method,
                info["managementUrl"] + path,
                data=raw,
                headers={"X-Api-Key": info["apiKey"], "Content-Type": "application/json"},
            ) as resp:
                statuses.append((resp.status, method, path))
                if resp.status >= 500:
                    raise AssertionError((method, path, raw, await resp.text()))
    for _ in range(rounds + 2):
        for path in DSP_POSTS:
            raw = json.dumps(message(rnd)).encode()
            token = protocol_token(shared_dataspace.folder, "consumer", "provider")
            async with http.post(
                f"{info['protocolUrl']}/{path}",
                data=raw,
                headers={"Authorization": token, "Content-Type": "application/json"},
            ) as resp:
                statuses.append((resp.status, "POST", path))
                if resp.status >= 500:
                    raise AssertionError((path, raw, await resp.text()))
    assert all(s < 500 for s, _, _ in statuses)
    assert any(400 <= s < 500 for s, _, _ in statuses)
