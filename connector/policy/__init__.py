"""ODRL 2.2 policies: the model, typed operators, left-operand resolvers and the evaluator.

Pure: no I/O, no clock (the caller passes ``now``), no storage.
"""

from connector.policy.actions import ODRL_ACTIONS, ActionTree, odrl_actions
from connector.policy.compare import constraint_key, rule_key, same_terms
from connector.policy.constraints import ReferenceResolver
from connector.policy.context import DutyState, RequestContext
from connector.policy.decision import (
    ConstraintFailure,
    ConstraintResult,
    Decision,
    DutyResult,
    PendingDuty,
    RuleResult,
)
from connector.policy.evaluator import DutyMode, action_includes, evaluate
from connector.policy.inherit import PolicyLookup, resolve_inheritance
from connector.policy.model import (
    Action,
    AnyConstraint,
    Constraint,
    Entity,
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
from connector.policy.operators import Duration, Elapsed, Outcome, Quantity, apply

__all__ = [
    "BUILTIN",
    "CLAIM_PREFIX",
    "ODRL_ACTIONS",
    "UNKNOWN",
    "Action",
    "ActionTree",
    "AnyConstraint",
    "Constraint",
    "ConstraintFailure",
    "ConstraintResult",
    "Decision",
    "Duration",
    "DutyMode",
    "DutyResult",
    "DutyState",
    "Elapsed",
    "Entity",
    "LogicalConstraint",
    "OperandRegistry",
    "OperandUnknown",
    "Outcome",
    "PendingDuty",
    "Policy",
    "PolicyLookup",
    "Quantity",
    "ReferenceResolver",
    "RequestContext",
    "Resolution",
    "Rule",
    "RuleResult",
    "Value",
    "action_includes",
    "apply",
    "compact",
    "constraint_key",
    "default_registry",
    "evaluate",
    "expand",
    "odrl_actions",
    "parse_policy",
    "resolve_inheritance",
    "rule_key",
    "same_terms",
]
