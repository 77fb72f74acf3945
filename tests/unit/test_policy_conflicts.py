"""Conflict strategies between an active permission and an active prohibition."""

from datetime import UTC, datetime
from typing import Any

import pytest

from connector.policy import RequestContext, evaluate

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)


def policy(conflict: str | None, prohibited: str = "use", **prohibition: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "permission": [{"action": "use"}],
        "prohibition": [{"action": prohibited, **prohibition}],
    }
    if conflict:
        out["conflict"] = conflict
    return out


def ctx(**kw: Any) -> RequestContext:
    return RequestContext(**{"now": NOW, "participant_id": "did:web:c", "action": "read", **kw})


@pytest.mark.parametrize(
    "conflict,permitted,rule,note",
    [
        ("perm", True, "permission[0]", "lets permissions win (conflict perm)"),
        ("prohibit", False, "prohibition[0]", None),
        ("invalid", False, "prohibition[0]", "the policy is void (conflict invalid)"),
        (None, False, "prohibition[0]", "the policy is void (conflict invalid, ODRL's default)"),
    ],
)
def test_strategies(conflict: str | None, permitted: bool, rule: str, note: str | None) -> None:
    d = evaluate(policy(conflict), ctx())
    assert d.permitted is permitted and d.rule == rule
    if note:
        assert any(note in r for r in d.reasons)
    else:
        assert not any("conflict" in r for r in d.reasons)


@pytest.mark.parametrize("conflict", ["perm", "prohibit", "invalid", None])
def test_no_conflict_when_the_prohibition_does_not_apply(conflict: str | None) -> None:
    d = evaluate(policy(conflict, prohibited="distribute"), ctx())
    assert d.permitted and not any("conflict" in r for r in d.reasons)


def test_prohibition_alone_denies_whatever_the_strategy() -> None:
    for conflict in ("perm", "prohibit", "invalid"):
        d = evaluate({"prohibition": [{"action": "use"}], "conflict": conflict}, ctx())
        assert not d.permitted and d.rule is None


def test_prohibition_for_another_party_does_not_apply() -> None:
    d = evaluate(policy("prohibit", assignee="did:web:other"), ctx())
    assert d.permitted


def test_prohibition_applies_to_an_unknown_requester() -> None:
    d = evaluate(policy("prohibit", assignee="did:web:other"), ctx(participant_id=None))
    assert not d.permitted  # nobody matches the permission either, but the prohibition applies
    d = evaluate(
        {"permission": [{"action": "use"}], "prohibition": [{"action": "use", "assignee": "x"}]},
        ctx(participant_id=None),
    )
    assert not d.permitted and d.rule == "prohibition[0]"
