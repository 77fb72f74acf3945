"""inheritFrom: parents found through a lookup, merged rules, conflicts, failures."""

from datetime import UTC, datetime
from typing import Any

import pytest

from connector.errors import ValidationFailure
from connector.policy import RequestContext, evaluate, parse_policy, resolve_inheritance

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
CTX = RequestContext(now=NOW, participant_id="did:web:c", action="read", asset_id="urn:a")

PARENT = {
    "@id": "urn:parent",
    "target": "urn:a",
    "permission": [{"action": "read"}],
    "prohibition": [{"action": "distribute"}],
}
CHILD = {"@id": "urn:child", "inheritFrom": "urn:parent", "permission": [{"action": "print"}]}


def test_child_gets_the_parents_rules() -> None:
    merged = resolve_inheritance(parse_policy(CHILD), {"urn:parent": PARENT}.get)
    assert [r.action_iri.rsplit("/", 1)[-1] for r in merged.permissions] == ["print", "read"]
    assert merged.prohibitions[0].target is not None  # the parent's target moved into its rules
    assert merged.prohibitions[0].target.iri == "urn:a"
    assert merged.inherit_from == () and merged.target is None


def test_evaluate_with_lookup() -> None:
    d = evaluate(CHILD, CTX, lookup={"urn:parent": parse_policy(PARENT)}.get)
    assert d.permitted and d.rule == "permission[1]"
    other_asset = RequestContext(now=NOW, action="read", asset_id="urn:b", participant_id="x")
    assert not evaluate(CHILD, other_asset, lookup={"urn:parent": PARENT}.get).permitted


def test_grandparents_and_several_parents() -> None:
    grand = {"@id": "urn:grand", "obligation": [{"action": "attribute"}]}
    parent = {**PARENT, "inheritFrom": ["urn:grand"]}
    other = {"@id": "urn:other", "permission": [{"action": "index"}]}
    child = {**CHILD, "inheritFrom": ["urn:parent", "urn:other"]}
    lookup = {"urn:parent": parent, "urn:grand": grand, "urn:other": other}.get
    merged = resolve_inheritance(parse_policy(child), lookup)
    assert len(merged.permissions) == 3 and len(merged.obligations) == 1
    assert [x.path for x in evaluate(child, CTX, lookup=lookup).duties] == ["obligation[0]"]


@pytest.mark.parametrize(
    "child_conflict,parent_conflict,merged",
    [
        (None, None, None),
        ("perm", None, "perm"),
        (None, "prohibit", "prohibit"),
        ("perm", "prohibit", "invalid"),
    ],
)
def test_conflict_strategies_merge(
    child_conflict: str | None, parent_conflict: str | None, merged: str | None
) -> None:
    child: dict[str, Any] = dict(CHILD)
    parent: dict[str, Any] = dict(PARENT)
    if child_conflict:
        child["conflict"] = child_conflict
    if parent_conflict:
        parent["conflict"] = parent_conflict
    assert resolve_inheritance(parse_policy(child), {"urn:parent": parent}.get).conflict == merged


@pytest.mark.parametrize(
    "lookup,needle",
    [
        (None, "no policy lookup was given"),
        ({}.get, "the parent policy urn:parent cannot be found"),
        ({"urn:parent": {**PARENT, "inheritFrom": "urn:child"}, "urn:child": CHILD}.get, "cycle"),
    ],
)
def test_missing_or_cyclic_parents_fail_closed(lookup: Any, needle: str) -> None:
    with pytest.raises(ValidationFailure, match=needle):
        resolve_inheritance(parse_policy(CHILD), lookup)
    d = evaluate(CHILD, CTX, lookup=lookup)
    assert not d.permitted and needle in d.reasons[0] and "nothing is permitted" in d.reasons[0]
