"""Comparing a consumer's requested terms with the provider's offer."""

import copy
from typing import Any

import pytest

from connector.errors import ValidationFailure
from connector.policy import same_terms

ODRL = "http://www.w3.org/ns/odrl/2/"

OFFER: dict[str, Any] = {
    "@id": "urn:uuid:offer-1",
    "@type": "Offer",
    "permission": [
        {
            "action": "use",
            "constraint": [
                {
                    "leftOperand": "dateTime",
                    "operator": "lteq",
                    "rightOperand": "2027-12-31T00:00:00Z",
                },
                {
                    "leftOperand": "https://w3id.org/karez/ns/purpose",
                    "operator": "isAnyOf",
                    "rightOperand": ["research", "education"],
                },
                {
                    "xone": [
                        {"leftOperand": "count", "operator": "lt", "rightOperand": 10},
                        {
                            "leftOperand": "spatial",
                            "operator": "eq",
                            "rightOperand": {"@id": "urn:EU"},
                        },
                    ]
                },
            ],
            "duty": [{"action": "attribute"}],
        }
    ],
    "prohibition": [{"action": "distribute"}],
    "obligation": [
        {
            "action": "delete",
            "constraint": [
                {
                    "leftOperand": "elapsedTime",
                    "operator": "eq",
                    "rightOperand": {"@value": "P30D", "@type": "xsd:duration"},
                }
            ],
        }
    ],
}


def test_identical_terms() -> None:
    assert same_terms(OFFER, copy.deepcopy(OFFER)) == (True, None)


def test_form_and_order_are_ignored() -> None:
    request = {
        "@id": "urn:uuid:some-other-id",
        "@type": "odrl:Agreement",
        "target": "urn:asset:1",
        "assigner": "did:web:provider",
        "assignee": "did:web:consumer",
        "profile": "https://w3id.org/karez/profile",
        "odrl:obligation": {
            "action": {"@id": "odrl:delete"},
            "constraint": {
                "leftOperand": {"@id": ODRL + "elapsedTime"},
                "operator": "odrl:eq",
                "rightOperand": {"@value": "PT720H", "@type": "xsd:duration"},
            },
        },
        "prohibition": {"action": ODRL + "distribute"},
        "permission": [
            {
                "action": {"rdf:value": {"@id": "odrl:use"}},
                "duty": {"action": "odrl:attribute"},
                "constraint": [
                    {
                        "xone": [
                            {
                                "leftOperand": "odrl:spatial",
                                "operator": {"@id": ODRL + "eq"},
                                "rightOperand": [{"@id": "urn:EU"}],
                            },
                            {
                                "leftOperand": "count",
                                "operator": "lt",
                                "rightOperand": {"@value": "10", "@type": "xsd:integer"},
                            },
                        ]
                    },
                    {
                        "leftOperand": "karez:purpose",
                        "operator": "isAnyOf",
                        "rightOperand": {"@list": ["education", {"@value": "research"}]},
                    },
                    {
                        "leftOperand": ODRL + "dateTime",
                        "operator": ODRL + "lteq",
                        "rightOperand": "2027-12-31T00:00:00Z",
                    },
                ],
            }
        ],
    }
    assert same_terms(OFFER, request) == (True, None)


def mutate(path: list[Any], value: Any = None, *, delete: bool = False) -> dict[str, Any]:
    request = copy.deepcopy(OFFER)
    node: Any = request
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return request


@pytest.mark.parametrize(
    "request_,needle",
    [
        (
            mutate(["permission", 0, "constraint", 0], delete=True),
            "permission odrl:use: constraint odrl:dateTime lteq 2027-12-31T00:00:00Z"
            " missing in the request",
        ),
        (
            mutate(["permission", 0, "constraint", 0, "rightOperand"], "2099-12-31T00:00:00Z"),
            "constraint odrl:dateTime lteq 2027-12-31T00:00:00Z missing in the request",
        ),
        (
            mutate(["permission", 0, "constraint", 0, "operator"], "gteq"),
            "constraint odrl:dateTime lteq 2027-12-31T00:00:00Z missing in the request",
        ),
        (
            mutate(
                ["permission", 0, "constraint", 1, "rightOperand"], ["research", "education", "ads"]
            ),
            "constraint karez:purpose isAnyOf [research, education] missing in the request",
        ),
        (
            mutate(["permission", 0, "constraint", 2, "xone", 0, "rightOperand"], 100),
            "constraint xone(odrl:count lt 10, odrl:spatial eq urn:EU) missing in the request",
        ),
        (
            mutate(
                ["permission", 0, "constraint", 2],
                {"or": OFFER["permission"][0]["constraint"][2]["xone"]},
            ),
            "xone(odrl:count lt 10",
        ),
        (
            mutate(["permission", 0, "duty"], delete=True),
            "permission odrl:use: duty odrl:attribute missing in the request",
        ),
        (
            mutate(["permission", 0, "action"], "read"),
            "permission odrl:use with odrl:dateTime lteq",
        ),
        (
            mutate(["prohibition"], delete=True),
            "prohibition odrl:distribute missing in the request",
        ),
        (mutate(["obligation"], delete=True), "obligation odrl:delete with odrl:elapsedTime eq"),
        (
            mutate(["obligation", 0, "constraint", 0, "rightOperand"], "P30D"),
            "obligation odrl:delete: constraint odrl:elapsedTime eq P30D missing in the request",
        ),
        (
            mutate(
                ["prohibition", 0, "constraint"],
                [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "ads"}],
            ),
            "prohibition odrl:distribute: constraint odrl:purpose eq ads"
            " in the request is not in the offer",
        ),
        (
            mutate(["permission", 0, "constraint", 0, "leftOperand"], "edc:inForceDate"),
            "constraint odrl:dateTime lteq",
        ),
    ],
)
def test_differences_are_caught(request_: dict[str, Any], needle: str) -> None:
    same, reason = same_terms(OFFER, request_)
    assert same is False and reason
    assert needle in reason


def test_extra_rule_in_request() -> None:
    request = copy.deepcopy(OFFER)
    request["permission"].append({"action": "use"})
    same, reason = same_terms(OFFER, request)
    assert not same and reason == "permission odrl:use in the request is not in the offer"


def test_typed_and_untyped_values_differ() -> None:
    offer = {
        "permission": [
            {
                "action": "use",
                "constraint": [{"leftOperand": "count", "operator": "lteq", "rightOperand": 5}],
            }
        ]
    }
    as_string = copy.deepcopy(offer)
    as_string["permission"][0]["constraint"][0]["rightOperand"] = "5"
    assert same_terms(offer, as_string)[0] is False
    as_decimal = copy.deepcopy(offer)
    as_decimal["permission"][0]["constraint"][0]["rightOperand"] = {
        "@value": "5.0",
        "@type": "xsd:decimal",
    }
    assert same_terms(offer, as_decimal) == (True, None)


def test_and_sequence_order_matters_but_and_order_does_not() -> None:
    a = {"leftOperand": "purpose", "operator": "eq", "rightOperand": "a"}
    b = {"leftOperand": "spatial", "operator": "eq", "rightOperand": "b"}
    for op, same in (("and", True), ("or", True), ("xone", True), ("andSequence", False)):
        offer = {"permission": [{"action": "use", "constraint": [{op: [a, b]}]}]}
        request = {"permission": [{"action": "use", "constraint": [{op: [b, a]}]}]}
        assert same_terms(offer, request)[0] is same


def test_malformed_request_is_a_difference_and_malformed_offer_raises() -> None:
    same, reason = same_terms(OFFER, {"permission": [{"action": "use", "constraint": [{"x": 1}]}]})
    assert not same and "not a valid policy" in (reason or "")
    with pytest.raises(ValidationFailure):
        same_terms({"permission": "nope"}, OFFER)
