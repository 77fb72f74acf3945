"""Parsing compact ODRL policies into the typed model."""

import json
from pathlib import Path

import pytest

from connector.domain import EDC_NS, KAREZ_NS, ODRL_NS
from connector.errors import ValidationFailure
from connector.jsonld import JsonLdProcessor
from connector.policy import Constraint, Entity, LogicalConstraint, Policy, Value, parse_policy
from connector.policy.model import XSD_NS, compact, expand

DSP_EXAMPLES = Path(__file__).resolve().parents[3] / "shared/dsp/2025-1/examples"
needs_dsp = pytest.mark.skipif(not DSP_EXAMPLES.exists(), reason="shared DSP examples missing")


def one_constraint(constraint: dict) -> Constraint:
    policy = parse_policy({"permission": [{"action": "use", "constraint": [constraint]}]})
    return policy.permissions[0].constraints[0]


@needs_dsp
def test_dsp_full_agreement_parses() -> None:
    message = json.loads(
        (DSP_EXAMPLES / "negotiation/contract-agreement-message-full.json").read_text()
    )
    policy = parse_policy(message["agreement"])
    assert policy.type == "Agreement"
    assert policy.uid == "urn:uuid:e8dc8655-44c2-46ef-b701-4cffdc2faa44"
    assert policy.target == Entity("urn:uuid:3dd1add4-4d2d-569e-d634-8394a8836d23")
    assert policy.assigner == Entity("http://example.com/Provider", "party")
    assert policy.assignee == Entity("http://example.com/Consumer", "party")
    assert policy.profile == ("https://test.com/profile",)
    assert len(policy.permissions) == 7
    first = policy.permissions[0]
    assert first.kind == "permission" and first.action.iri == ODRL_NS + "use"
    assert first.constraints[0] == Constraint(
        ODRL_NS + "dateTime", ODRL_NS + "lteq", Value("2023-12-31T06:00Z")
    )
    ops = [
        p.constraints[0].op
        for p in policy.permissions[1:]
        if p.constraints and isinstance(p.constraints[0], LogicalConstraint)
    ]
    assert ops == ["and", "or", "andSequence", "xone", "or"]
    nested = policy.permissions[6].constraints[0]
    assert isinstance(nested, LogicalConstraint)
    assert isinstance(nested.members[0], LogicalConstraint)
    assert nested.members[0].op == "and"
    # a short name outside ODRL is kept as it is
    assert policy.permissions[3].constraints[0].left_operand == "partner"


@needs_dsp
@pytest.mark.parametrize(
    "name,key",
    [
        ("negotiation/contract-request-message.json", "offer"),
        ("negotiation/contract-offer-message.json", "offer"),
        ("negotiation/contract-agreement-message.json", "agreement"),
    ],
)
def test_dsp_example_policies_parse(name: str, key: str) -> None:
    policy = parse_policy(json.loads((DSP_EXAMPLES / name).read_text())[key])
    assert policy.permissions
    assert parse_policy(policy.to_json()) == policy


@pytest.mark.parametrize(
    "action",
    [
        "use",
        "odrl:use",
        ODRL_NS + "use",
        {"@id": "use"},
        {"@id": "odrl:use"},
        {"rdf:value": {"@id": "odrl:use"}},
        {"rdf:value": "use"},
        ["use"],
    ],
)
def test_action_forms(action: object) -> None:
    policy = parse_policy({"permission": {"action": action}})
    assert policy.permissions[0].action.iri == ODRL_NS + "use"


def test_action_refinement_is_kept() -> None:
    policy = parse_policy(
        {
            "permission": [
                {
                    "action": {
                        "rdf:value": {"@id": "odrl:print"},
                        "refinement": [
                            {"leftOperand": "resolution", "operator": "lteq", "rightOperand": 1200}
                        ],
                    }
                }
            ]
        }
    )
    action = policy.permissions[0].action
    assert action.iri == ODRL_NS + "print"
    assert action.refinements[0].left_operand == ODRL_NS + "resolution"
    assert parse_policy(policy.to_json()) == policy


def test_non_odrl_action_iri_is_kept() -> None:
    policy = parse_policy({"permission": [{"action": KAREZ_NS + "compute"}]})
    assert policy.permissions[0].action.iri == KAREZ_NS + "compute"


@pytest.mark.parametrize("operator", ["eq", "odrl:eq", ODRL_NS + "eq", {"@id": "odrl:eq"}])
def test_operator_forms(operator: object) -> None:
    c = one_constraint({"leftOperand": "purpose", "operator": operator, "rightOperand": "x"})
    assert c.operator == ODRL_NS + "eq"


@pytest.mark.parametrize(
    "left,expected",
    [
        ("dateTime", ODRL_NS + "dateTime"),
        ("odrl:spatial", ODRL_NS + "spatial"),
        ({"@id": "purpose"}, ODRL_NS + "purpose"),
        ("https://w3id.org/karez/ns/purpose", KAREZ_NS + "purpose"),
        ("karez:claim/tier", KAREZ_NS + "claim/tier"),
        ("https://w3id.org/edc/v0.0.1/ns/inForceDate", EDC_NS + "inForceDate"),
        ("edc:inForceDate", EDC_NS + "inForceDate"),
    ],
)
def test_left_operand_normalisation(left: object, expected: str) -> None:
    c = one_constraint({"leftOperand": left, "operator": "eq", "rightOperand": "x"})
    assert c.left_operand == expected


@pytest.mark.parametrize(
    "right,expected",
    [
        ("x", Value("x")),
        (5, Value(5)),
        (2.5, Value(2.5)),
        (True, Value(True)),
        ({"@value": "5", "@type": "xsd:integer"}, Value("5", XSD_NS + "integer")),
        ({"@value": "x"}, Value("x")),
        ({"@id": "did:web:a"}, Value("did:web:a", iri=True)),
        (["a", {"@id": "b"}], (Value("a"), Value("b", iri=True))),
        ({"@list": ["a"]}, (Value("a"),)),
    ],
)
def test_right_operand_forms(right: object, expected: object) -> None:
    c = one_constraint({"leftOperand": "purpose", "operator": "eq", "rightOperand": right})
    assert c.right_operand == expected


def test_constraint_extras_and_prefixed_keys() -> None:
    policy = parse_policy(
        {
            "odrl:permission": {
                "odrl:action": {"@id": "odrl:use"},
                "odrl:constraint": {
                    "odrl:leftOperand": {"@id": "odrl:payAmount"},
                    "odrl:operator": {"@id": "odrl:lteq"},
                    "odrl:rightOperand": "10.5",
                    "unit": "http://dbpedia.org/resource/Euro",
                    "dataType": "xsd:decimal",
                },
            }
        }
    )
    c = policy.permissions[0].constraints[0]
    assert c.left_operand == ODRL_NS + "payAmount"
    assert c.unit == "http://dbpedia.org/resource/Euro"
    assert c.data_type == XSD_NS + "decimal"


def test_rules_duties_and_obligations() -> None:
    policy = parse_policy(
        {
            "@type": "odrl:Set",
            "uid": "urn:p",
            "permission": [{"action": "use", "duty": {"action": "attribute"}}],
            "prohibition": [{"action": "distribute", "remedy": [{"action": "delete"}]}],
            "obligation": [{"action": "delete", "consequence": {"action": "compensate"}}],
            "conflict": "perm",
        }
    )
    assert policy.type == "Set" and policy.uid == "urn:p" and policy.conflict == "perm"
    assert policy.permissions[0].duties[0].kind == "duty"
    assert policy.permissions[0].duties[0].action.iri == ODRL_NS + "attribute"
    assert policy.prohibitions[0].duties[0].action.iri == ODRL_NS + "delete"
    assert policy.obligations[0].kind == "obligation"
    assert policy.obligations[0].consequences[0].action.iri == ODRL_NS + "compensate"
    assert [path for path, _ in policy.rules()] == [
        "permission[0]",
        "prohibition[0]",
        "obligation[0]",
    ]
    assert parse_policy(policy.to_json()) == policy


def test_policy_without_type_is_a_set() -> None:
    assert parse_policy({}).type == "Set"


@pytest.mark.parametrize(
    "policy,path",
    [
        ([], None),
        ({"permission": ["use"]}, "permission[0]"),
        ({"permission": [{}]}, "permission[0].action"),
        ({"permission": [{"action": 5}]}, "permission[0].action"),
        ({"permission": [{"action": {"foo": 1}}]}, "permission[0].action"),
        (
            {
                "permission": [
                    {
                        "action": "use",
                        "constraint": [
                            {"leftOperand": "dateTime", "operator": "lt", "rightOperand": "x"},
                            {"leftOperand": "dateTime", "operator": "smaller", "rightOperand": "x"},
                        ],
                    }
                ]
            },
            "permission[0].constraint[1].operator",
        ),
        (
            {"prohibition": {"action": "use", "constraint": {"operator": "eq", "rightOperand": 1}}},
            "prohibition[0].constraint[0].leftOperand",
        ),
        (
            {
                "permission": {
                    "action": "use",
                    "constraint": {"leftOperand": "count", "rightOperand": 1},
                }
            },
            "permission[0].constraint[0].operator",
        ),
        (
            {
                "permission": {
                    "action": "use",
                    "constraint": {"leftOperand": "count", "operator": "eq"},
                }
            },
            "permission[0].constraint[0].rightOperand",
        ),
        (
            {
                "permission": {
                    "action": "use",
                    "constraint": {
                        "leftOperand": "count",
                        "operator": "eq",
                        "rightOperand": {"a": 1},
                    },
                }
            },
            "permission[0].constraint[0].rightOperand",
        ),
        (
            {"permission": {"action": "use", "constraint": {"or": []}}},
            "permission[0].constraint[0].or",
        ),
        (
            {
                "permission": {
                    "action": "use",
                    "constraint": {"or": [{"and": [{"leftOperand": "x"}]}]},
                }
            },
            "permission[0].constraint[0].or[0].and[0].operator",
        ),
        (
            {"permission": {"action": "use", "constraint": {"and": [], "or": []}}},
            "permission[0].constraint[0]",
        ),
        (
            {"permission": {"action": "use", "duty": [{"constraint": []}]}},
            "permission[0].duty[0].action",
        ),
        ({"permission": {"action": "use"}, "conflict": "maybe"}, "conflict"),
        ({"permission": {"action": "use", "target": 7}}, "permission[0].target"),
    ],
)
def test_malformed_policy_names_the_path(policy: object, path: str | None) -> None:
    with pytest.raises(ValidationFailure) as info:
        parse_policy(policy)
    assert info.value.path == path
    if path:
        assert info.value.message.startswith(path)


def test_expand_and_compact() -> None:
    assert expand("odrl:use") == ODRL_NS + "use"
    assert expand("did:web:example.com") == "did:web:example.com"
    assert expand("https://example.com/x") == "https://example.com/x"
    assert compact(ODRL_NS + "dateTime") == "odrl:dateTime"
    assert compact(KAREZ_NS + "claim/tier") == "karez:claim/tier"
    assert compact("urn:x") == "urn:x"


# -- JSON-LD forms, entities, inheritance ---------------------------------------------------------

W3C_STYLE = {
    "@context": "http://www.w3.org/ns/odrl.jsonld",
    "@type": "Agreement",
    "uid": "http://example.com/policy/C2",
    "inheritFrom": "http://example.com/policy/base",
    "conflict": "perm",
    "permission": [
        {
            "@id": "http://example.com/rule/C2",
            "assignee": "http://example.com/party/billie",
            "target": "http://example.com/music/1999.mp3",
            "action": "play",
            "duty": [
                {
                    "@id": "http://example.com/condition/1",
                    "action": [
                        {
                            "@id": "http://example.com/action/1",
                            "rdf:value": {"@id": "odrl:compensate"},
                            "refinement": [
                                {
                                    "@id": "http://example.com/refinement/1",
                                    "leftOperand": "payAmount",
                                    "operator": "eq",
                                    "rightOperand": {"@value": "5.00", "@type": "xsd:decimal"},
                                    "unit": "http://dbpedia.org/resource/Euro",
                                }
                            ],
                        }
                    ],
                    "constraint": [
                        {
                            "leftOperand": "dateTime",
                            "operator": "lt",
                            "rightOperand": {"@value": "2030-01-01", "@type": "xsd:date"},
                        }
                    ],
                }
            ],
        }
    ],
}


def _check_w3c_style(policy: Policy) -> None:
    assert policy.uid == "http://example.com/policy/C2" and policy.type == "Agreement"
    assert policy.inherit_from == ("http://example.com/policy/base",)
    assert policy.conflict == "perm"
    rule = policy.permissions[0]
    assert rule.uid == "http://example.com/rule/C2"
    assert rule.assignee == Entity("http://example.com/party/billie", "party")
    duty = rule.duties[0]
    assert duty.uid == "http://example.com/condition/1" and duty.action is not None
    assert duty.action.iri == ODRL_NS + "compensate"
    assert duty.action.uid == "http://example.com/action/1"
    refinement = duty.action.refinements[0]
    assert isinstance(refinement, Constraint)
    assert refinement.unit == "http://dbpedia.org/resource/Euro"
    assert refinement.uid == "http://example.com/refinement/1"
    [constraint] = duty.constraints
    assert isinstance(constraint, Constraint)
    assert constraint.right_operand in (
        Value("2030-01-01", XSD_NS + "date"),
        (Value("2030-01-01", XSD_NS + "date"),),
    )


def test_compact_with_the_odrl_context() -> None:
    policy = parse_policy(W3C_STYLE)
    _check_w3c_style(policy)
    assert parse_policy(policy.to_json()) == policy


def test_expanded_json_ld() -> None:
    expanded = JsonLdProcessor().expand(W3C_STYLE)
    assert isinstance(expanded, list) and ODRL_NS + "permission" in expanded[0]
    _check_w3c_style(parse_policy(expanded))


def test_expanded_logical_constraint_with_list() -> None:
    policy = parse_policy(
        [
            {
                "@type": [ODRL_NS + "Set"],
                ODRL_NS + "permission": [
                    {
                        ODRL_NS + "action": [{"@id": ODRL_NS + "use"}],
                        ODRL_NS + "constraint": [
                            {
                                ODRL_NS + "andSequence": [
                                    {
                                        "@list": [
                                            {
                                                ODRL_NS + "leftOperand": [
                                                    {"@id": ODRL_NS + "count"}
                                                ],
                                                ODRL_NS + "operator": [{"@id": ODRL_NS + "lt"}],
                                                ODRL_NS + "rightOperand": [{"@value": 3}],
                                            },
                                            {
                                                ODRL_NS + "leftOperand": [
                                                    {"@id": ODRL_NS + "purpose"}
                                                ],
                                                ODRL_NS + "operator": [{"@id": ODRL_NS + "eq"}],
                                                ODRL_NS + "rightOperand": [{"@value": "x"}],
                                            },
                                        ]
                                    }
                                ]
                            }
                        ],
                    }
                ],
            }
        ]
    )
    [logical] = policy.permissions[0].constraints
    assert isinstance(logical, LogicalConstraint) and logical.op == "andSequence"
    assert [m.left_operand for m in logical.members] == [ODRL_NS + "count", ODRL_NS + "purpose"]


@pytest.mark.parametrize(
    "types,expected",
    [("Offer", "Offer"), (["dcat:Thing", "odrl:Offer"], "Offer"), ([ODRL_NS + "Set"], "Set")],
)
def test_policy_type_forms(types: object, expected: str) -> None:
    assert parse_policy({"@type": types}).type == expected


def test_collections_parse_and_round_trip() -> None:
    policy = parse_policy(
        {
            "target": {
                "@type": "AssetCollection",
                "source": "urn:catalog",
                "refinement": {
                    "leftOperand": "fileFormat",
                    "operator": "eq",
                    "rightOperand": "csv",
                },
            },
            "permission": {
                "action": "use",
                "assignee": {"@id": "urn:group", "@type": "odrl:PartyCollection"},
                "assigner": {"@id": "did:web:provider"},
            },
        }
    )
    assert policy.target is not None and policy.target.collection
    assert policy.target.source == "urn:catalog" and policy.target.iri is None
    rule = policy.permissions[0]
    assert rule.assignee == Entity("urn:group", "party", collection=True)
    assert rule.assigner == Entity("did:web:provider", "party")
    assert parse_policy(policy.to_json()) == policy
    assert policy.target.describe() == "asset collection urn:catalog where odrl:fileFormat eq csv"


def test_an_entity_needs_an_iri_or_a_collection() -> None:
    with pytest.raises(ValidationFailure) as info:
        parse_policy({"permission": {"action": "use", "target": {"title": "x"}}})
    assert info.value.path == "permission[0].target"


@pytest.mark.parametrize(
    "context",
    [
        "http://www.w3.org/ns/odrl.jsonld",
        "https://w3id.org/dspace/2025/1/context.jsonld",
        "https://w3id.org/edc/connector/management/v0.0.1",
        {"odrl": ODRL_NS},  # prefixed terms, as EDC's older responses have them
    ],
)
def test_compacted_with_each_context(context: object) -> None:
    processor = JsonLdProcessor()
    compacted = processor.compact(processor.expand(W3C_STYLE), context)
    compacted.pop("@context")
    _check_w3c_style(parse_policy(compacted))
