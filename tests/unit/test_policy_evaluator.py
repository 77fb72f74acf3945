"""Policy decisions: permissions, prohibitions, logical constraints, duties, explanations."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connector.domain import KAREZ_NS, ODRL_NS
from connector.policy import (
    Decision,
    RequestContext,
    action_includes,
    default_registry,
    evaluate,
    parse_policy,
)

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
CLAIM = KAREZ_NS + "claim/"


def ctx(**kw: Any) -> RequestContext:
    base: dict[str, Any] = {"now": NOW, "participant_id": "did:web:consumer"}
    return RequestContext(**{**base, **kw})


def atom(left: str, op: str, right: Any) -> dict[str, Any]:
    return {"leftOperand": left, "operator": op, "rightOperand": right}


def permit(*constraints: dict[str, Any], action: str = "use", **extra: Any) -> dict[str, Any]:
    return {
        "@type": "Offer",
        "permission": [{"action": action, "constraint": list(constraints)}],
        **extra,
    }


TIER_GOLD = atom(CLAIM + "tier", "eq", "gold")
TIER_SILVER = atom(CLAIM + "tier", "eq", "silver")
REGION_EU = atom(CLAIM + "region", "eq", "EU")


def test_satisfied_permission_permits() -> None:
    d = evaluate(permit(atom("dateTime", "lteq", "2027-12-31T00:00:00Z")), ctx())
    assert d.permitted and d.rule == "permission[0]" and not d.failures
    assert d.explain()[0] == "odrl:use is permitted by permission[0]"


def test_failed_constraint_denies_with_explanation() -> None:
    d = evaluate(permit(atom("dateTime", "lteq", "2023-12-31T06:00:00Z")), ctx())
    assert not d.permitted and d.rule is None
    [failure] = d.failures
    assert failure.path == "permission[0].constraint[0]"
    assert failure.left_operand == ODRL_NS + "dateTime"
    assert failure.operator == ODRL_NS + "lteq"
    assert failure.right_operand == "2023-12-31T06:00:00Z"
    assert failure.seen_value == NOW
    assert (
        "permission[0] constraint odrl:dateTime lteq 2023-12-31T06:00:00Z failed: "
        "saw 2026-11-25T10:00:00Z" in d.explain()
    )


def test_policy_without_permission_denies() -> None:
    d = evaluate({"@type": "Set", "prohibition": [{"action": "distribute"}]}, ctx())
    assert not d.permitted
    assert any("no permission" in line for line in d.explain())


def test_first_satisfied_permission_wins() -> None:
    policy = {
        "permission": [
            {"action": "use", "constraint": [TIER_GOLD]},
            {"action": "use", "constraint": [TIER_SILVER]},
        ]
    }
    d = evaluate(policy, ctx(claims={"tier": "silver"}))
    assert d.permitted and d.rule == "permission[1]" and not d.failures


def test_all_constraints_of_a_rule_must_hold() -> None:
    d = evaluate(permit(TIER_GOLD, REGION_EU), ctx(claims={"tier": "gold", "region": "US"}))
    assert not d.permitted
    assert [f.path for f in d.failures] == ["permission[0].constraint[1]"]


@pytest.mark.parametrize(
    "granted,requested,expected",
    [
        ("use", "read", True),
        ("use", "use", True),
        ("odrl:read", "read", True),
        ("read", "use", False),
        ("read", "distribute", False),
        (KAREZ_NS + "compute", KAREZ_NS + "compute", True),
    ],
)
def test_action_matching(granted: str, requested: str, expected: bool) -> None:
    assert action_includes(granted, requested) is expected
    d = evaluate(permit(action=granted), ctx(action=requested))
    assert d.permitted is expected
    if not expected:
        assert any("does not cover" in line for line in d.explain())


# -- unknown operands fail closed ---------------------------------------------------------------


def test_unregistered_operand_fails_closed() -> None:
    d = evaluate(permit(atom("partner", "eq", "gold")), ctx())
    assert not d.permitted
    [failure] = d.failures
    assert failure.seen_value is None
    assert "no resolver for left operand partner" in failure.reason
    assert d.explain()[1] == (
        "permission[0] constraint partner eq gold failed: no resolver for left operand partner"
    )


def test_registered_operand_is_used() -> None:
    registry = default_registry()
    registry.register("partner", lambda c: c.claims.get("partner"))
    policy = permit(atom("partner", "eq", "gold"))
    assert evaluate(policy, ctx(claims={"partner": "gold"}), registry).permitted
    assert not evaluate(policy, ctx(claims={"partner": "gold"})).permitted


def test_missing_claim_fails_closed() -> None:
    d = evaluate(permit(TIER_GOLD), ctx(claims={}))
    assert not d.permitted and "no value for karez:claim/tier" in d.failures[0].reason


def test_negated_unknown_does_not_permit() -> None:
    d = evaluate(permit(atom("purpose", "neq", "marketing")), ctx())
    assert not d.permitted


def test_right_operand_reference_fails_closed() -> None:
    policy = permit(
        {
            "leftOperand": "purpose",
            "operator": "eq",
            "rightOperandReference": "https://example.org/purposes",
        }
    )
    d = evaluate(policy, ctx(purpose="x"))
    assert not d.permitted and "no resolver for right operand references" in d.failures[0].reason


# -- logical constraints ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "claims,expected,failures",
    [
        ({"tier": "gold", "region": "EU"}, False, 1),  # two hold
        ({"tier": "gold", "region": "US"}, True, 0),  # one holds
        ({"tier": "bronze", "region": "US"}, False, 2),  # none holds
        ({"region": "US"}, False, 2),  # one unknown, none holds
        ({"region": "EU"}, False, 1),  # one holds, one unknown: might be two
    ],
)
def test_xone(claims: dict[str, str], expected: bool, failures: int) -> None:
    d = evaluate(permit({"xone": [TIER_GOLD, REGION_EU]}), ctx(claims=claims))
    assert d.permitted is expected
    assert len(d.failures) == failures


def test_xone_two_satisfied_explains() -> None:
    d = evaluate(
        permit({"xone": [TIER_GOLD, REGION_EU]}), ctx(claims={"tier": "gold", "region": "EU"})
    )
    [failure] = d.failures
    assert failure.path == "permission[0].constraint[0]" and failure.seen_value == 2
    assert "xone needs exactly one" in failure.sentence()
    assert failure.sentence().startswith("permission[0] constraint xone(karez:claim/tier eq gold")


@pytest.mark.parametrize(
    "claims,expected",
    [
        ({"tier": "gold", "region": "EU"}, True),
        ({"tier": "gold", "region": "US"}, False),
        ({"tier": "silver", "region": "EU"}, False),
    ],
)
def test_and(claims: dict[str, str], expected: bool) -> None:
    assert (
        evaluate(permit({"and": [TIER_GOLD, REGION_EU]}), ctx(claims=claims)).permitted is expected
    )


@pytest.mark.parametrize(
    "claims,expected,failures",
    [
        ({"tier": "gold"}, True, 0),
        ({"tier": "silver"}, True, 0),
        ({"tier": "bronze"}, False, 2),
        ({}, False, 2),
    ],
)
def test_or(claims: dict[str, str], expected: bool, failures: int) -> None:
    d = evaluate(permit({"or": [TIER_GOLD, TIER_SILVER]}), ctx(claims=claims))
    assert d.permitted is expected and len(d.failures) == failures


def test_and_sequence_stops_at_first_failure() -> None:
    policy = permit({"andSequence": [TIER_GOLD, REGION_EU]})
    assert evaluate(policy, ctx(claims={"tier": "gold", "region": "EU"})).permitted
    d = evaluate(policy, ctx(claims={"tier": "silver", "region": "US"}))
    assert not d.permitted
    assert [f.path for f in d.failures] == ["permission[0].constraint[0].andSequence[0]"]
    d = evaluate(policy, ctx(claims={"tier": "gold", "region": "US"}))
    assert [f.path for f in d.failures] == ["permission[0].constraint[0].andSequence[1]"]


def test_nested_logical_constraints() -> None:
    policy = permit({"or": [{"and": [TIER_GOLD, REGION_EU]}, TIER_SILVER]})
    assert evaluate(policy, ctx(claims={"tier": "gold", "region": "EU"})).permitted
    assert evaluate(policy, ctx(claims={"tier": "silver"})).permitted
    d = evaluate(policy, ctx(claims={"tier": "gold", "region": "US"}))
    assert not d.permitted
    paths = [f.path for f in d.failures]
    assert paths == [
        "permission[0].constraint[0].or[0].and[1]",
        "permission[0].constraint[0].or[1]",
    ]


# -- prohibitions -------------------------------------------------------------------------------


def with_prohibition(*constraints: dict[str, Any], action: str = "use", **extra: Any) -> dict:
    policy = permit(**extra)
    policy["prohibition"] = [{"action": action, "constraint": list(constraints)}]
    return policy


def test_prohibition_wins() -> None:
    policy = with_prohibition(atom("purpose", "eq", "marketing"))
    d = evaluate(policy, ctx(purpose="marketing"))
    assert not d.permitted and d.rule == "prohibition[0]"
    assert d.explain()[0] == "odrl:use is denied by prohibition[0]"
    assert "odrl:purpose eq marketing" in d.explain()[1]
    assert evaluate(policy, ctx(purpose="research")).permitted


def test_prohibition_on_other_action_does_not_apply() -> None:
    policy = with_prohibition(action="distribute")
    assert evaluate(policy, ctx(action="read")).permitted
    d = evaluate(policy, ctx(action="distribute"))
    assert not d.permitted and d.rule == "prohibition[0]"


def test_prohibition_with_unknown_operand_applies() -> None:
    d = evaluate(with_prohibition(atom(CLAIM + "sanctioned", "eq", True)), ctx(claims={}))
    assert not d.permitted and d.rule == "prohibition[0]"
    assert "no value" in d.failures[0].reason


def test_conflict_strategies() -> None:
    perm = with_prohibition(conflict="perm")
    d = evaluate(perm, ctx())
    assert d.permitted and any("conflict perm" in r for r in d.reasons)
    invalid = with_prohibition(conflict="invalid")
    d = evaluate(invalid, ctx())
    assert not d.permitted and any("void" in r for r in d.reasons)


# -- targets and parties ------------------------------------------------------------------------


def test_target_must_match_the_asset() -> None:
    policy = permit(target="urn:asset:1")
    assert evaluate(policy, ctx(asset_id="urn:asset:1")).permitted
    assert evaluate(policy, ctx()).permitted  # asset unknown: not checked
    d = evaluate(policy, ctx(asset_id="urn:asset:2"))
    assert not d.permitted and any("target" in r for r in d.reasons)


def test_assignee_must_be_the_requester() -> None:
    policy = permit(assignee="did:web:consumer")
    assert evaluate(policy, ctx()).permitted
    assert not evaluate(policy, ctx(participant_id="did:web:other")).permitted
    assert not evaluate(policy, ctx(participant_id=None)).permitted


# -- duties -------------------------------------------------------------------------------------


def test_duties_and_obligations_are_listed() -> None:
    policy = {
        "permission": [
            {
                "action": "use",
                "duty": [
                    {"action": "attribute"},
                    {"action": "delete", "constraint": [atom("elapsedTime", "eq", "P30D")]},
                ],
            }
        ],
        "obligation": [{"action": "compensate"}],
    }
    d = evaluate(policy, ctx())
    assert d.permitted
    assert [x.path for x in d.duties] == [
        "permission[0].duty[0]",
        "permission[0].duty[1]",
        "obligation[0]",
    ]
    assert [x.rule.action.iri for x in d.duties] == [
        ODRL_NS + "attribute",
        ODRL_NS + "delete",
        ODRL_NS + "compensate",
    ]
    assert "permission[0].duty[1] must be fulfilled: odrl:delete when odrl:elapsedTime eq P30D" in (
        d.explain()
    )


def test_no_duties_when_denied() -> None:
    policy = {"permission": [{"action": "read", "duty": {"action": "attribute"}}]}
    assert evaluate(policy, ctx(action="use")).duties == ()


# -- operands in context ------------------------------------------------------------------------


def test_elapsed_time_count_purpose_spatial() -> None:
    policy = permit(
        atom("elapsedTime", "lteq", {"@value": "P30D", "@type": "xsd:duration"}),
        atom("count", "lt", 10),
        atom("purpose", "isAnyOf", ["research", "education"]),
        atom("spatial", "isNoneOf", [{"@id": "urn:country:US"}]),
    )
    good = ctx(
        agreement_time=NOW - timedelta(days=3),
        use_count=2,
        purpose="research",
        jurisdiction="urn:country:DE",
    )
    assert evaluate(policy, good).permitted
    late = ctx(
        agreement_time=NOW - timedelta(days=31),
        use_count=2,
        purpose="research",
        jurisdiction="urn:country:DE",
    )
    d = evaluate(policy, late)
    assert not d.permitted and "saw P31D" in d.failures[0].reason


def test_action_refinement_is_checked() -> None:
    policy = {
        "permission": [{"action": {"rdf:value": {"@id": "odrl:use"}, "refinement": [TIER_GOLD]}}]
    }
    assert evaluate(policy, ctx(claims={"tier": "gold"})).permitted
    d = evaluate(policy, ctx(claims={"tier": "silver"}))
    assert d.failures[0].path == "permission[0].action.refinement[0]"


def test_policy_object_and_dict_agree() -> None:
    policy = permit(TIER_GOLD)
    c = ctx(claims={"tier": "gold"})
    assert evaluate(parse_policy(policy), c).permitted == evaluate(policy, c).permitted


def test_type_mismatch_reason_in_explanation() -> None:
    d = evaluate(permit(atom("dateTime", "lt", "soon")), ctx())
    assert "cannot read 'soon' as xsd:dateTime (saw 2026-11-25T10:00:00Z)" in d.explain()[1]


# -- records ------------------------------------------------------------------------------------


def test_record_is_json_and_complete() -> None:
    policy = with_prohibition(atom(CLAIM + "tier", "eq", "blocked"), target="urn:asset:1")
    policy["permission"][0]["duty"] = [{"action": "attribute"}]
    c = ctx(
        claims={"tier": "gold", "since": NOW},
        asset_id="urn:asset:1",
        agreement_time=datetime(2026, 1, 1),
    )
    d = evaluate(policy, c)
    record = json.loads(json.dumps(d.to_record()))
    assert record["permitted"] is True and record["rule"] == "permission[0]"
    assert record["action"] == ODRL_NS + "use" and record["scope"] == "negotiation"
    assert record["evaluatedAt"] == "2026-11-25T10:00:00Z"
    assert record["duties"][0] == {"path": "permission[0].duty[0]", "duty": {"action": "attribute"}}
    assert record["policy"]["target"] == "urn:asset:1"
    assert record["context"]["claims"]["since"] == "2026-11-25T10:00:00Z"
    assert record["context"]["agreement_time"] == "2026-01-01T00:00:00Z"  # naive read as UTC
    assert record["explanation"] == d.explain()
    denied = evaluate(permit(atom("dateTime", "gt", "2030-01-01")), c).to_record()
    assert denied["failures"][0]["seenValue"] == "2026-11-25T10:00:00Z"
    assert json.dumps(denied)


def test_decision_is_a_value() -> None:
    d = evaluate(permit(), ctx())
    assert isinstance(d, Decision) and d.matched_rule is not None
    assert d.matched_rule.action.iri == ODRL_NS + "use"


# -- tracing ------------------------------------------------------------------------------------

TRACE_CASES = [
    permit(TIER_GOLD),
    permit({"or": [TIER_GOLD, TIER_SILVER]}),
    permit({"xone": [TIER_GOLD, REGION_EU]}, action="read"),
    with_prohibition(atom("purpose", "eq", "marketing")),
    {
        "permission": [
            {"action": "read", "constraint": [REGION_EU]},
            {"action": "use", "constraint": [TIER_GOLD], "duty": [{"action": "attribute"}]},
        ],
        "obligation": [{"action": "delete"}],
    },
]


@pytest.mark.parametrize("policy", TRACE_CASES)
@pytest.mark.parametrize(
    "claims", [{}, {"tier": "gold"}, {"tier": "silver", "region": "EU"}, {"region": "EU"}]
)
def test_tracing_does_not_change_the_decision(policy: dict, claims: dict) -> None:
    parsed = parse_policy(policy)
    for purpose in (None, "marketing"):
        c = ctx(claims=claims, purpose=purpose)
        plain, traced = evaluate(policy, c), evaluate(policy, c, trace=True)
        # the decision is the same; only the explanation may add the values a trace saw
        skip = ("rules", "obligations", "explanation")
        record = {k: v for k, v in traced.to_record().items() if k not in skip}
        assert record == {k: v for k, v in plain.to_record().items() if k not in skip}
        assert traced.explain()[0] == plain.explain()[0]
        assert plain.rules == () and plain.obligations == ()
        assert len(traced.rules) == len(parsed.permissions) + len(parsed.prohibitions)
        assert len(traced.obligations) == len(parsed.obligations)


def test_traced_results() -> None:
    policy = permit({"or": [TIER_GOLD, TIER_SILVER]}, assignee="did:web:consumer", target="urn:a")
    d = evaluate(policy, ctx(claims={"tier": "silver"}, asset_id="urn:a"), trace=True)
    [rule] = d.rules
    assert rule.active and rule.target is True and rule.party is True and rule.action is True
    [logical] = rule.constraints
    assert logical.state is True and [m.state for m in logical.members] == [False, True]
    assert logical.members[0].seen == "silver"
    assert d.to_record()["rules"][0]["constraints"][0]["members"][1]["satisfied"] is True


def test_all_premise_reasons_are_given() -> None:
    policy = permit(action="read", assignee="did:web:other", target="urn:a")
    d = evaluate(policy, ctx(action="write", asset_id="urn:b"))
    assert d.reasons == (
        "permission[0] does not apply: its action odrl:read does not cover odrl:write; "
        "its target urn:a is not the requested asset urn:b; "
        "its assignee did:web:other is not the requester did:web:consumer",
    )
