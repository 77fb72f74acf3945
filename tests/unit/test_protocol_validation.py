"""Schema validation: error paths, the offline registry, and the compiled fast check.

The compiled predicate must agree with ``jsonschema`` on every message and on many broken
variants of each (the differential test below).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from connector.errors import ValidationFailure
from connector.protocol import messages as m
from connector.protocol import validation as v
from connector.protocol.schemacheck import Compiler, Unsupported

C, P = "urn:uuid:c", "urn:uuid:p"
CONSTRAINTS = [
    {"leftOperand": "purpose", "operator": "eq", "rightOperand": "R&D"},
    {
        "or": [
            {"leftOperand": "spatial", "operator": "isAnyOf", "rightOperand": ["CN", "EU"]},
            {"and": [{"leftOperand": "count", "operator": "lteq", "rightOperand": "10"}]},
        ]
    },
]
OFFER = {
    "@id": "urn:uuid:o",
    "@type": "Offer",
    "target": "urn:uuid:d",
    "permission": [{"action": "use", "constraint": CONSTRAINTS}],
    "obligation": [{"action": "delete"}],
}
AGREEMENT = {
    **OFFER,
    "@type": "Agreement",
    "assigner": "did:web:p",
    "assignee": "did:web:c",
    "timestamp": "2025-01-01T00:00:00Z",
}
AGREEMENT.pop("obligation")
ADDRESS = m.data_address("https://p/public", "HTTP", {"authorization": "t"})
DATASET = {
    "@id": "urn:uuid:d",
    "@type": "Dataset",
    "hasPolicy": [{"@id": "urn:uuid:o", "@type": "Offer", "prohibition": [{"action": "sell"}]}],
    "distribution": [
        {
            "@type": "Distribution",
            "format": "HttpData-PULL",
            "accessService": {"@id": "s", "@type": "DataService", "endpointURL": "https://p"},
        }
    ],
}
CORPUS: list[tuple[str, dict[str, Any]]] = [
    ("ContractRequestMessage", m.contract_request(C, OFFER, callback_address="https://c")),
    ("ContractRequestMessage", m.contract_request(C, OFFER, provider_pid=P)),
    ("ContractOfferMessage", m.contract_offer(P, OFFER, consumer_pid=C)),
    ("ContractAgreementMessage", m.contract_agreement(C, P, AGREEMENT)),
    ("ContractNegotiationEventMessage", m.negotiation_event(C, P, "ACCEPTED")),
    ("ContractNegotiationTerminationMessage", m.negotiation_termination(C, P, code=1, reason="x")),
    ("ContractNegotiationError", m.negotiation_error("1", ["x"], C, P)),
    ("TransferRequestMessage", m.transfer_request(C, "a", "f", "https://c", ADDRESS)),
    ("TransferStartMessage", m.transfer_start(C, P, ADDRESS)),
    ("TransferSuspensionMessage", m.transfer_suspension(C, P, code="1", reason=["x"])),
    ("TransferTerminationMessage", m.transfer_termination(C, P)),
    ("TransferError", m.transfer_error("1", ["x"], C, P)),
    ("TransferProcess", m.transfer_ack(C, P, "STARTED")),
    ("Catalog", m.catalog("urn:uuid:cat", "did:web:p", datasets=[DATASET])),
    ("Dataset", m.dataset(DATASET)),
    ("CatalogError", m.catalog_error("1", ["x"])),
    ("VersionResponse", m.version_response("/dsp", auth={"protocol": "DCP", "version": "1.0"})),
]
JUNK: list[Any] = [None, 5, True, "s", [], {}, [{}]]


def mutations(obj: Any) -> Iterator[Any]:
    """Broken (and a few still valid) variants: keys dropped, values swapped, lists changed."""

    def at(root: Any, path: list[Any]) -> Any:
        for part in path:
            root = root[part]
        return root

    def walk(node: Any, path: list[Any]) -> Iterator[list[Any]]:
        yield path
        if isinstance(node, dict):
            for key, value in node.items():
                yield from walk(value, [*path, key])
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from walk(value, [*path, index])

    for path in list(walk(obj, [])):
        node = at(obj, path)
        if path:
            for junk in JUNK:
                variant = copy.deepcopy(obj)
                at(variant, path[:-1])[path[-1]] = junk
                yield variant
            if isinstance(path[-1], str):
                variant = copy.deepcopy(obj)
                del at(variant, path[:-1])[path[-1]]
                yield variant
        if isinstance(node, list) and node:
            for change in ("empty", "double"):
                variant = copy.deepcopy(obj)
                target = at(variant, path)
                target[:] = [] if change == "empty" else target + target[:1]
                yield variant
        if isinstance(node, dict):
            variant = copy.deepcopy(obj)
            at(variant, path)["extra"] = 1
            yield variant


@pytest.mark.parametrize(("message_type", "message"), CORPUS, ids=[t for t, _ in CORPUS])
def test_compiled_check_agrees_with_jsonschema(message_type: str, message: dict) -> None:
    fast = v.check_for(message_type)
    slow = v.validator_for(message_type)
    assert fast(message) and slow.is_valid(message)
    count = 0
    for variant in mutations(message):
        count += 1
        assert fast(variant) == slow.is_valid(variant), variant
    assert count > 10


def test_every_type_compiles_without_fallback() -> None:
    compiler = Compiler(v._documents())
    for message_type in v.MESSAGE_TYPES:
        compiler.compile(*v._known(message_type))


def test_unknown_type() -> None:
    with pytest.raises(ValidationFailure) as caught:
        v.validate("NoSuchMessage", {})
    assert caught.value.path == "@type"


def test_error_path_and_message() -> None:
    message = m.contract_agreement(C, P, AGREEMENT)
    message["agreement"]["permission"][0]["constraint"][1]["or"][0]["operator"] = "like"
    with pytest.raises(ValidationFailure) as caught:
        v.validate("ContractAgreementMessage", message)
    path = "agreement.permission[0].constraint[1].or[0].operator"
    assert caught.value.path == path
    assert caught.value.message.startswith(f"{path}: 'like' is not one of")
    assert caught.value.invalid_value == "like"


def test_root_errors_name_the_type() -> None:
    with pytest.raises(ValidationFailure) as caught:
        v.validate("TransferProcess", [])
    assert caught.value.path == ""
    assert caught.value.message.startswith("TransferProcess: ")


def test_timestamp_pattern() -> None:
    message = m.contract_agreement(C, P, {**AGREEMENT, "timestamp": "yesterday"})
    with pytest.raises(ValidationFailure) as caught:
        v.validate("ContractAgreementMessage", message)
    assert caught.value.path == "agreement.timestamp"


def test_ref_typo_is_fixed_in_memory() -> None:
    # transfer-error-schema.json refers to "transfer-schema.json#definitions/..." upstream.
    v.validate("TransferError", m.transfer_error("1", ["x"], C, P))
    with pytest.raises(ValidationFailure) as caught:
        v.validate("TransferError", m.transfer_error("1", ["x"], C, None))
    assert caught.value.path == "providerPid"


def test_registry_never_fetches() -> None:
    from referencing.exceptions import Unresolvable

    with pytest.raises(Unresolvable):
        v._registry().resolver().lookup("https://example.com/schema.json")


def test_format_path() -> None:
    assert v.format_path(["offer", "permission", 0, "action"]) == "offer.permission[0].action"
    assert v.format_path([0, "a"]) == "[0].a"
    assert v.format_path([]) == ""


# -- the compiler on its own -----------------------------------------------------------------


def _compile(schema: dict) -> Any:
    return Compiler({"urn:s": schema}).compile("urn:s")


def test_compiler_refuses_unknown_keywords() -> None:
    with pytest.raises(Unsupported):
        _compile({"unevaluatedProperties": False})
    with pytest.raises(Unsupported):
        _compile({"items": [{"type": "string"}]})
    with pytest.raises(Unsupported):
        _compile({"$ref": "urn:other"})


def test_compiler_json_equality() -> None:
    check = _compile({"const": 1})
    assert check(1) and check(1.0) and not check(True)
    check = _compile({"enum": [False, [1, {"a": None}]]})
    assert (
        check(False) and check([1, {"a": None}]) and not check(0) and not check([True, {"a": None}])
    )


def test_compiler_handles_recursion() -> None:
    schema = {
        "$ref": "#/definitions/Node",
        "definitions": {
            "Node": {
                "type": "object",
                "properties": {"kids": {"type": "array", "items": {"$ref": "#/definitions/Node"}}},
            }
        },
    }
    check = _compile(schema)
    assert check({"kids": [{"kids": []}, {}]})
    assert not check({"kids": [{"kids": [5]}]})


def test_compiler_types() -> None:
    check = _compile({"type": ["integer", "null"]})
    assert check(3) and check(3.0) and check(None)
    assert not check(True) and not check(3.5) and not check("3")
    assert _compile({"type": "number"})(2.5) and not _compile({"type": "number"})(False)


def test_compiler_failure_leaves_no_broken_entries() -> None:
    compiler = Compiler(
        {
            "urn:s": {
                "definitions": {
                    "A": {"properties": {"b": {"$ref": "#/definitions/B"}}},
                    "B": {"properties": {"a": {"$ref": "#/definitions/A"}}, "if": {}},
                }
            }
        }
    )
    for _ in range(2):
        with pytest.raises(Unsupported):
            compiler.compile("urn:s", "/definitions/A")
    with pytest.raises(Unsupported):
        compiler.compile("urn:s", "/definitions/Missing")
