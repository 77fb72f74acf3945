"""Contract requests, counter-offers, negotiations and agreements."""

from __future__ import annotations

from typing import Any

import pytest

from connector.domain import CallbackAddress, ContractAgreement, ContractNegotiation, Criterion
from connector.errors import ValidationFailure
from connector.jsonld import JsonLdProcessor
from connector.management_codec import (
    RESPONSE_CONTEXT,
    parse_contract_request,
    parse_counter,
    parse_terminate,
    render_agreement,
    render_negotiation,
    render_negotiation_state,
)
from connector.query import QuerySpec, apply

EDC = "https://w3id.org/edc/v0.0.1/ns/"
ODRL = "http://www.w3.org/ns/odrl/2/"
CX = "https://w3id.org/catenax/2025/9/policy/"
PROCESSOR = JsonLdProcessor()


def assert_is_compacted_json_ld(doc: dict[str, Any]) -> None:
    assert PROCESSOR.compact(PROCESSOR.expand(doc), doc["@context"]) == doc


TRACTUSX_REQUEST = {
    "@context": [
        "https://w3id.org/catenax/2025/9/policy/context.jsonld",
        {"@vocab": EDC, "odrl": ODRL},
    ],
    "@type": "ContractRequest",
    "counterPartyAddress": "https://provider.example/api/v1/dsp",
    "protocol": "dataspace-protocol-http",
    "policy": {
        "@id": "b2ZmZXItMQ==:YXNzZXQtMQ==:MTIz",
        "@type": "odrl:Offer",
        "odrl:assigner": {"@id": "BPNL000000000001"},
        "odrl:target": {"@id": "asset-1"},
        "odrl:permission": {
            "odrl:action": {"@id": "odrl:use"},
            "odrl:constraint": {
                "odrl:leftOperand": {"@id": "cx-policy:Membership"},
                "odrl:operator": {"@id": "odrl:eq"},
                "odrl:rightOperand": "active",
            },
        },
        "odrl:prohibition": [],
        "odrl:obligation": [],
    },
    "callbackAddresses": [
        {
            "uri": "https://backend.example/callback",
            "events": ["contract.negotiation", "transfer.process"],
            "transactional": False,
        }
    ],
}

EXPECTED_OFFER = {
    "@id": "b2ZmZXItMQ==:YXNzZXQtMQ==:MTIz",
    "@type": "Offer",
    "target": "asset-1",
    "assigner": "BPNL000000000001",
    "permission": [
        {
            "action": "use",
            "constraint": [
                {"leftOperand": CX + "Membership", "operator": "eq", "rightOperand": "active"}
            ],
        }
    ],
}

EDC_SAMPLE_REQUEST = {  # EDC's sample: ODRL context inside the policy
    "@context": {"@vocab": EDC},
    "@type": "ContractRequest",
    "counterPartyAddress": "http://provider:19194/protocol",
    "protocol": "dataspace-protocol-http:2025-1",
    "policy": {
        "@context": "http://www.w3.org/ns/odrl.jsonld",
        "@id": "offer-1",
        "@type": "Offer",
        "assigner": "provider",
        "target": "assetId",
        "permission": [{"action": "use"}],
    },
}


def test_tractusx_contract_request() -> None:
    request = parse_contract_request(TRACTUSX_REQUEST)
    assert request.counter_party_address == "https://provider.example/api/v1/dsp"
    assert request.counter_party_id == "BPNL000000000001"  # from the assigner
    assert request.protocol == "dataspace-protocol-http"
    assert request.policy == EXPECTED_OFFER
    assert request.callback_addresses == [
        CallbackAddress(
            uri="https://backend.example/callback",
            events=["contract.negotiation", "transfer.process"],
        )
    ]


def test_edc_sample_and_management_context() -> None:
    request = parse_contract_request(EDC_SAMPLE_REQUEST)
    assert request.policy == {
        "@id": "offer-1",
        "@type": "Offer",
        "target": "assetId",
        "assigner": "provider",
        "permission": [{"action": "use"}],
    }
    assert request.counter_party_id == "provider"
    managed = {
        **EDC_SAMPLE_REQUEST,
        "@context": "https://w3id.org/edc/connector/management/v0.0.1",
        "counterPartyId": "did:web:provider",
        "policy": {
            k: v
            for k, v in EDC_SAMPLE_REQUEST["policy"].items()
            if k not in ("@context", "assigner")
        },
    }
    request = parse_contract_request(managed)
    assert request.counter_party_id == "did:web:provider"
    assert request.policy["assigner"] == "did:web:provider"
    assert request.policy["target"] == "assetId"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"counterPartyAddress": None}, "counterPartyAddress"),
        ({"policy": None}, "policy"),
        (
            {
                "policy": {
                    "@type": "Offer",
                    "assigner": "p",
                    "target": "a",
                    "permission": [{"action": "use"}],
                }
            },
            "policy.@id",
        ),
        (
            {"policy": {"@id": "o", "assigner": "p", "permission": [{"action": "use"}]}},
            "policy.target",
        ),
        (
            {"policy": {"@id": "o", "target": "a", "permission": [{"action": "use"}]}},
            "policy.assigner",
        ),
        (
            {"policy": {"@id": "o", "assigner": "p", "target": "a", "permission": [{}]}},
            "policy.permission[0].action",
        ),
        ({"callbackAddresses": [{"events": ["x"]}]}, "callbackAddresses[0].uri"),
        (
            {"callbackAddresses": [{"uri": "https://cb", "transactional": "maybe"}]},
            "callbackAddresses[0].transactional",
        ),
    ],
)
def test_contract_request_validation(change: dict, path: str) -> None:
    body = {**EDC_SAMPLE_REQUEST, **change}
    body = {k: v for k, v in body.items() if v is not None}
    if isinstance(body.get("policy"), dict) and "@context" not in body["policy"]:
        body["policy"] = {"@context": "http://www.w3.org/ns/odrl.jsonld", **body["policy"]}
    with pytest.raises(ValidationFailure) as err:
        parse_contract_request(body)
    assert err.value.path == path


def test_counter_offer() -> None:
    body = {
        "@context": {"@vocab": EDC, "odrl": ODRL},
        "policy": {
            "@type": "odrl:Offer",
            "odrl:target": {"@id": "asset-1"},
            "odrl:permission": {"odrl:action": {"@id": "odrl:use"}},
        },
    }
    offer = parse_counter(body)
    assert offer["@id"].startswith("urn:uuid:")
    assert {k: v for k, v in offer.items() if k != "@id"} == {
        "@type": "Offer",
        "target": "asset-1",
        "permission": [{"action": "use"}],
    }
    bare = parse_counter(
        {
            "@context": "http://www.w3.org/ns/odrl.jsonld",
            "@id": "urn:o2",
            "permission": [{"action": "use"}],
        }
    )
    assert bare == {"@id": "urn:o2", "@type": "Offer", "permission": [{"action": "use"}]}
    with pytest.raises(ValidationFailure) as err:
        parse_counter({"@context": {"@vocab": EDC}, "policy": {"@id": "x"}})
    assert err.value.path == "policy.permission"


def test_terminate_reason() -> None:
    body = {"@context": {"@vocab": EDC}, "@type": "TerminateNegotiation", "reason": "too slow"}
    assert parse_terminate(body) == "too slow"
    with pytest.raises(ValidationFailure) as err:
        parse_terminate({"@context": {"@vocab": EDC}})
    assert err.value.path == "reason"
    assert parse_terminate({}, required=False) is None


def negotiation(**kw: Any) -> ContractNegotiation:
    fields: dict[str, Any] = dict(
        id="n1",
        role="CONSUMER",
        state="REQUESTING",
        counter_party_id="BPNL1",
        counter_party_address="https://p/dsp",
        consumer_pid="n1",
        created_at=1000,
    )
    fields.update(kw)
    return ContractNegotiation(**fields)


def test_render_negotiation_matches_edc() -> None:
    n = negotiation(
        state="FINALIZED",
        provider_pid="p1",
        asset_id="asset-1",
        agreement_id="agr-1",
        offers=[EXPECTED_OFFER],
        callback_addresses=[CallbackAddress(uri="https://cb", events=["contract.negotiation"])],
        decision={"allowed": True, "reasons": []},
    )
    rendered = render_negotiation(n)
    assert rendered == {
        "@context": RESPONSE_CONTEXT,
        "@type": "ContractNegotiation",
        "@id": "n1",
        "type": "CONSUMER",
        "protocol": "dataspace-protocol-http:2025-1",
        "state": "FINALIZED",
        "counterPartyId": "BPNL1",
        "counterPartyAddress": "https://p/dsp",
        "callbackAddresses": {
            "@type": "CallbackAddress",
            "transactional": False,
            "uri": "https://cb",
            "events": "contract.negotiation",
        },
        "createdAt": 1000,
        "assetId": "asset-1",
        "contractAgreementId": "agr-1",
        "karez:consumerPid": "n1",
        "karez:providerPid": "p1",
        "karez:dspState": "FINALIZED",
        "karez:offers": {
            "@id": "b2ZmZXItMQ==:YXNzZXQtMQ==:MTIz",
            "@type": "odrl:Offer",
            "odrl:permission": {
                "odrl:action": {"@id": "odrl:use"},
                "odrl:constraint": {
                    "odrl:leftOperand": {"@id": CX + "Membership"},
                    "odrl:operator": {"@id": "odrl:eq"},
                    "odrl:rightOperand": "active",
                },
            },
            "odrl:prohibition": [],
            "odrl:obligation": [],
            "odrl:assigner": "BPNL000000000001",
            "odrl:target": {"@id": "asset-1"},
        },
        "karez:decision": {"@type": "@json", "@value": {"allowed": True, "reasons": []}},
    }
    assert_is_compacted_json_ld(rendered)
    # a rendered offer reads back as the same DSP offer
    assert (
        parse_counter({"@context": RESPONSE_CONTEXT, "policy": rendered["karez:offers"]})
        == EXPECTED_OFFER
    )


def test_render_negotiation_minimal_and_error() -> None:
    rendered = render_negotiation(negotiation(state="TERMINATED", error_detail="refused"))
    assert rendered["errorDetail"] == "refused"
    assert rendered["callbackAddresses"] == []
    assert rendered["karez:offers"] == []
    assert "contractAgreementId" not in rendered
    assert rendered["karez:dspState"] == "TERMINATED"
    assert "karez:dspState" not in render_negotiation(negotiation(state="INITIAL"))
    assert_is_compacted_json_ld(rendered)


@pytest.mark.parametrize(
    ("state", "edc"),
    [
        ("REQUESTED", "REQUESTED"),
        ("dspace:AGREED", "AGREED"),
        ("https://w3id.org/dspace/2025/1/FINALIZED", "FINALIZED"),
    ],
)
def test_negotiation_state(state: str, edc: str) -> None:
    assert render_negotiation_state(negotiation(state=state)) == {
        "@context": RESPONSE_CONTEXT,
        "@type": "NegotiationState",
        "state": edc,
    }
    assert render_negotiation_state(state)["state"] == edc


def test_rendered_negotiations_are_queryable() -> None:
    items = [
        render_negotiation(negotiation(id="n1", state="FINALIZED", agreement_id="agr-1")),
        render_negotiation(negotiation(id="n2", state="REQUESTED")),
    ]
    for left, right in [
        ("contractAgreementId", "agr-1"),
        ("state", "FINALIZED"),
        ("edc:state", "FINALIZED"),
        ("karez:dspState", "FINALIZED"),
    ]:
        spec = QuerySpec(filter_expression=[Criterion(left, "=", right)])
        assert [n["@id"] for n in apply(items, spec)] == ["n1"], left


def test_render_agreement() -> None:
    agreement = ContractAgreement(
        id="agr-1",
        provider_id="BPNL1",
        consumer_id="BPNL2",
        asset_id="asset-1",
        policy={
            "@id": "agr-1",
            "@type": "Agreement",
            "target": "asset-1",
            "assigner": "BPNL1",
            "assignee": "BPNL2",
            "permission": [{"action": "use"}],
        },
        signing_date=1700000000123,
    )
    rendered = render_agreement(agreement)
    assert rendered == {
        "@context": RESPONSE_CONTEXT,
        "@type": "ContractAgreement",
        "@id": "agr-1",
        "assetId": "asset-1",
        "policy": {
            "@id": "agr-1",
            "@type": "odrl:Agreement",
            "odrl:permission": {"odrl:action": {"@id": "odrl:use"}},
            "odrl:prohibition": [],
            "odrl:obligation": [],
            "odrl:assignee": "BPNL2",
            "odrl:assigner": "BPNL1",
            "odrl:target": {"@id": "asset-1"},
        },
        "contractSigningDate": 1700000000,
        "consumerId": "BPNL2",
        "providerId": "BPNL1",
    }
    assert_is_compacted_json_ld(rendered)
