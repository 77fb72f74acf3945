"""expand/compact: offline, cached, and every failure a ValidationFailure."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from pyld import jsonld

from connector.errors import UnknownContext, ValidationFailure
from connector.jsonld import processor as processor_module
from connector.jsonld.loader import BundledLoader, bundled_index
from connector.jsonld.processor import JsonLdProcessor

EDC = "https://w3id.org/edc/v0.0.1/ns/"
ODRL = "http://www.w3.org/ns/odrl/2/"
DSP = "https://w3id.org/dspace/2025/1/context.jsonld"

ASSET = {
    "@context": {"@vocab": EDC, "dct": "http://purl.org/dc/terms/"},
    "@id": "asset-1",
    "properties": {
        "name": "product description",
        "contenttype": "application/json",
        "dct:type": {"@id": "https://w3id.org/catenax/taxonomy#Submodel"},
    },
    "dataAddress": {"@type": "DataAddress", "type": "HttpData", "baseUrl": "https://example.com"},
}

CONTRACT_REQUEST_MESSAGE = {
    "@context": [DSP],
    "@type": "ContractRequestMessage",
    "consumerPid": "urn:uuid:32541fe6-c580-409e-85a8-8a9a32fbe833",
    "offer": {
        "@type": "Offer",
        "@id": "urn:uuid:d526561f-528e-4d5a-ae12-9a9dd9b7a815",
        "target": "urn:uuid:3dd1add8-4d2d-569e-d634-8394a8836a88",
        "permission": [
            {
                "action": "use",
                "constraint": [
                    {
                        "leftOperand": "dateTime",
                        "operator": "lteq",
                        "rightOperand": "2023-12-31T06:00Z",
                    }
                ],
            }
        ],
    },
    "callbackAddress": "https://example.com/callback",
}

DATASET = {
    "@context": [DSP],
    "@id": "urn:uuid:3afeadd8-ed2d-569e-d634-8394a8836d57",
    "@type": "Dataset",
    "hasPolicy": [
        {
            "@type": "Offer",
            "@id": "urn:uuid:2828282:3dd1add8-4d2d-569e-d634-8394a8836a88",
            "permission": [{"action": "use"}],
        }
    ],
    "distribution": [
        {
            "@type": "Distribution",
            "format": "HttpData-PULL",
            "accessService": {
                "@id": "urn:uuid:4aa2",
                "@type": "DataService",
                "endpointURL": "https://provider-a.com/connector",
            },
        }
    ],
}


class GuardedLoader(BundledLoader):
    """Counts loads; fails the test if asked for a URL that is not bundled."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def __call__(self, url: str, options: Any = None) -> dict[str, Any]:
        self.calls.append(url)
        if url not in bundled_index():
            raise UnknownContext(f"unbundled {url}", path="@context", invalid_value=url)
        return super().__call__(url, options)


class StrictLoader(BundledLoader):
    """Fails the test outright if asked for anything that is not bundled."""

    def __call__(self, url: str, options: Any = None) -> dict[str, Any]:
        if url not in bundled_index():
            pytest.fail(f"the loader was asked for an unbundled URL: {url}")
        return super().__call__(url, options)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("JSON-LD processing attempted network access")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(jsonld, "_default_document_loader", refuse)


def without_context(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_context(v) for k, v in value.items() if k != "@context"}
    if isinstance(value, list):
        return [without_context(v) for v in value]
    return value


def test_expand_edc_asset() -> None:
    [node] = JsonLdProcessor().expand(ASSET)
    assert node["@id"] == "asset-1"  # relative ids stay as written
    props = node[EDC + "properties"][0]
    assert props[EDC + "name"] == [{"@value": "product description"}]
    assert props["http://purl.org/dc/terms/type"] == [
        {"@id": "https://w3id.org/catenax/taxonomy#Submodel"}
    ]


@pytest.mark.parametrize("message", [CONTRACT_REQUEST_MESSAGE, DATASET])
def test_dsp_messages_round_trip_through_the_dsp_context(message: dict) -> None:
    p = JsonLdProcessor()
    for _ in range(2):  # the second pass runs on a warm cache
        for doc in (CONTRACT_REQUEST_MESSAGE, DATASET):
            compacted = p.compact(p.expand(doc), DSP)
            assert compacted["@context"] == DSP
            assert without_context(compacted) == without_context(doc)
    assert without_context(p.compact(p.expand(message), {"@context": DSP})) == without_context(
        message
    )


def test_imported_context_is_not_corrupted_by_an_earlier_import() -> None:
    p = JsonLdProcessor()
    policy_definition = {
        "@context": "https://w3id.org/edc/connector/management/v0.0.1",
        "@type": "PolicyDefinition",
        "@id": "p1",
        "policy": {"@type": "Set", "permission": [{"action": "use"}]},
    }
    [pd] = p.expand(policy_definition)
    assert pd[EDC + "policy"][0][ODRL + "permission"][0][ODRL + "action"] == [{"@id": ODRL + "use"}]
    odrl_doc = {
        "@context": "http://www.w3.org/ns/odrl.jsonld",
        "uid": "http://example.com/p",
        "@type": "Set",
        "permission": [{"action": "use"}],
    }
    assert p.expand(odrl_doc)[0]["@id"] == "http://example.com/p"


@pytest.mark.parametrize(
    "doc",
    [
        {"@context": "https://example.com/unknown.jsonld", "a": 1},
        {"@context": [{"@vocab": EDC}, "https://example.com/unknown.jsonld"], "a": 1},
        {"@context": {"@import": "https://example.com/unknown.jsonld"}, "a": 1},
        {
            "@context": {"@vocab": EDC, "p": {"@id": "edc:p", "@context": "https://example.com/u"}},
            "p": {"a": 1},
        },
        {"@context": {"@vocab": EDC}, "a": {"@context": "https://example.com/u", "b": 1}},
    ],
)
def test_unknown_remote_context_never_touches_the_network(doc: dict) -> None:
    loader = GuardedLoader()
    with pytest.raises(UnknownContext) as err:
        JsonLdProcessor(loader).expand(doc)
    assert err.value.path == "@context"
    assert str(err.value.invalid_value).startswith("https://example.com/u")


def test_unknown_compaction_context() -> None:
    with pytest.raises(UnknownContext):
        JsonLdProcessor().compact({"@id": "x"}, "https://example.com/ctx")


@pytest.mark.parametrize(
    "doc",
    [
        {"@context": 5},
        {"@id": 5},
        {"@type": {"a": 1}},
        {"@context": {"@vocab": 5}},
        {"@context": {"a": {"@id": "@context"}}, "a": 1},
        {"@context": {"@version": 2}},
        {"@context": [{"@import": 5}]},
        {"@context": {"x": {"@id": "http://x/", "@container": "@bogus"}}, "x": 1},
        {"@context": {"@vocab": "http://x/"}, "a": {"@value": 1, "@language": 5}},
        {"@context": "relative.jsonld", "a": 1},
        "just a string",
        42,
    ],
)
def test_invalid_json_ld_is_a_validation_failure(doc: Any) -> None:
    with pytest.raises(ValidationFailure):
        JsonLdProcessor().expand(doc)


def test_deep_nesting_is_a_validation_failure() -> None:
    doc: dict[str, Any] = {}
    current = doc
    for _ in range(5000):
        current["http://x/a"] = {}
        current = current["http://x/a"]
    with pytest.raises(ValidationFailure, match="nested too deeply"):
        JsonLdProcessor().expand(doc)


def test_contexts_are_loaded_once_and_cached() -> None:
    loader = GuardedLoader()
    p = JsonLdProcessor(loader)
    body = {
        **ASSET,
        "@context": ["https://w3id.org/edc/connector/management/v0.0.1", {"@vocab": EDC}],
    }
    for _ in range(5):
        p.expand(body)
    assert loader.calls.count("https://w3id.org/edc/connector/management/v0.0.1") == 1


def test_expand_is_fast_once_warm() -> None:
    p = JsonLdProcessor()
    p.expand(ASSET)
    runs = 200
    start = time.perf_counter()
    for _ in range(runs):
        p.expand(ASSET)
    per_call_ms = (time.perf_counter() - start) * 1000 / runs
    assert per_call_ms < 10, per_call_ms  # measured ~0.13 ms; generous for slow CI machines


def test_module_functions_use_the_configured_extras(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(processor_module, "_default", None)
    path = tmp_path / "ctx.jsonld"
    path.write_text('{"@context": {"ex": "https://example.com/ns/"}}')
    with pytest.raises(UnknownContext):
        processor_module.expand({"@context": "https://example.com/ctx", "ex:a": 1})
    processor_module.configure({"https://example.com/ctx": path})
    [node] = processor_module.expand({"@context": "https://example.com/ctx", "ex:a": 1})
    assert node == {"https://example.com/ns/a": [{"@value": 1}]}
    compacted = processor_module.compact([node], "https://example.com/ctx")
    assert compacted["ex:a"] == 1


@pytest.mark.parametrize("url", sorted(bundled_index()))
def test_bundled_contexts_resolve_without_anything_else(url: str) -> None:
    p = JsonLdProcessor(StrictLoader())
    assert p.expand({"@context": url, "@id": "urn:x", "@type": "urn:T"}) == [
        {"@id": "urn:x", "@type": ["urn:T"]}
    ]
