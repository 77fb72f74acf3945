"""Refinements on actions, assets and parties; asset and party collections; units;
right-operand references."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from connector.domain import KAREZ_NS
from connector.policy import Quantity, RequestContext, Value, evaluate

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
CLAIM = KAREZ_NS + "claim/"
EURO = "http://dbpedia.org/resource/Euro"
DPI = "http://dbpedia.org/resource/Dots_per_inch"


def ctx(**kw: Any) -> RequestContext:
    return RequestContext(**{"now": NOW, "participant_id": "did:web:alice", **kw})


def atom(left: str, op: str, right: Any, **extra: Any) -> dict[str, Any]:
    return {"leftOperand": left, "operator": op, "rightOperand": right, **extra}


# -- action refinements ------------------------------------------------------------------------

PRINT_1200 = {
    "permission": [
        {
            "action": {
                "rdf:value": {"@id": "odrl:print"},
                "refinement": [atom("resolution", "lteq", 1200, unit=DPI)],
            }
        }
    ]
}


@pytest.mark.parametrize(
    "resolution,permitted",
    [(600, True), (1200, True), (1300, False), (Quantity(600, DPI), True)],
)
def test_action_refinement(resolution: Any, permitted: bool) -> None:
    d = evaluate(PRINT_1200, ctx(action="print", values={"resolution": resolution}))
    assert d.permitted is permitted


def test_action_refinement_unknown_fails_closed() -> None:
    d = evaluate(PRINT_1200, ctx(action="print"))
    assert not d.permitted
    assert d.explain()[1] == (
        "permission[0] refinement odrl:resolution lteq 1200 failed: "
        "the request has no value for odrl:resolution"
    )


def test_unit_mismatch_fails() -> None:
    d = evaluate(PRINT_1200, ctx(action="print", values={"resolution": Quantity(600, "urn:dpcm")}))
    assert not d.permitted
    assert "the value is in urn:dpcm, the constraint in " + DPI in d.failures[0].reason


def test_units_on_amounts() -> None:
    policy = {
        "permission": [
            {
                "action": "use",
                "constraint": [
                    atom("payAmount", "gteq", {"@value": "5.00", "@type": "xsd:decimal"}, unit=EURO)
                ],
            }
        ]
    }
    assert evaluate(policy, ctx(values={"payAmount": Quantity(Decimal("5"), EURO)})).permitted
    assert not evaluate(
        policy, ctx(values={"payAmount": Quantity(Decimal("4.99"), EURO)})
    ).permitted
    assert not evaluate(
        policy, ctx(values={"payAmount": Quantity(Decimal("9"), "urn:usd")})
    ).permitted


def test_refined_prohibition_applies_when_the_refinement_is_unknown() -> None:
    policy = {
        "permission": [{"action": "use"}],
        "prohibition": [
            {"action": {"@id": "odrl:print", "refinement": [atom("resolution", "gt", 300)]}}
        ],
        "conflict": "prohibit",
    }
    assert not evaluate(policy, ctx(action="print")).permitted
    assert not evaluate(policy, ctx(action="print", values={"resolution": 600})).permitted
    assert evaluate(policy, ctx(action="print", values={"resolution": 300})).permitted


# -- asset collections -------------------------------------------------------------------------


def test_asset_collection_by_membership() -> None:
    policy = {
        "permission": [{"action": "read", "target": {"@id": "urn:c", "@type": "AssetCollection"}}]
    }
    assert evaluate(
        policy, ctx(action="read", asset_id="urn:x", part_of={"urn:x": ["urn:c"]})
    ).permitted
    deep = {"urn:x": ["urn:b"], "urn:b": ["urn:c"]}
    assert evaluate(policy, ctx(action="read", asset_id="urn:x", part_of=deep)).permitted
    d = evaluate(policy, ctx(action="read", asset_id="urn:y", part_of={"urn:x": ["urn:c"]}))
    assert not d.permitted
    assert "its target asset collection urn:c is not the requested asset urn:y" in d.explain()[1]


def test_asset_collection_by_source_with_refinement() -> None:
    target = {
        "@type": "AssetCollection",
        "source": "urn:catalog",
        "refinement": [atom("fileFormat", "eq", "text/csv")],
    }
    policy = {"permission": [{"action": "use", "target": target}]}
    inside = {"urn:x": ["urn:catalog"]}
    good = ctx(asset_id="urn:x", part_of=inside, values={"fileFormat": "text/csv"})
    assert evaluate(policy, good).permitted
    d = evaluate(policy, ctx(asset_id="urn:x", part_of=inside, values={"fileFormat": "x/pdf"}))
    assert not d.permitted
    assert d.failures[0].path == "permission[0].target.refinement[0]"
    assert "but its refinements do not hold" in d.reasons[0]


def test_asset_collection_defined_by_refinement_only() -> None:
    target = {"@type": "AssetCollection", "refinement": [atom("language", "eq", "de")]}
    policy = {"permission": [{"action": "use", "target": target}]}
    assert evaluate(policy, ctx(asset_id="urn:x", values={"language": "de"})).permitted
    assert not evaluate(policy, ctx(asset_id="urn:x", values={"language": "fr"})).permitted


# -- party collections -------------------------------------------------------------------------

GOLD_MEMBERS = {
    "@id": "urn:members",
    "@type": "PartyCollection",
    "refinement": [atom(CLAIM + "tier", "eq", "gold")],
}


def test_party_collection_with_refinement() -> None:
    policy = {"permission": [{"action": "use", "assignee": GOLD_MEMBERS}]}
    member = {"did:web:alice": ["urn:members"]}
    assert evaluate(policy, ctx(part_of=member, claims={"tier": "gold"})).permitted
    assert not evaluate(policy, ctx(part_of=member, claims={"tier": "silver"})).permitted
    assert not evaluate(policy, ctx(part_of=member)).permitted  # claim unknown
    d = evaluate(policy, ctx(claims={"tier": "gold"}))  # not a member
    assert not d.permitted and "is not the requester did:web:alice" in d.reasons[0]


def test_policy_level_party_collection() -> None:
    policy = {
        "assignee": {"@id": "urn:group", "@type": "PartyCollection"},
        "permission": [{"action": "use"}],
    }
    assert evaluate(policy, ctx(part_of={"did:web:alice": ["urn:group"]})).permitted
    assert not evaluate(policy, ctx()).permitted


# -- right-operand references ------------------------------------------------------------------

PURPOSES = "https://example.org/allowed-purposes"


def referenced(op: str = "isAnyOf") -> dict[str, Any]:
    c = {"leftOperand": "purpose", "operator": op, "rightOperandReference": PURPOSES}
    return {"permission": [{"action": "use", "constraint": [c]}]}


@pytest.mark.parametrize(
    "value,purpose,permitted",
    [
        (["research", "teaching"], "research", True),
        (["research", "teaching"], "marketing", False),
        ((Value("research"), Value("teaching")), "teaching", True),
        ({"@id": "urn:purpose:research"}, "urn:purpose:research", True),
        ("research", "research", True),
    ],
)
def test_reference_resolves(value: Any, purpose: str, permitted: bool) -> None:
    d = evaluate(referenced(), ctx(purpose=purpose), references={PURPOSES: value}.get)
    assert d.permitted is permitted


def test_reference_failures_fail_closed() -> None:
    def broken(iri: str) -> Any:
        raise RuntimeError("store down")

    for resolver, needle in (
        (None, "no resolver for right operand references"),
        ({}.get, "has no value"),
        (broken, "store down"),
        ({PURPOSES: []}.get, "an empty list"),
    ):
        d = evaluate(referenced(), ctx(purpose="research"), references=resolver)
        assert not d.permitted and needle in d.failures[0].reason
        assert d.failures[0].right_operand == f"<{PURPOSES}>"


def test_reference_on_a_prohibition_applies_when_unresolved() -> None:
    policy = referenced("isNoneOf")
    policy["prohibition"] = policy.pop("permission")
    policy["permission"] = [{"action": "use"}]
    assert not evaluate(policy, ctx(purpose="research")).permitted
