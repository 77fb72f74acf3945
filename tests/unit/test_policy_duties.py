"""Duties: in force or not, fulfilled, violated, consequences, the two duty modes, obligations."""

from datetime import UTC, datetime
from typing import Any

import pytest

from connector.domain import KAREZ_NS
from connector.policy import RequestContext, default_registry, evaluate

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)  # a Wednesday
CLAIM = KAREZ_NS + "claim/"
DUTY = "urn:duty:pay"
CONSEQUENCE = "urn:duty:fine"


def ctx(**kw: Any) -> RequestContext:
    return RequestContext(**{"now": NOW, "participant_id": "did:web:consumer", **kw})


def with_duty(**duty: Any) -> dict[str, Any]:
    return {
        "permission": [{"action": "use", "duty": [{"@id": DUTY, "action": "compensate", **duty}]}]
    }


def paths(decision: Any) -> list[str]:
    return [d.path for d in decision.duties]


@pytest.mark.parametrize(
    "mode,state,permitted,pending",
    [
        ("after", None, True, ["permission[0].duty[0]"]),
        ("after", "notSet", True, ["permission[0].duty[0]"]),
        ("after", "fulfilled", True, []),
        ("after", "violated", False, []),
        ("before", None, False, []),
        ("before", "fulfilled", True, []),
        ("before", "violated", False, []),
    ],
)
def test_duty_states_and_modes(
    mode: str, state: str | None, permitted: bool, pending: list[str]
) -> None:
    states = {DUTY: state} if state else {}
    d = evaluate(with_duty(), ctx(duty_states=states), duty_mode=mode)  # type: ignore[arg-type]
    assert d.permitted is permitted
    assert paths(d) == pending
    if not permitted:
        assert any("held back by permission[0].duty[0] (odrl:compensate)" in r for r in d.reasons)


def test_duty_state_by_path_when_it_has_no_id() -> None:
    policy = {"permission": [{"action": "use", "duty": [{"action": "attribute"}]}]}
    d = evaluate(policy, ctx(duty_states={"permission[0].duty[0]": "violated"}))
    assert not d.permitted
    assert "it was violated" in d.reasons[0]


def test_duty_not_in_force_neither_blocks_nor_is_pending() -> None:
    policy = with_duty(
        constraint=[{"leftOperand": "dateTime", "operator": "gt", "rightOperand": "2030-01-01"}]
    )
    d = evaluate(policy, ctx(), duty_mode="before")
    assert d.permitted and d.duties == ()
    d = evaluate(policy, ctx(duty_states={DUTY: "violated"}))
    assert d.permitted  # violated, but it was never in force


def test_duty_whose_constraint_is_unknown_is_in_force() -> None:
    policy = with_duty(
        constraint=[{"leftOperand": CLAIM + "x", "operator": "eq", "rightOperand": 1}]
    )
    assert not evaluate(policy, ctx(), duty_mode="before").permitted
    assert paths(evaluate(policy, ctx())) == ["permission[0].duty[0]"]


def test_duty_constraint_failures_are_not_decision_failures() -> None:
    policy = with_duty(
        constraint=[{"leftOperand": "dateTime", "operator": "gt", "rightOperand": "2030-01-01"}]
    )
    assert evaluate(policy, ctx()).failures == ()


def test_consequences_of_a_violated_duty() -> None:
    policy = with_duty(consequence=[{"@id": CONSEQUENCE, "action": "compensate"}])
    d = evaluate(policy, ctx(duty_states={DUTY: "violated"}))
    assert not d.permitted
    assert "its consequences are not all fulfilled" in d.reasons[0]
    d = evaluate(policy, ctx(duty_states={DUTY: "violated", CONSEQUENCE: "fulfilled"}))
    assert d.permitted and d.duties == ()


def test_pending_consequences_are_listed_when_permitted() -> None:
    policy = {
        "permission": [{"action": "use", "duty": [{"@id": DUTY, "action": "compensate"}]}],
        "obligation": [
            {
                "@id": "urn:o",
                "action": "delete",
                "consequence": [{"@id": CONSEQUENCE, "action": "compensate"}],
            }
        ],
    }
    d = evaluate(policy, ctx(duty_states={"urn:o": "violated"}))
    assert d.permitted
    assert paths(d) == ["permission[0].duty[0]", "obligation[0].consequence[0]"]
    assert any("obligation[0] (odrl:delete) was violated" in r for r in d.reasons)


def test_obligations_on_another_party_are_not_the_requesters() -> None:
    policy = {
        "permission": [{"action": "use"}],
        "obligation": [
            {"action": "delete", "assignee": "did:web:provider"},
            {"action": "inform", "assignee": "did:web:consumer"},
            {"action": "attribute"},
        ],
    }
    assert paths(evaluate(policy, ctx())) == ["obligation[1]", "obligation[2]"]


def test_duty_with_refinement_is_explained() -> None:
    duty = {
        "action": {
            "rdf:value": {"@id": "odrl:compensate"},
            "refinement": [
                {
                    "leftOperand": "payAmount",
                    "operator": "eq",
                    "rightOperand": {"@value": "5.00", "@type": "xsd:decimal"},
                    "unit": "http://dbpedia.org/resource/Euro",
                }
            ],
        }
    }
    d = evaluate({"permission": [{"action": "play", "duty": [duty]}]}, ctx(action="play"))
    assert d.explain()[-1] == (
        "permission[0].duty[0] must be fulfilled: odrl:compensate with "
        "odrl:payAmount eq 5.00 http://dbpedia.org/resource/Euro"
    )


def test_duty_with_a_weekday_condition() -> None:
    """A duty whose constraint is a profile operand: it binds only on Sundays."""
    registry = default_registry()
    registry.register("https://example.org/dayOfWeek", lambda c: c.now.strftime("%A"))
    policy = with_duty(
        constraint=[
            {
                "leftOperand": "https://example.org/dayOfWeek",
                "operator": "eq",
                "rightOperand": "Sunday",
            }
        ]
    )
    assert evaluate(policy, ctx(), registry, duty_mode="before").permitted
    sunday = ctx(now=datetime(2026, 11, 29, tzinfo=UTC))
    assert not evaluate(policy, sunday, registry, duty_mode="before").permitted
