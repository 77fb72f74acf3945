"""The ODRL 2.2 action hierarchy and profile additions."""

from datetime import UTC, datetime

import pytest

from connector.domain import KAREZ_NS, ODRL_NS
from connector.policy import ODRL_ACTIONS, RequestContext, action_includes, evaluate, odrl_actions

COMPUTE = KAREZ_NS + "compute"


@pytest.mark.parametrize(
    "granted,requested,expected",
    [
        ("use", "read", True),
        ("use", "distribute", True),
        ("use", "extract", True),  # extract -> reproduce -> use
        ("reproduce", "extract", True),
        ("extract", "reproduce", False),
        ("use", "sell", False),  # sell and give are in transfer, not use
        ("use", "give", False),
        ("transfer", "sell", True),
        ("transfer", "read", False),
        ("use", "transfer", False),
        ("modify", "write", True),  # deprecated write is modify
        ("write", "modify", True),
        ("use", "write", True),
        ("reproduce", "copy", True),
        ("compensate", "pay", True),
        ("read", "use", False),
        ("use", COMPUTE, True),  # an action placed nowhere is a kind of use
        (COMPUTE, COMPUTE, True),
        (COMPUTE, "read", False),
    ],
)
def test_odrl_hierarchy(granted: str, requested: str, expected: bool) -> None:
    assert action_includes(granted, requested) is expected


def test_a_profile_places_its_actions() -> None:
    tree = odrl_actions()
    tree.add(KAREZ_NS + "resell", "transfer")
    tree.add(KAREZ_NS + "train", COMPUTE)
    assert tree.includes("transfer", KAREZ_NS + "resell")
    assert not tree.includes("use", KAREZ_NS + "resell")
    assert tree.includes(COMPUTE, KAREZ_NS + "train") and tree.includes("use", KAREZ_NS + "train")
    assert ODRL_ACTIONS.includes("use", KAREZ_NS + "resell")  # the shared tree is untouched
    tree.alias(KAREZ_NS + "analyse", "read")
    assert tree.includes("read", KAREZ_NS + "analyse")
    assert tree.copy().includes("transfer", KAREZ_NS + "resell")


def test_evaluate_uses_the_given_tree() -> None:
    tree = odrl_actions()
    tree.add(KAREZ_NS + "resell", "transfer")
    policy = {"permission": [{"action": "use"}]}
    ctx = RequestContext(now=datetime(2026, 1, 1, tzinfo=UTC), action=KAREZ_NS + "resell")
    assert evaluate(policy, ctx).permitted
    d = evaluate(policy, ctx, actions=tree)
    assert not d.permitted and "does not cover" in d.explain()[1]


def test_ancestors() -> None:
    assert ODRL_ACTIONS.ancestors("extract") == {
        ODRL_NS + "extract",
        ODRL_NS + "reproduce",
        ODRL_NS + "use",
    }
