"""Every official DSP 2025-1 message example, sent to a live node at its endpoint, is accepted
or rejected as the specification says, and every answer validates against its schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.dataspace import protocol_token
from connector.protocol.validation import validate

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "dsp" / "2025-1" / "examples"

# (example file, path under the DSP base, expected status, why)
CASES = [
    ("catalog/catalog-request-message.json", "catalog/request", 200, "a catalog"),
    # the example's offer id is not one this provider made: "MUST respond with an error"
    (
        "negotiation/contract-request-message_initial.json",
        "negotiations/request",
        400,
        "unknown offer",
    ),
    # the example's negotiation does not exist here: 404
    (
        "negotiation/contract-request-message.json",
        "negotiations/urn:uuid:a343fcbf-99fc-4ce8-8e9b-148c97605aab/request",
        404,
        "unknown pid",
    ),
    (
        "negotiation/contract-negotiation-event-message.json",
        "negotiations/urn:uuid:a343fcbf-99fc-4ce8-8e9b-148c97605aab/events",
        404,
        "unknown pid",
    ),
    (
        "negotiation/contract-agreement-verification-message.json",
        "negotiations/urn:uuid:a343fcbf-99fc-4ce8-8e9b-148c97605aab/agreement/verification",
        404,
        "unknown pid",
    ),
    (
        "negotiation/contract-negotiation-termination-message.json",
        "negotiations/urn:uuid:a343fcbf-99fc-4ce8-8e9b-148c97605aab/termination",
        404,
        "unknown pid",
    ),
    (
        "negotiation/contract-agreement-message.json",
        "negotiations/urn:uuid:32541fe6-c580-409e-85a8-8a9a32fbe833/agreement",
        404,
        "unknown pid",
    ),
    (
        "negotiation/contract-offer-message.json",
        "negotiations/urn:uuid:32541fe6-c580-409e-85a8-8a9a32fbe833/offers",
        404,
        "unknown pid",
    ),
    # a provider-initiated offer opens a negotiation on the consumer side
    (
        "negotiation/contract-offer-message_initial.json",
        "negotiations/offers",
        201,
        "new negotiation",
    ),
    # the agreement does not exist here
    ("transfer/transfer-request-message.json", "transfers/request", 400, "unknown agreement"),
    (
        "transfer/transfer-start-message.json",
        "transfers/urn:uuid:32541fe6-c580-409e-85a8-8a9a32fbe833/start",
        404,
        "unknown pid",
    ),
    (
        "transfer/transfer-completion-message.json",
        "transfers/urn:uuid:a343fcbf-99fc-4ce8-8e9b-148c97605aab/completion",
        404,
        "unknown pid",
    ),
    (
        "transfer/transfer-suspension-message.json",
        "transfers/urn:uuid:a343fcbf-99fc-4ce8-8e9b-148c97605aab/suspension",
        404,
        "unknown pid",
    ),
    (
        "transfer/transfer-termination-message.json",
        "transfers/urn:uuid:a343fcbf-99fc-4ce8-8e9b-148c97605aab/termination",
        404,
        "unknown pid",
    ),
]


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    if not EXAMPLES.exists():
        import os

        if os.environ.get("CI"):
            pytest.fail(f"DSP examples missing at {EXAMPLES}")
        pytest.skip(f"DSP examples not found at {EXAMPLES}")
    from tests.integration.conftest import Dataspace

    ds = Dataspace(tmp_path_factory.mktemp("examples"), 2)
    ds.start()  # the consumer too: the provider queries its credential service
    yield ds
    ds.stop()


def answer_type(body: dict) -> str:
    return body["@type"]


@pytest.mark.parametrize(
    ("example", "path", "status", "why"), CASES, ids=[c[0].split("/")[-1] for c in CASES]
)
async def test_official_example(node, http, example, path, status, why):
    body = json.loads((EXAMPLES / example).read_text())
    url = f"{node['provider'].protocol_url}/{path}"
    headers = {
        "Content-Type": "application/json",
        "Authorization": protocol_token(node.folder, "consumer", "provider"),
    }
    async with http.post(url, data=json.dumps(body), headers=headers) as resp:
        answer = await resp.json(content_type=None)
    assert resp.status == status, (why, answer)
    validate(answer_type(answer), answer)


async def test_dataset_request_example(node, http):
    body = json.loads((EXAMPLES / "catalog/dataset-request-message.json").read_text())
    url = f"{node['provider'].protocol_url}/catalog/datasets/{body['dataset']}"
    headers = {"Authorization": protocol_token(node.folder, "consumer", "provider")}
    async with http.get(url, headers=headers) as resp:
        answer = await resp.json(content_type=None)
    assert resp.status == 404 and answer["@type"] == "CatalogError"
    validate("CatalogError", answer)
