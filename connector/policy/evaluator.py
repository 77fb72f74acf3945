"""Evaluate an ODRL policy against one request and explain the decision.

Semantics (first cut, ODRL 2.2 with the ``prohibit`` conflict strategy by default):

* A rule applies when its action covers the requested one (``odrl:use`` covers every action,
  others match exactly), its target (or the policy's) is the requested asset when both are
  known, and its assignee (or the policy's) is the requesting participant.
* The request is permitted when some applicable permission has all constraints (and action
  refinements) satisfied, and no applicable prohibition has all of its constraints satisfied.
  A policy without permissions permits nothing.
* A constraint whose value cannot be known (no resolver, no value, a right operand reference)
  fails closed: it does not satisfy a permission, and it makes a prohibition apply.
* The duties a permitted consumer must fulfil are the permission's duties and the policy's
  obligations; they are listed, not checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

from connector.policy.model import (
    ACTIONS,
    USE,
    AnyConstraint,
    Constraint,
    LogicalConstraint,
    Policy,
    Rule,
    compact,
    expand,
    parse_policy,
)
from connector.policy.operands import BUILTIN, OperandRegistry
from connector.policy.operators import apply, jsonable, render

Scope = Literal["catalog", "negotiation", "transfer"]
State = bool | None  # True satisfied, False not satisfied, None not known


@dataclass(frozen=True, kw_only=True)
class RequestContext:
    """What is known about one request. ``now`` is the caller's clock (policy reads none)."""

    now: datetime
    participant_id: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)
    action: str = USE
    asset_id: str | None = None
    purpose: str | None = None
    jurisdiction: str | None = None
    agreement_time: datetime | None = None
    use_count: int | None = None
    scope: Scope = "negotiation"

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", expand(self.action, ACTIONS))
        for name in ("now", "agreement_time"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                object.__setattr__(self, name, moment.replace(tzinfo=UTC))

    def to_record(self) -> dict[str, Any]:
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class ConstraintFailure:
    """One constraint that did not hold (or could not be evaluated)."""

    path: str  # e.g. "permission[0].constraint[1]"
    left_operand: str  # full IRI; "" for a logical constraint
    operator: str  # full ODRL IRI, or the logical operator ("xone")
    right_operand: Any  # compact JSON; a logical constraint's member descriptions
    seen_value: Any  # the resolved left value; None when not known
    reason: str

    @property
    def rule(self) -> str:
        return self.path.split(".", 1)[0]

    def describe(self) -> str:
        if not self.left_operand:
            return f"{self.operator}({', '.join(self.right_operand)})"
        op = self.operator.rsplit("/", 1)[-1]
        return f"{compact(self.left_operand)} {op} {_json_text(self.right_operand)}"

    def sentence(self) -> str:
        return f"{self.rule} constraint {self.describe()} failed: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "leftOperand": self.left_operand,
            "operator": self.operator,
            "rightOperand": self.right_operand,
            "seenValue": jsonable(self.seen_value),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PendingDuty:
    """A duty the consumer must fulfil, with where it comes from in the policy."""

    path: str  # "permission[0].duty[1]" or "obligation[0]"
    rule: Rule

    def sentence(self) -> str:
        text = f"{self.path} must be fulfilled: {compact(self.rule.action.iri)}"
        if self.rule.constraints:
            text += " when " + " and ".join(c.describe() for c in self.rule.constraints)
        return text

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "duty": self.rule.to_json()}


@dataclass(frozen=True)
class Decision:
    """The outcome of ``evaluate``: permit or deny, which rule decided, and why."""

    permitted: bool
    rule: str | None  # the permission that permitted, or the prohibition that denied
    failures: tuple[ConstraintFailure, ...]
    duties: tuple[PendingDuty, ...]
    reasons: tuple[str, ...]  # rule-level notes: rules that did not apply, conflicts
    policy: Policy
    context: RequestContext
    matched_rule: Rule | None = None

    def explain(self) -> list[str]:
        lines = [self._summary()]
        if not self.permitted and self.rule and self.matched_rule:
            held = [c.describe() for c in self.matched_rule.constraints]
            lines.append(
                f"{self.rule} prohibits {compact(self.matched_rule.action.iri)}"
                + (f" and its constraints hold: {'; '.join(held)}" if held else "")
            )
        lines += [f.sentence() for f in self.failures]
        lines += list(self.reasons)
        lines += [d.sentence() for d in self.duties]
        return lines

    def _summary(self) -> str:
        action = compact(self.context.action)
        if self.permitted:
            return f"{action} is permitted by {self.rule}"
        if self.rule:
            return f"{action} is denied by {self.rule}"
        return f"{action} is denied: no permission is satisfied"

    def to_record(self) -> dict[str, Any]:
        """The whole decision as JSON, kept as the provider's decision record."""
        return {
            "permitted": self.permitted,
            "rule": self.rule,
            "action": self.context.action,
            "scope": self.context.scope,
            "evaluatedAt": render(self.context.now),
            "failures": [f.to_json() for f in self.failures],
            "duties": [d.to_json() for d in self.duties],
            "reasons": list(self.reasons),
            "explanation": self.explain(),
            "policy": self.policy.to_json(),
            "context": self.context.to_record(),
        }


def action_includes(granted: str, requested: str) -> bool:
    """Whether a rule on ``granted`` covers ``requested``: use covers all, else exact."""
    granted, requested = expand(granted, ACTIONS), expand(requested, ACTIONS)
    return granted in (USE, requested)


def evaluate(
    policy: Policy | dict[str, Any],
    ctx: RequestContext,
    registry: OperandRegistry | None = None,
) -> Decision:
    """Decide whether ``ctx`` is permitted under ``policy``; raise only on a malformed dict."""
    if not isinstance(policy, Policy):
        policy = parse_policy(policy)
    registry = registry if registry is not None else BUILTIN
    reasons: list[str] = []

    def decide(
        permitted: bool,
        rule: str | None = None,
        *,
        failures: list[ConstraintFailure] | None = None,
        duties: list[PendingDuty] | None = None,
        matched: Rule | None = None,
    ) -> Decision:
        return Decision(
            permitted,
            rule,
            tuple(failures or ()),
            tuple(duties or ()),
            tuple(reasons),
            policy,
            ctx,
            matched,
        )

    if not policy.permissions:
        reasons.append("the policy has no permission, so nothing is permitted")
        return decide(False)

    failures: list[ConstraintFailure] = []
    permit: tuple[str, Rule] | None = None
    for i, rule in enumerate(policy.permissions):
        path = f"permission[{i}]"
        if why := _not_applicable(rule, policy, ctx, strict=True):
            reasons.append(f"{path} does not apply: {why}")
            continue
        check = _Checker(registry, ctx)
        if check.rule(rule, path) is True:
            permit = (path, rule)
            break
        failures += check.failures
    if permit is None:
        return decide(False, failures=failures)

    for i, rule in enumerate(policy.prohibitions):
        path = f"prohibition[{i}]"
        if _not_applicable(rule, policy, ctx, strict=False):
            continue
        check = _Checker(registry, ctx)
        if check.rule(rule, path) is False:
            continue
        if policy.conflict == "perm":
            reasons.append(f"{path} applies, but the policy lets permissions win (conflict perm)")
            continue
        if policy.conflict == "invalid":
            reasons.append(
                f"{permit[0]} and {path} both apply: the policy is void (conflict invalid)"
            )
        return decide(False, path, failures=check.failures, matched=rule)

    path, rule = permit
    duties = [PendingDuty(f"{path}.duty[{j}]", d) for j, d in enumerate(rule.duties)]
    duties += [PendingDuty(f"obligation[{k}]", o) for k, o in enumerate(policy.obligations)]
    return decide(True, path, duties=duties, matched=rule)


def _not_applicable(rule: Rule, policy: Policy, ctx: RequestContext, *, strict: bool) -> str:
    """Why ``rule`` does not apply to the request ("" if it does).

    ``strict`` (permissions): an unknown requesting participant does not match an assignee.
    Prohibitions apply when in doubt.
    """
    if not action_includes(rule.action.iri, ctx.action):
        return f"its action {compact(rule.action.iri)} does not cover {compact(ctx.action)}"
    target = rule.target or policy.target
    if target and ctx.asset_id and target != ctx.asset_id:
        return f"its target {target} is not the requested asset {ctx.asset_id}"
    assignee = rule.assignee or policy.assignee
    if assignee and assignee != ctx.participant_id and (strict or ctx.participant_id):
        return f"its assignee {assignee} is not the requester {ctx.participant_id or '(unknown)'}"
    return ""


class _Checker:
    """Evaluates one rule's constraints in three-valued logic, collecting failures."""

    def __init__(self, registry: OperandRegistry, ctx: RequestContext) -> None:
        self.registry, self.ctx = registry, ctx
        self.failures: list[ConstraintFailure] = []

    def rule(self, rule: Rule, path: str) -> State:
        states = [
            self.constraint(c, f"{path}.constraint[{i}]") for i, c in enumerate(rule.constraints)
        ]
        states += [
            self.constraint(c, f"{path}.action.refinement[{i}]")
            for i, c in enumerate(rule.action.refinements)
        ]
        return _all(states)

    def constraint(self, c: AnyConstraint, path: str) -> State:
        if isinstance(c, LogicalConstraint):
            return self._logical(c, path)
        return self._atomic(c, path)

    def _atomic(self, c: Constraint, path: str) -> State:
        if c.right_operand is None:
            self._fail(c, path, None, "right operand references are not supported yet")
            return None
        resolved = self.registry.resolve(c.left_operand, self.ctx)
        if not resolved.known:
            self._fail(c, path, None, resolved.reason or "no value")
            return None
        outcome = apply(c.operator, resolved.value, c.right_operand, c.data_type)
        if outcome.satisfied:
            return True
        seen = f"saw {render(resolved.value)}"
        self._fail(
            c, path, resolved.value, f"{outcome.reason} ({seen})" if outcome.reason else seen
        )
        return False

    def _logical(self, c: LogicalConstraint, path: str) -> State:
        mark = len(self.failures)
        paths = [f"{path}.{c.op}[{i}]" for i in range(len(c.members))]
        if c.op == "andSequence":  # in order; stop at the first that does not hold
            state: State = True
            for member, sub in zip(c.members, paths, strict=True):
                state = self.constraint(member, sub)
                if state is not True:
                    break
        else:
            states = [self.constraint(m, sub) for m, sub in zip(c.members, paths, strict=True)]
            state = {"and": _all, "or": _any, "xone": _one}[c.op](states)
            satisfied = states.count(True)
            if c.op == "xone" and satisfied > 1:
                self.failures.append(
                    ConstraintFailure(
                        path,
                        "",
                        "xone",
                        [m.describe() for m in c.members],
                        satisfied,
                        f"{satisfied} of its constraints hold; xone needs exactly one",
                    )
                )
        if state is True:
            del self.failures[mark:]
        return state

    def _fail(self, c: Constraint, path: str, seen: Any, reason: str) -> None:
        self.failures.append(
            ConstraintFailure(path, c.left_operand, c.operator, c.right_json(), seen, reason)
        )


def _all(states: list[State]) -> State:
    if False in states:
        return False
    return None if None in states else True


def _any(states: list[State]) -> State:
    if True in states:
        return True
    return None if None in states else False


def _one(states: list[State]) -> State:
    satisfied = states.count(True)
    if satisfied > 1:
        return False
    if None in states:
        return None
    return satisfied == 1


def _json_text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_json_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return str(value.get("@id", value.get("@value", value)))
    return render(value)
