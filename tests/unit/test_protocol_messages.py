"""Message builders produce schema-valid DSP 2025-1 messages; ``parse`` refuses bad input."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from connector.errors import UnknownContext, ValidationFailure
from connector.protocol import messages as m
from connector.protocol.validation import validate

DSP = "https://w3id.org/dspace/2025/1/context.jsonld"
C, P = "urn:uuid:consumer-1", "urn:uuid:provider-1"
OFFER = {
    "@id": "urn:uuid:offer-1",
    "@type": "Offer",
    "target": "urn:uuid:dataset-1",
    "permission": [
        {
            "action": "use",
            "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "R&D"}],
        }
    ],
}
AGREEMENT = {
    "@id": "urn:uuid:agreement-1",
    "@type": "Agreement",
    "target": "urn:uuid:dataset-1",
    "assigner": "did:web:provider.example",
    "assignee": "did:web:consumer.example",
    "timestamp": "2025-03-01T12:00:00Z",
    "permission": [{"action": "use"}],
}
ADDRESS = m.data_address(
    "https://provider.example/public",
    "https://w3id.org/idsa/v4.1/HTTP",
    {"authorization": "token-123", "authType": "bearer"},
)
CATALOG_OFFER = {"@id": "urn:uuid:offer-1", "@type": "Offer", "permission": [{"action": "use"}]}
DATASET = {
    "@id": "urn:uuid:dataset-1",
    "@type": "Dataset",
    "hasPolicy": [CATALOG_OFFER],
    "distribution": [{"@type": "Distribution", "format": "HttpData-PULL", "accessService": "s1"}],
}
SERVICE = {"@id": "s1", "@type": "DataService", "endpointURL": "https://provider.example/dsp"}

BUILDERS: dict[str, Callable[[], dict[str, Any]]] = {
    "request initial": lambda: m.contract_request(C, OFFER, callback_address="https://c/cb"),
    "request counter": lambda: m.contract_request(C, OFFER, provider_pid=P),
    "offer initial": lambda: m.contract_offer(P, OFFER, callback_address="https://p/cb"),
    "offer counter": lambda: m.contract_offer(P, OFFER, consumer_pid=C),
    "agreement": lambda: m.contract_agreement(C, P, AGREEMENT),
    "verification": lambda: m.agreement_verification(C, P),
    "event accepted": lambda: m.negotiation_event(C, P, "ACCEPTED"),
    "event finalized": lambda: m.negotiation_event(C, P, "FINALIZED"),
    "termination": lambda: m.negotiation_termination(C, P),
    "termination with reason": lambda: m.negotiation_termination(C, P, code=7, reason="no"),
    "negotiation ack": lambda: m.negotiation_ack(C, P, "AGREEING"),
    "negotiation error": lambda: m.negotiation_error("400", ["bad"], C, P),
    "transfer request pull": lambda: m.transfer_request(
        C, "urn:uuid:a", "HttpData-PULL", "https://c"
    ),
    "transfer request push": lambda: m.transfer_request(
        C, "urn:uuid:a", "HttpData-PUSH", "https://c", ADDRESS
    ),
    "transfer start": lambda: m.transfer_start(C, P, ADDRESS),
    "transfer start push": lambda: m.transfer_start(C, P),
    "transfer completion": lambda: m.transfer_completion(C, P),
    "transfer suspension": lambda: m.transfer_suspension(C, P, code="1", reason=["pause"]),
    "transfer suspension bare": lambda: m.transfer_suspension(C, P),
    "transfer termination": lambda: m.transfer_termination(C, P, code="2", reason="stop"),
    "transfer ack": lambda: m.transfer_ack(C, P, "RESUMING"),
    "transfer error": lambda: m.transfer_error(404, "unknown", C, P),
    "catalog request": lambda: m.catalog_request(),
    "catalog request filter": lambda: m.catalog_request([{"q": "x"}]),
    "dataset request": lambda: m.dataset_request("urn:uuid:dataset-1"),
    "catalog": lambda: m.catalog(
        "urn:uuid:cat", "did:web:p", datasets=[DATASET], services=[SERVICE]
    ),
    "catalog empty": lambda: m.catalog("urn:uuid:cat", "did:web:p"),
    "dataset": lambda: m.dataset(DATASET),
    "catalog error": lambda: m.catalog_error("403", ["no"]),
    "catalog error bare": lambda: m.catalog_error(),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_builder_output_validates(name: str) -> None:
    message = BUILDERS[name]()
    assert message["@context"] == [DSP]
    validate(message["@type"], message)
    assert m.check(message) == message
    assert m.parse(message["@type"], message) == message


def test_version_response() -> None:
    body = m.version_response(
        "/protocol/2025-1",
        service_id="urn:uuid:svc",
        identifier_type="did:web",
        auth={"protocol": "DCP", "version": "1.0", "profile": ["vc20-bssl/jwt"]},
        others=[m.version_entry("/protocol/2024-1", "2024-1")],
    )
    validate("VersionResponse", body)
    assert m.parse("VersionResponse", body) is body
    first = body["protocolVersions"][0]
    assert (first["version"], first["binding"], first["path"]) == (
        "2025-1",
        "HTTPS",
        "/protocol/2025-1",
    )
    assert body["protocolVersions"][1]["version"] == "2024-1"


def test_acks_map_our_states_to_dsp_states() -> None:
    assert m.negotiation_ack(C, P, "AGREEING")["state"] == "AGREED"
    assert m.negotiation_ack(C, P, "INITIAL")["state"] == "REQUESTED"
    assert m.transfer_ack(C, P, "RESUMING")["state"] == "STARTED"
    with pytest.raises(ValueError):
        m.transfer_ack(C, P, "DEPROVISIONED")


def test_request_and_offer_need_exactly_one_of_pid_and_callback() -> None:
    with pytest.raises(ValueError):
        m.contract_request(C, OFFER)
    with pytest.raises(ValueError):
        m.contract_request(C, OFFER, provider_pid=P, callback_address="https://c")
    with pytest.raises(ValueError):
        m.contract_offer(P, OFFER)


def test_reasons_and_codes() -> None:
    message = m.negotiation_termination(C, P, code=42, reason="too expensive")
    assert message["code"] == "42"
    assert message["reason"] == ["too expensive"]
    bare = m.transfer_termination(C, P, reason=[])
    assert "reason" not in bare and "code" not in bare


def test_errors_without_pids_do_not_pass_the_schema() -> None:
    body = m.negotiation_error("404", ["unknown negotiation"])
    assert "providerPid" not in body and "consumerPid" not in body
    with pytest.raises(ValidationFailure) as caught:
        m.check(body)
    assert caught.value.path in {"providerPid", "consumerPid"}


def test_data_address_round_trip() -> None:
    assert ADDRESS == {
        "@type": "DataAddress",
        "endpointType": "https://w3id.org/idsa/v4.1/HTTP",
        "endpoint": "https://provider.example/public",
        "endpointProperties": [
            {"@type": "EndpointProperty", "name": "authorization", "value": "token-123"},
            {"@type": "EndpointProperty", "name": "authType", "value": "bearer"},
        ],
    }
    validate("DataAddress", ADDRESS)
    assert m.endpoint_properties(ADDRESS) == {"authorization": "token-123", "authType": "bearer"}
    bare = m.data_address(None, "urn:x:push")
    assert bare == {"@type": "DataAddress", "endpointType": "urn:x:push"}
    assert m.endpoint_properties(bare) == {}


def test_endpoint_properties_refuses_malformed_items() -> None:
    with pytest.raises(ValidationFailure) as caught:
        m.endpoint_properties({"endpointProperties": [{"name": "a", "value": 1}]})
    assert caught.value.path == "dataAddress.endpointProperties[0]"


# -- parse -----------------------------------------------------------------------------------


def _request() -> dict[str, Any]:
    return copy.deepcopy(m.contract_request(C, OFFER, callback_address="https://c/cb"))


def _fails(body: object, expected: str = "ContractRequestMessage", **kw: Any) -> ValidationFailure:
    with pytest.raises(ValidationFailure) as caught:
        m.parse(expected, body, **kw)
    return caught.value


@pytest.mark.parametrize("body", [[], "x", 3, None])
def test_parse_needs_an_object(body: object) -> None:
    assert "JSON object" in _fails(body).message


def test_parse_accepts_the_context_as_a_string_and_returns_a_list() -> None:
    body = _request()
    body["@context"] = DSP
    parsed = m.parse("ContractRequestMessage", body)
    assert parsed["@context"] == [DSP]
    assert body["@context"] == DSP  # the input is left alone


@pytest.mark.parametrize(
    ("context", "path"),
    [
        ("https://w3id.org/dspace/2024/1/context.json", "@context"),
        (["https://example.com/remote.jsonld"], "@context[0]"),
        ([DSP, "https://example.com/remote.jsonld"], "@context[1]"),
        ([DSP, {"ex": "https://example.com/"}], "@context[1]"),
        ({"@vocab": "https://example.com/"}, "@context"),
        ([], "@context"),
        (None, "@context"),
    ],
)
def test_parse_rejects_wrong_contexts(context: Any, path: str) -> None:
    body = _request()
    body["@context"] = context
    error = _fails(body)
    assert error.path == path
    assert error.message.startswith("@context")


def test_remote_context_is_an_unknown_context() -> None:
    body = _request()
    body["@context"] = [DSP, "https://example.com/remote.jsonld"]
    assert isinstance(_fails(body), UnknownContext)


def test_missing_context() -> None:
    body = _request()
    del body["@context"]
    assert _fails(body).path == "@context"


def test_allowed_contexts() -> None:
    extra = "https://w3id.org/karez/context.jsonld"
    body = _request()
    body["@context"] = [DSP, extra]
    assert m.parse("ContractRequestMessage", body, allowed_contexts={extra}) is body
    body["@context"] = [extra]
    assert _fails(body, allowed_contexts={extra}).path == "@context"


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("ContractOfferMessage", "expected"),
        ("Bogus", "unknown"),
        ("dspace:ContractRequestMessage", "compact form"),
        ("https://w3id.org/dspace/2025/1/ContractRequestMessage", "compact form"),
        (["ContractRequestMessage"], "single string"),
    ],
)
def test_parse_rejects_wrong_types(value: Any, needle: str) -> None:
    body = _request()
    body["@type"] = value
    error = _fails(body)
    assert error.path == "@type"
    assert needle in error.message


def test_parse_missing_type() -> None:
    body = _request()
    del body["@type"]
    assert _fails(body).path == "@type"


def test_parse_accepts_one_of_several_types() -> None:
    body = m.negotiation_ack(C, P, "OFFERED")
    assert m.parse({"ContractNegotiation", "ContractNegotiationError"}, body) is body
    assert _fails(body, expected="TransferProcess").path == "@type"


def test_parse_refuses_an_unknown_expected_type() -> None:
    with pytest.raises(ValueError):
        m.parse("NoSuchMessage", _request())
    with pytest.raises(ValueError):
        m.parse("DataAddress", ADDRESS)


@pytest.mark.parametrize("field", ["consumerPid", "offer"])
def test_parse_names_missing_fields(field: str) -> None:
    body = _request()
    del body[field]
    error = _fails(body)
    assert error.path == field
    assert error.message.startswith(f"{field}: ")


def test_parse_names_nested_fields() -> None:
    body = _request()
    del body["offer"]["@id"]
    assert _fails(body).path == "offer.@id"
    body = _request()
    body["offer"]["permission"][0]["action"] = 5
    error = _fails(body)
    assert error.path == "offer.permission[0].action"
    assert error.message == "offer.permission[0].action: 5 is not of type 'string'"
    assert error.invalid_value == 5


def test_parse_names_pid_callback_conflict() -> None:
    body = _request()
    body["providerPid"] = P
    error = _fails(body)
    assert "callbackAddress" in error.message and "providerPid" in error.message


def test_parse_transfer_start_data_address() -> None:
    body = m.transfer_start(C, P, ADDRESS)
    body["dataAddress"]["endpointProperties"][1]["value"] = None
    error = _fails(body, expected="TransferStartMessage")
    assert error.path == "dataAddress.endpointProperties[1].value"


def test_parse_event_type_enum() -> None:
    body = m.negotiation_event(C, P, "REJECTED")
    assert _fails(body, expected="ContractNegotiationEventMessage").path == "eventType"
