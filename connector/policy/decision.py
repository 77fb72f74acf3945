"""What ``evaluate`` returns: the decision, why, and (when traced) every rule's evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector.policy.context import RequestContext
from connector.policy.model import AnyConstraint, Policy, Rule, compact
from connector.policy.operators import jsonable, render

State = bool | None  # True satisfied, False not satisfied, None not known


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
        kind = "refinement" if ".refinement[" in self.path else "constraint"
        return f"{self.rule} {kind} {self.describe()} failed: {self.reason}"

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

    path: str  # "permission[0].duty[1]", "obligation[0]", "permission[0].duty[0].consequence[0]"
    rule: Rule

    def sentence(self) -> str:
        text = f"{self.path} must be fulfilled: {self.rule.describe_action()}"
        if self.rule.action is not None and self.rule.action.refinements:
            text += " with " + " and ".join(r.describe() for r in self.rule.action.refinements)
        if self.rule.constraints:
            text += " when " + " and ".join(c.describe() for c in self.rule.constraints)
        return text

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "duty": self.rule.to_json()}


@dataclass(frozen=True)
class ConstraintResult:
    """A traced constraint: its state, the value seen and, for a logical one, its members."""

    path: str
    constraint: AnyConstraint
    state: State
    seen: Any = None
    reason: str | None = None
    members: tuple[ConstraintResult, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "satisfied": self.state}
        if self.constraint.uid:
            out["@id"] = self.constraint.uid
        if self.members:
            out["members"] = [m.to_json() for m in self.members]
        else:
            out["seenValue"] = jsonable(self.seen)
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class DutyResult:
    """A duty (or obligation): in force or not, its deontic state and what follows from it."""

    path: str
    rule: Rule
    in_force: State  # its constraints hold (None: not known, so it is taken to apply)
    state: str  # "fulfilled" | "violated" | "notSet"
    blocking: bool  # it keeps its permission from being exercised
    pending: bool  # the consumer must still fulfil it
    consequences: tuple[DutyResult, ...] = ()
    constraints: tuple[ConstraintResult, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "inForce": self.in_force is not False,
            "state": self.state,
            "blocking": self.blocking,
            "pending": self.pending,
        }
        if self.rule.uid:
            out["@id"] = self.rule.uid
        if self.constraints:
            out["constraints"] = [c.to_json() for c in self.constraints]
        if self.consequences:
            out["consequences"] = [c.to_json() for c in self.consequences]
        return out


@dataclass(frozen=True)
class RuleResult:
    """A traced rule. Premises are ``None`` when the rule does not state them."""

    path: str
    rule: Rule
    active: bool
    target: bool | None
    party: bool | None
    action: bool | None  # the action covers the request and its refinements hold
    constraint_state: State
    reason: str = ""  # why a premise does not hold
    constraints: tuple[ConstraintResult, ...] = ()
    refinements: tuple[ConstraintResult, ...] = ()  # of the action, target and assignee
    duties: tuple[DutyResult, ...] = ()
    held_back: bool = False  # everything holds but a duty blocks it

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "kind": self.rule.kind, "active": self.active}
        if self.rule.uid:
            out["@id"] = self.rule.uid
        for key, premise in (("target", self.target), ("party", self.party)):
            if premise is not None:
                out[key] = premise
        if self.action is not None:
            out["action"] = self.action
        if self.reason:
            out["reason"] = self.reason
        if self.constraints:
            out["constraints"] = [c.to_json() for c in self.constraints]
        if self.refinements:
            out["refinements"] = [c.to_json() for c in self.refinements]
        if self.duties:
            out["duties"] = [d.to_json() for d in self.duties]
        return out


@dataclass(frozen=True)
class Decision:
    """The outcome of ``evaluate``: permit or deny, which rule decided, and why.

    ``rules`` and ``obligations`` hold every rule's evaluation when ``evaluate`` was asked to
    trace (the compliance report needs them); otherwise they are empty.
    """

    permitted: bool
    rule: str | None  # the permission that permitted, or the prohibition that denied
    failures: tuple[ConstraintFailure, ...]
    duties: tuple[PendingDuty, ...]
    reasons: tuple[str, ...]  # rule-level notes: rules that did not apply, conflicts, duties
    policy: Policy
    context: RequestContext
    matched_rule: Rule | None = None
    rules: tuple[RuleResult, ...] = ()
    obligations: tuple[DutyResult, ...] = ()

    def explain(self) -> list[str]:
        lines = [self._summary()]
        if not self.permitted and self.rule and self.matched_rule:
            held = self._held_with_values()
            lines.append(
                f"{self.rule} prohibits {self.matched_rule.describe_action()}"
                + (f" and its constraints hold: {'; '.join(held)}" if held else "")
            )
        lines += [f.sentence() for f in self.failures]
        lines += list(self.reasons)
        lines += [d.sentence() for d in self.duties]
        return lines

    def _held_with_values(self) -> list[str]:
        """The denying rule's constraints, with the values seen where the decision was traced."""
        traced = next((r for r in self.rules if r.path == self.rule), None)
        if traced is None or not traced.constraints:
            return [c.describe() for c in self.matched_rule.constraints]  # type: ignore[union-attr]
        out = []
        for result in traced.constraints:
            text = result.constraint.describe()
            if not result.members and result.seen is not None:
                text += f" (saw {render(result.seen)})"
            out.append(text)
        return out

    def _summary(self) -> str:
        action = compact(self.context.action)
        if self.permitted:
            return f"{action} is permitted by {self.rule}"
        if self.rule:
            return f"{action} is denied by {self.rule}"
        return f"{action} is denied: no permission is satisfied"

    def to_record(self) -> dict[str, Any]:
        """The whole decision as JSON, kept as the provider's decision record."""
        record = {
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
        if self.matched_rule is not None and self.matched_rule.uid:
            record["ruleId"] = self.matched_rule.uid
        if self.rules:
            record["rules"] = [r.to_json() for r in self.rules]
        if self.obligations:
            record["obligations"] = [o.to_json() for o in self.obligations]
        return record


def _json_text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_json_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return str(value.get("@id", value.get("@value", value)))
    return render(value)
