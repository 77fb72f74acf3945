"""The response compactor gives exactly what JSON-LD compaction (PyLD) gives."""

from __future__ import annotations

from typing import Any

import pytest

from connector.jsonld import JsonLdProcessor
from connector.management_codec.base import RESPONSE_CONTEXT
from connector.management_codec.compact import Compactor

EDC = "https://w3id.org/edc/v0.0.1/ns/"
ODRL = "http://www.w3.org/ns/odrl/2/"
XSD = "http://www.w3.org/2001/XMLSchema#"
PROCESSOR = JsonLdProcessor()
COMPACTOR = Compactor(RESPONSE_CONTEXT)

NODES: list[dict[str, Any]] = [
    {
        "@id": "plain-id",
        "@type": [EDC + "Asset"],
        EDC + "name": "x",
        EDC + "n": 1.5,
        EDC + "flag": False,
        EDC + "none": None,
    },
    {
        "@id": EDC + "thing",
        "@type": [EDC + "A", ODRL + "Set"],
        EDC + "list": ["a", "b"],
        EDC + "one": ["a"],
        EDC + "empty": [],
    },
    {EDC + "edc": "vocab suffix equal to a prefix", EDC + "odrl": {"@id": ODRL + "use"}},
    {
        "https://example.com/ns#key": {"@value": "2024-01-01", "@type": XSD + "date"},
        EDC + "lang": {"@value": "Hallo", "@language": "de"},
    },
    {
        EDC + "ordered": {"@list": ["a", {"@id": "urn:x"}, 3]},
        EDC + "json": {"@type": "@json", "@value": {"any": ["json", 1, None]}},
    },
    {
        EDC + "nested": {
            "@type": [EDC + "Inner"],
            "http://purl.org/dc/terms/type": {"@id": "http://purl.org/dc/terms/Dataset"},
            "http://www.w3.org/ns/dcat#keyword": ["k1", "k2"],
        },
        "https://w3id.org/dspace/2025/1/state": {"@id": "https://w3id.org/dspace/2025/1/AGREED"},
        "https://w3id.org/karez/ns/extra": {"@id": "https://w3id.org/karez/ns/x"},
    },
]


@pytest.mark.parametrize("node", NODES)
def test_matches_pyld(node: dict[str, Any]) -> None:
    mine = COMPACTOR.document(node)
    assert PROCESSOR.compact(PROCESSOR.expand(mine), RESPONSE_CONTEXT) == mine


def test_iri_rules() -> None:
    assert COMPACTOR.iri(EDC + "state", vocab=True) == "state"
    assert COMPACTOR.iri(EDC + "state", vocab=False) == "edc:state"
    assert COMPACTOR.iri(EDC + "odrl", vocab=True) == "edc:odrl"
    assert COMPACTOR.iri(ODRL + "use", vocab=True) == "odrl:use"
    assert COMPACTOR.iri("urn:uuid:1", vocab=False) == "urn:uuid:1"
    assert COMPACTOR.iri(EDC, vocab=True) == EDC


def test_lists_collapse_like_compact_arrays() -> None:
    out = COMPACTOR.node({EDC + "a": ["x"], EDC + "b": [], EDC + "c": ["x", "y"]})
    assert out == {"a": "x", "b": [], "c": ["x", "y"]}
