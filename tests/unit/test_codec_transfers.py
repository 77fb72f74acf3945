"""Transfer requests and transfer processes."""

from __future__ import annotations

from typing import Any

import pytest

from connector.domain import CallbackAddress, Criterion, TransferProcess
from connector.errors import ValidationFailure
from connector.jsonld import JsonLdProcessor
from connector.management_codec import (
    RESPONSE_CONTEXT,
    parse_terminate,
    parse_transfer_request,
    render_transfer,
    render_transfer_state,
)
from connector.query import QuerySpec, apply

EDC = "https://w3id.org/edc/v0.0.1/ns/"
PROCESSOR = JsonLdProcessor()


def assert_is_compacted_json_ld(doc: dict[str, Any]) -> None:
    assert PROCESSOR.compact(PROCESSOR.expand(doc), doc["@context"]) == doc


PULL = {  # as Tractus-X clients send it
    "@context": {"@vocab": EDC},
    "@type": "TransferRequest",
    "assetId": "asset-1",
    "contractId": "agr-1",
    "counterPartyAddress": "https://provider.example/api/v1/dsp",
    "protocol": "dataspace-protocol-http",
    "transferType": "HttpData-PULL",
    "privateProperties": {"purpose": "demo"},
    "callbackAddresses": [
        {
            "uri": "https://cb.example",
            "events": ["transfer.process.started"],
            "transactional": False,
            "authKey": "X-Auth",
            "authCodeId": "cb-secret",
        }
    ],
}

PUSH = {
    "@context": "https://w3id.org/edc/connector/management/v0.0.1",
    "@type": "TransferRequest",
    "contractId": "agr-1",
    "counterPartyAddress": "https://provider.example/dsp",
    "protocol": "dataspace-protocol-http:2025-1",
    "transferType": "HttpData-PUSH",
    "dataDestination": {
        "@type": "DataAddress",
        "type": "HttpData",
        "baseUrl": "https://sink.example/in",
    },
}


def test_pull_request() -> None:
    request = parse_transfer_request(PULL)
    assert (request.counter_party_address, request.contract_id, request.transfer_type) == (
        "https://provider.example/api/v1/dsp",
        "agr-1",
        "HttpData-PULL",
    )
    assert request.protocol == "dataspace-protocol-http"
    assert request.asset_id == "asset-1"
    assert request.data_destination is None
    assert request.private_properties == {"purpose": "demo"}
    assert request.callback_addresses == [
        CallbackAddress(
            uri="https://cb.example",
            events=["transfer.process.started"],
            transactional=False,
            auth_key="X-Auth",
            auth_code_id="cb-secret",
        )
    ]


def test_push_request_with_destination() -> None:
    request = parse_transfer_request(PUSH)
    assert request.data_destination == {"type": "HttpData", "baseUrl": "https://sink.example/in"}
    assert request.transfer_type == "HttpData-PUSH"


def test_transfer_type_from_legacy_destination() -> None:
    legacy = {k: v for k, v in PULL.items() if k != "transferType"}
    legacy["dataDestination"] = {"type": "HttpProxy"}
    assert parse_transfer_request(legacy).transfer_type == "HttpData-PULL"
    legacy["dataDestination"] = {"type": "AmazonS3", "bucketName": "b"}
    assert parse_transfer_request(legacy).transfer_type == "AmazonS3-PUSH"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"contractId": None}, "contractId"),
        ({"counterPartyAddress": None}, "counterPartyAddress"),
        ({"transferType": None}, "transferType"),
        ({"transferType": 3}, "transferType"),
        ({"dataDestination": {"baseUrl": "https://x"}}, "dataDestination.type"),
        ({"dataDestination": "https://x"}, "dataDestination"),
        (
            {"callbackAddresses": [{"uri": "https://cb", "events": [1]}]},
            "callbackAddresses[0].events[0]",
        ),
    ],
)
def test_validation_names_the_field(change: dict, path: str) -> None:
    body = {k: v for k, v in {**PULL, **change}.items() if v is not None}
    with pytest.raises(ValidationFailure) as err:
        parse_transfer_request(body)
    assert err.value.path == path


def transfer(**kw: Any) -> TransferProcess:
    fields: dict[str, Any] = dict(
        id="t1",
        role="CONSUMER",
        state="STARTED",
        counter_party_id="BPNL1",
        counter_party_address="https://p/dsp",
        agreement_id="agr-1",
        transfer_type="HttpData-PULL",
        consumer_pid="t1",
        provider_pid="pt1",
        asset_id="asset-1",
        created_at=5,
        updated_at=6,
    )
    fields.update(kw)
    return TransferProcess(**fields)


def test_render_matches_edc() -> None:
    rendered = render_transfer(
        transfer(
            data_destination={"type": "HttpData", "baseUrl": "https://sink"},
            private_properties={"purpose": "demo"},
            error_detail="slow",
        )
    )
    assert rendered == {
        "@context": RESPONSE_CONTEXT,
        "@id": "t1",
        "@type": "TransferProcess",
        "correlationId": "pt1",
        "state": "STARTED",
        "stateTimestamp": 6,
        "type": "CONSUMER",
        "assetId": "asset-1",
        "contractId": "agr-1",
        "callbackAddresses": [],
        "transferType": "HttpData-PULL",
        "errorDetail": "slow",
        "createdAt": 5,
        "karez:consumerPid": "t1",
        "karez:providerPid": "pt1",
        "karez:counterPartyId": "BPNL1",
        "karez:counterPartyAddress": "https://p/dsp",
        "karez:protocol": "dataspace-protocol-http:2025-1",
        "dataDestination": {"@type": "DataAddress", "type": "HttpData", "baseUrl": "https://sink"},
        "privateProperties": {"purpose": "demo"},
    }
    assert_is_compacted_json_ld(rendered)
    provider_side = render_transfer(transfer(role="PROVIDER"))
    assert provider_side["correlationId"] == "t1"
    assert "dataDestination" not in provider_side


def test_transfer_state() -> None:
    assert render_transfer_state(transfer(state="COMPLETED")) == {
        "@context": RESPONSE_CONTEXT,
        "@type": "TransferState",
        "state": "COMPLETED",
    }


def test_clients_find_transfers_by_agreement() -> None:
    items = [
        render_transfer(transfer(id="t1", agreement_id="agr-1")),
        render_transfer(transfer(id="t2", agreement_id="agr-2", state="COMPLETED")),
    ]
    for left in (
        "contractAgreementId",
        "contractId",
        "agreementId",
        "https://w3id.org/edc/v0.0.1/ns/contractId",
    ):
        spec = QuerySpec(filter_expression=[Criterion(left, "=", "agr-2")])
        assert [t["@id"] for t in apply(items, spec)] == ["t2"], left
    spec = QuerySpec(filter_expression=[Criterion("state", "in", ["STARTED"])])
    assert [t["@id"] for t in apply(items, spec)] == ["t1"]


def test_terminate_and_suspend_reason() -> None:
    body = {"@context": {"@vocab": EDC}, "@type": "SuspendTransfer", "reason": "maintenance"}
    assert parse_terminate(body) == "maintenance"
