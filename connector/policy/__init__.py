"""ODRL 2.2 policies: the model, typed operators, left-operand resolvers and the evaluator.

Pure: no I/O, no clock (the caller passes ``now``), no storage.
"""

from connector.policy.compare import constraint_key, rule_key, same_terms
from connector.policy.evaluator import (
    ConstraintFailure,
    Decision,
    PendingDuty,
    RequestContext,
    action_includes,
    evaluate,
)
from connector.policy.model import (
    Action,
    AnyConstraint,
    Constraint,
    LogicalConstraint,
    Policy,
    Rule,
    Value,
    compact,
    expand,
    parse_policy,
)
from connector.policy.operands import (
    BUILTIN,
    CLAIM_PREFIX,
    UNKNOWN,
    OperandRegistry,
    OperandUnknown,
    Resolution,
    default_registry,
)
from connector.policy.operators import Duration, Elapsed, Outcome, apply

__all__ = [
    "BUILTIN",
    "CLAIM_PREFIX",
    "UNKNOWN",
    "Action",
    "AnyConstraint",
    "Constraint",
    "ConstraintFailure",
    "Decision",
    "Duration",
    "Elapsed",
    "LogicalConstraint",
    "OperandRegistry",
    "OperandUnknown",
    "Outcome",
    "PendingDuty",
    "Policy",
    "RequestContext",
    "Resolution",
    "Rule",
    "Value",
    "action_includes",
    "apply",
    "compact",
    "constraint_key",
    "default_registry",
    "evaluate",
    "expand",
    "parse_policy",
    "rule_key",
    "same_terms",
]
