"""Policy definitions: EDC / Tractus-X / Catena-X bodies to DSP compact ODRL and back."""

from __future__ import annotations

from typing import Any

import pytest

from connector.domain import PolicyDefinition
from connector.errors import ValidationFailure
from connector.jsonld import JsonLdProcessor
from connector.management_codec import (
    RESPONSE_CONTEXT,
    parse_policy_definition,
    render_policy_definition,
)

EDC = "https://w3id.org/edc/v0.0.1/ns/"
ODRL = "http://www.w3.org/ns/odrl/2/"
CX = "https://w3id.org/catenax/2025/9/policy/"
TX = "https://w3id.org/tractusx/v0.0.1/ns/"
PROCESSOR = JsonLdProcessor()


def INT(text: str) -> dict:  # noqa: N802 - reads like the literal it stands for
    return {"@value": text, "@type": "http://www.w3.org/2001/XMLSchema#integer"}


def assert_is_compacted_json_ld(doc: dict[str, Any]) -> None:
    assert PROCESSOR.compact(PROCESSOR.expand(doc), doc["@context"]) == doc


def without_id(policy: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in policy.items() if k != "@id"}


SPATIAL = {
    "@type": "Set",
    "permission": [
        {
            "action": "use",
            "constraint": [{"leftOperand": "spatial", "operator": "eq", "rightOperand": "EU"}],
        }
    ],
}

EDC_SAMPLE = {  # EDC's documentation sample: @vocab outside, the ODRL context inside
    "@context": {"@vocab": EDC},
    "@id": "aPolicy",
    "policy": {
        "@context": "http://www.w3.org/ns/odrl.jsonld",
        "@type": "Set",
        "permission": [
            {
                "action": "use",
                "constraint": [{"leftOperand": "spatial", "operator": "eq", "rightOperand": "EU"}],
            }
        ],
        "prohibition": [],
        "obligation": [],
    },
}

ODRL_PREFIXED = {
    "@context": {"@vocab": EDC, "odrl": ODRL},
    "@type": "PolicyDefinition",
    "@id": "aPolicy",
    "policy": {
        "@type": "odrl:Set",
        "odrl:permission": {
            "odrl:action": {"@id": "odrl:use"},
            "odrl:constraint": {
                "odrl:leftOperand": {"@id": "odrl:spatial"},
                "odrl:operator": {"@id": "odrl:eq"},
                "odrl:rightOperand": "EU",
            },
        },
    },
}

MANAGEMENT_CONTEXT = {
    "@context": "https://w3id.org/edc/connector/management/v0.0.1",
    "@type": "PolicyDefinition",
    "@id": "aPolicy",
    "policy": {
        "@type": "Set",
        "permission": [
            {
                "action": "use",
                "constraint": [{"leftOperand": "spatial", "operator": "eq", "rightOperand": "EU"}],
            }
        ],
    },
}

EXPANDED = [
    {
        "@id": "aPolicy",
        "@type": [EDC + "PolicyDefinition"],
        EDC + "policy": [
            {
                "@type": [ODRL + "Set"],
                ODRL + "permission": [
                    {
                        ODRL + "action": [{"@id": ODRL + "use"}],
                        ODRL + "constraint": [
                            {
                                ODRL + "leftOperand": [{"@id": ODRL + "spatial"}],
                                ODRL + "operator": [{"@id": ODRL + "eq"}],
                                ODRL + "rightOperand": [{"@value": "EU"}],
                            }
                        ],
                    }
                ],
            }
        ],
    }
]


@pytest.mark.parametrize(
    "body",
    [EDC_SAMPLE, ODRL_PREFIXED, MANAGEMENT_CONTEXT, EXPANDED],
    ids=["edc-sample", "odrl-prefixed", "management-context", "expanded"],
)
def test_parse_client_shapes(body: Any) -> None:
    definition = parse_policy_definition(body)
    assert definition.id == "aPolicy"
    assert without_id(definition.policy) == SPATIAL
    assert definition.policy["@id"].startswith("urn:uuid:")


def test_catena_x_policy() -> None:
    body = {
        "@context": [
            "https://w3id.org/catenax/2025/9/policy/context.jsonld",
            "http://www.w3.org/ns/odrl.jsonld",
            {"@vocab": EDC},
        ],
        "@type": "PolicyDefinition",
        "@id": "cx-usage",
        "policy": {
            "@type": "Set",
            "@id": "urn:policy:cx-usage",
            "profile": "cx-policy:profile2405",
            "permission": [
                {
                    "action": "use",
                    "constraint": {
                        "and": [
                            {
                                "leftOperand": "FrameworkAgreement",
                                "operator": "eq",
                                "rightOperand": "DataExchangeGovernance:1.0",
                            },
                            {
                                "leftOperand": "Membership",
                                "operator": "eq",
                                "rightOperand": "active",
                            },
                            {
                                "leftOperand": "UsagePurpose",
                                "operator": "isAnyOf",
                                "rightOperand": ["cx.core.industrycore:1", "cx.pcf.base:1"],
                            },
                        ]
                    },
                }
            ],
        },
    }
    definition = parse_policy_definition(body)
    assert definition.policy == {
        "@id": "urn:policy:cx-usage",
        "@type": "Set",
        "profile": [CX + "profile2405"],
        "permission": [
            {
                "action": "use",
                "constraint": [
                    {
                        "and": [
                            {
                                "leftOperand": CX + "FrameworkAgreement",
                                "operator": "eq",
                                "rightOperand": "DataExchangeGovernance:1.0",
                            },
                            {
                                "leftOperand": CX + "Membership",
                                "operator": "eq",
                                "rightOperand": "active",
                            },
                            {
                                "leftOperand": CX + "UsagePurpose",
                                "operator": "isAnyOf",
                                "rightOperand": ["cx.core.industrycore:1", "cx.pcf.base:1"],
                            },
                        ]
                    }
                ],
            }
        ],
    }
    rendered = render_policy_definition(definition)
    assert_is_compacted_json_ld(rendered)
    assert parse_policy_definition(rendered).policy == definition.policy


def test_legacy_literals_and_lists() -> None:
    body = {
        "@context": {"@vocab": EDC, "odrl": ODRL, "tx": TX},
        "@id": "bpn",
        "policy": {
            "@type": "odrl:Set",
            "odrl:permission": [
                {
                    "odrl:action": "USE",
                    "odrl:constraint": {
                        "@type": "LogicalConstraint",
                        "odrl:or": {
                            "@list": [
                                {
                                    "odrl:leftOperand": "tx:BusinessPartnerNumber",
                                    "odrl:operator": "EQ",
                                    "odrl:rightOperand": "BPNL000000000001",
                                },
                                {
                                    "odrl:leftOperand": "BusinessPartnerGroup",
                                    "odrl:operator": "odrl:isPartOf",
                                    "odrl:rightOperand": "gold",
                                },
                                {
                                    "odrl:leftOperand": "odrl:dateTime",
                                    "odrl:operator": "GEQ",
                                    "odrl:rightOperand": "2024-01-01T00:00:00Z",
                                },
                            ]
                        },
                    },
                }
            ],
        },
    }
    policy = parse_policy_definition(body).policy
    assert policy["permission"] == [
        {
            "action": "use",
            "constraint": [
                {
                    "or": [
                        {
                            "leftOperand": TX + "BusinessPartnerNumber",
                            "operator": "eq",
                            "rightOperand": "BPNL000000000001",
                        },
                        {
                            "leftOperand": EDC + "BusinessPartnerGroup",
                            "operator": "isPartOf",
                            "rightOperand": "gold",
                        },
                        {
                            "leftOperand": "dateTime",
                            "operator": "gteq",
                            "rightOperand": "2024-01-01T00:00:00Z",
                        },
                    ]
                }
            ],
        }
    ]


def test_rules_of_every_kind_are_kept() -> None:
    body = {
        "@context": "https://w3id.org/edc/connector/management/v0.0.1",
        "@type": "PolicyDefinition",
        "@id": "full",
        "policy": {
            "@type": "Offer",
            "@id": "urn:offer:1",
            "assigner": "did:web:provider",
            "target": "asset-1",
            "permission": [
                {
                    "action": "use",
                    "constraint": [
                        {
                            "xone": [
                                {
                                    "leftOperand": "purpose",
                                    "operator": "eq",
                                    "rightOperand": "research",
                                },
                                {
                                    "andSequence": [
                                        {
                                            "leftOperand": "count",
                                            "operator": "lteq",
                                            "rightOperand": 10,
                                        },
                                        {
                                            "leftOperand": "elapsedTime",
                                            "operator": "lt",
                                            "rightOperand": "P30D",
                                        },
                                    ]
                                },
                            ]
                        }
                    ],
                    "duty": [{"action": "attribute"}],
                }
            ],
            "prohibition": [{"action": "distribute", "remedy": [{"action": "delete"}]}],
            "obligation": [
                {
                    "action": "delete",
                    "constraint": [
                        {
                            "leftOperand": "dateTime",
                            "operator": "lt",
                            "rightOperand": "2030-01-01T00:00:00Z",
                        }
                    ],
                    "consequence": [{"action": "compensate"}],
                }
            ],
        },
    }
    definition = parse_policy_definition(body)
    assert definition.policy == {
        "@id": "urn:offer:1",
        "@type": "Offer",
        "target": "asset-1",
        "assigner": "did:web:provider",
        "permission": [
            {
                "action": "use",
                "constraint": [
                    {
                        "xone": [
                            {
                                "leftOperand": "purpose",
                                "operator": "eq",
                                "rightOperand": "research",
                            },
                            {
                                "andSequence": [
                                    {
                                        "leftOperand": "count",
                                        "operator": "lteq",
                                        "rightOperand": INT(
                                            "10"
                                        ),  # numbers become typed literals (DSP schema)
                                    },
                                    {
                                        "leftOperand": "elapsedTime",
                                        "operator": "lt",
                                        "rightOperand": "P30D",
                                    },
                                ]
                            },
                        ]
                    }
                ],
                "duty": [{"action": "attribute"}],
            }
        ],
        "prohibition": [{"action": "distribute", "remedy": [{"action": "delete"}]}],
        "obligation": [
            {
                "action": "delete",
                "constraint": [
                    {
                        "leftOperand": "dateTime",
                        "operator": "lt",
                        "rightOperand": "2030-01-01T00:00:00Z",
                    }
                ],
                "consequence": [{"action": "compensate"}],
            }
        ],
    }
    rendered = render_policy_definition(definition)
    assert_is_compacted_json_ld(rendered)
    assert parse_policy_definition(rendered).policy == definition.policy


def test_render_matches_edc() -> None:
    definition = PolicyDefinition(
        id="pd-1",
        policy={
            "@id": "urn:p",
            "@type": "Set",
            "permission": [
                {
                    "action": "use",
                    "constraint": [
                        {
                            "leftOperand": EDC + "BusinessPartnerNumber",
                            "operator": "eq",
                            "rightOperand": "BPNL1",
                        }
                    ],
                }
            ],
        },
        private_properties={"note": "internal"},
        created_at=1700000000000,
    )
    assert render_policy_definition(definition) == {
        "@context": RESPONSE_CONTEXT,
        "@id": "pd-1",
        "@type": "PolicyDefinition",
        "createdAt": 1700000000000,
        "policy": {
            "@id": "urn:p",
            "@type": "odrl:Set",
            "odrl:permission": {
                "odrl:action": {"@id": "odrl:use"},
                "odrl:constraint": {
                    "odrl:leftOperand": {"@id": "edc:BusinessPartnerNumber"},
                    "odrl:operator": {"@id": "odrl:eq"},
                    "odrl:rightOperand": "BPNL1",
                },
            },
            "odrl:prohibition": [],
            "odrl:obligation": [],
        },
        "privateProperties": {"note": "internal"},
    }


def test_policy_type_defaults_to_set_and_id_is_kept() -> None:
    body = {
        "@context": {"@vocab": EDC, "odrl": ODRL},
        "@id": "p",
        "policy": {"@id": "urn:mine", "odrl:permission": {"odrl:action": "use"}},
    }
    assert parse_policy_definition(body).policy == {
        "@id": "urn:mine",
        "@type": "Set",
        "permission": [{"action": "use"}],
    }


def test_definition_id_is_generated() -> None:
    body = {k: v for k, v in EDC_SAMPLE.items() if k != "@id"}
    assert parse_policy_definition(body).id.startswith("urn:uuid:")


def odrl_body(permission: Any) -> dict[str, Any]:
    return {
        "@context": {"@vocab": EDC, "odrl": ODRL},
        "@id": "p",
        "policy": {"odrl:permission": permission},
    }


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"@context": {"@vocab": EDC}, "@id": "p"}, "policy"),
        ({"@context": {"@vocab": EDC}, "@id": "p", "policy": "set"}, "policy"),
        (odrl_body({"odrl:constraint": []}), "policy.permission[0].action"),
        (odrl_body("use"), "policy.permission[0]"),
        (
            odrl_body(
                {
                    "odrl:action": {
                        "odrl:action": {"@id": "odrl:use"},
                        "odrl:refinement": {"odrl:leftOperand": "count"},
                    }
                }
            ),
            "policy.permission[0].action.refinement[0].operator",
        ),
        (odrl_body({"odrl:action": {"odrl:foo": 1}}), "policy.permission[0].action"),
        (odrl_body({"odrl:action": 5}), "policy.permission[0].action"),
        (
            odrl_body({"odrl:action": "use", "odrl:constraint": "x"}),
            "policy.permission[0].constraint[0]",
        ),
        (
            odrl_body(
                {
                    "odrl:action": "use",
                    "odrl:constraint": {
                        "odrl:leftOperand": "spatial",
                        "odrl:operator": {"@id": "odrl:bogus"},
                        "odrl:rightOperand": "EU",
                    },
                }
            ),
            "policy.permission[0].constraint[0].operator",
        ),
        (
            odrl_body(
                {
                    "odrl:action": "use",
                    "odrl:constraint": {"odrl:operator": "eq", "odrl:rightOperand": "EU"},
                }
            ),
            "policy.permission[0].constraint[0].leftOperand",
        ),
        (
            odrl_body(
                {
                    "odrl:action": "use",
                    "odrl:constraint": {"odrl:leftOperand": "spatial", "odrl:operator": "eq"},
                }
            ),
            "policy.permission[0].constraint[0].rightOperand",
        ),
        (
            odrl_body(
                {
                    "odrl:action": "use",
                    "odrl:constraint": {
                        "odrl:and": [
                            {
                                "odrl:leftOperand": "a",
                                "odrl:operator": "eq",
                                "odrl:rightOperand": 1,
                            },
                            {"odrl:leftOperand": "b", "odrl:operator": "~", "odrl:rightOperand": 1},
                        ]
                    },
                }
            ),
            "policy.permission[0].constraint[0].and[1].operator",
        ),
        (
            odrl_body({"odrl:action": "use", "odrl:constraint": {"odrl:and": [], "odrl:or": []}}),
            "policy.permission[0].constraint[0]",
        ),
        (
            odrl_body({"odrl:action": "use", "odrl:constraint": {"odrl:and": []}}),
            "policy.permission[0].constraint[0].and",
        ),
        (
            odrl_body(
                {
                    "odrl:action": "use",
                    "odrl:constraint": {
                        "odrl:and": {
                            "odrl:leftOperand": "a",
                            "odrl:operator": "eq",
                            "odrl:rightOperand": 1,
                        },
                        "odrl:or": {
                            "odrl:leftOperand": "a",
                            "odrl:operator": "eq",
                            "odrl:rightOperand": 1,
                        },
                    },
                }
            ),
            "policy.permission[0].constraint[0]",
        ),
        (
            odrl_body({"odrl:action": "use", "odrl:duty": {"odrl:constraint": []}}),
            "policy.permission[0].duty[0].action",
        ),
    ],
)
def test_validation_names_the_field(body: dict, path: str) -> None:
    with pytest.raises(ValidationFailure) as err:
        parse_policy_definition(body)
    assert err.value.path == path


def test_invalid_value_is_reported() -> None:
    body = odrl_body(
        {
            "odrl:action": "use",
            "odrl:constraint": {
                "odrl:leftOperand": "spatial",
                "odrl:operator": "odrl:approximately",
                "odrl:rightOperand": "EU",
            },
        }
    )
    with pytest.raises(ValidationFailure) as err:
        parse_policy_definition(body)
    assert err.value.invalid_value == "odrl:approximately"


def test_refined_actions() -> None:
    body = {
        "@context": ["http://www.w3.org/ns/odrl.jsonld", {"@vocab": EDC}],
        "@id": "p",
        "policy": {
            "@type": "Set",
            "permission": [
                {
                    "action": {
                        "rdf:value": {"@id": "odrl:print"},
                        "refinement": [
                            {"leftOperand": "resolution", "operator": "lteq", "rightOperand": 1200}
                        ],
                    },
                }
            ],
        },
    }
    definition = parse_policy_definition(body)
    refined = {
        "rdf:value": {"@id": "print"},
        "refinement": [
            {"leftOperand": "resolution", "operator": "lteq", "rightOperand": INT("1200")}
        ],
    }
    assert definition.policy["permission"] == [{"action": refined}]
    rendered = render_policy_definition(definition)
    assert rendered["policy"]["odrl:permission"]["odrl:action"] == {
        "odrl:action": {"@id": "odrl:print"},
        "odrl:refinement": {
            "odrl:leftOperand": {"@id": "odrl:resolution"},
            "odrl:operator": {"@id": "odrl:lteq"},
            "odrl:rightOperand": INT("1200"),
        },
    }
    assert_is_compacted_json_ld(rendered)
    assert parse_policy_definition(rendered).policy == definition.policy


def test_asset_collection_with_refinement_round_trips() -> None:
    body = {
        "@context": [
            {"@vocab": "https://w3id.org/edc/v0.0.1/ns/"},
            "http://www.w3.org/ns/odrl.jsonld",
        ],
        "@id": "collection-policy",
        "policy": {
            "@type": "Set",
            "permission": [
                {
                    "action": "use",
                    "target": {
                        "@type": "AssetCollection",
                        "source": "urn:karez:collection:cotton",
                        "refinement": [
                            {
                                "leftOperand": "dateTime",
                                "operator": "lt",
                                "rightOperand": "2030-01-01T00:00:00Z",
                            }
                        ],
                    },
                }
            ],
        },
    }
    definition = parse_policy_definition(body)
    target = definition.policy["permission"][0]["target"]
    assert target["@type"] == "AssetCollection"
    assert target["source"] == "urn:karez:collection:cotton"
    assert target["refinement"][0]["operator"] == "lt"
    rendered = render_policy_definition(definition)
    assert parse_policy_definition(rendered).policy == definition.policy
