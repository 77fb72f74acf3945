"""Compliance reports in the FORCE vocabulary (``https://w3id.org/force/compliance-report#``).

The report says, for every rule of the policy, whether it is active for the request and why:
premise reports for its target, party and action (refinements nested in them), constraint
reports with the value seen (members nested in a logical one) and condition reports for its
duties (activation, deontic and performance state, consequences nested). It is built from a
traced ``Decision`` (``evaluate(..., trace=True)``) and returned as JSON-LD with an inline
context. Node ids are blank nodes; ``karez:`` members add the decision and the reasons.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from connector.domain import KAREZ_NS, ODRL_NS
from connector.policy.decision import ConstraintResult, Decision, DutyResult, RuleResult
from connector.policy.model import XSD_NS, LogicalConstraint, RightOperand, Value
from connector.policy.operators import Duration, Elapsed, Quantity, render

REPORT_NS = "https://w3id.org/force/compliance-report#"
CONTEXT = {
    "report": REPORT_NS,
    "odrl": ODRL_NS,
    "dct": "http://purl.org/dc/terms/",
    "xsd": XSD_NS,
    "karez": KAREZ_NS,
}
_RULE_TYPES = {
    "permission": "report:PermissionReport",
    "prohibition": "report:ProhibitionReport",
    "obligation": "report:ObligationReport",
    "duty": "report:DutyReport",
}
_DEONTIC = {
    "fulfilled": "report:Fulfilled",
    "violated": "report:Violated",
    "notSet": "report:NonSet",
}
_PERFORMANCE = {
    "fulfilled": "report:Performed",
    "violated": "report:Unperformed",
    "notSet": "report:Unknown",
}


def compliance_report(
    decision: Decision,
    *,
    request_uid: str | None = None,
    rule_request_uid: str | None = None,
) -> dict[str, Any]:
    """The FORCE compliance report of a traced decision, as JSON-LD."""
    if not decision.rules and any(True for _ in decision.policy.rules()):
        raise ValueError("a compliance report needs a traced decision: evaluate(..., trace=True)")
    builder = _Builder(rule_request_uid)
    report: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": "_:report",
        "@type": "report:PolicyReport",
        "dct:created": _literal(decision.context.now),
        "report:ruleReport": [builder.rule(r) for r in decision.rules]
        + [builder.duty(o, "report:ObligationReport") for o in decision.obligations],
        "karez:permitted": decision.permitted,
        "karez:explanation": decision.explain(),
    }
    if decision.policy.uid:
        report["report:policy"] = {"@id": decision.policy.uid}
    if request_uid:
        report["report:policyRequest"] = {"@id": request_uid}
    if decision.rule:
        report["karez:decidedBy"] = decision.rule
    return report


class _Builder:
    def __init__(self, rule_request_uid: str | None) -> None:
        self.rule_request_uid = rule_request_uid
        self._ids: Iterator[int] = count(1)

    def node(self, rdf_type: str) -> dict[str, Any]:
        return {"@id": f"_:n{next(self._ids)}", "@type": rdf_type}

    def rule(self, result: RuleResult) -> dict[str, Any]:
        node = self.node(_RULE_TYPES[result.rule.kind])
        if result.rule.uid:
            node["report:rule"] = {"@id": result.rule.uid}
        if self.rule_request_uid:
            node["report:ruleRequest"] = {"@id": self.rule_request_uid}
        node["report:attemptState"] = {"@id": "report:Attempted"}
        premises = [
            self.premise(kind, state, _refined(result.refinements, key))
            for kind, state, key in (
                ("report:TargetReport", result.target, ".target.refinement"),
                ("report:PartyReport", result.party, ".assignee.refinement"),
                ("report:ActionReport", result.action, ".action.refinement"),
            )
            if state is not None
        ]
        premises += [self.constraint(c) for c in result.constraints]
        if premises:
            node["report:premiseReport"] = premises
        if result.duties:
            node["report:conditionReport"] = [self.duty(d) for d in result.duties]
        node["report:activationState"] = _activation(result.active)
        if result.reason:
            node["karez:reason"] = result.reason
        return node

    def premise(
        self, rdf_type: str, state: bool, refinements: list[ConstraintResult]
    ) -> dict[str, Any]:
        node = self.node(rdf_type)
        if refinements:
            node["report:premiseReport"] = [self.constraint(c) for c in refinements]
        node["report:satisfactionState"] = _satisfaction(state)
        return node

    def constraint(self, result: ConstraintResult) -> dict[str, Any]:
        node = self.node("report:ConstraintReport")
        c = result.constraint
        if c.uid:
            node["report:constraint"] = {"@id": c.uid}
        if isinstance(c, LogicalConstraint):
            node["report:constraintLogicalOperand"] = {"@id": ODRL_NS + c.op}
            node["report:premiseReport"] = [self.constraint(m) for m in result.members]
        else:
            if result.seen is not None:
                node["report:constraintLeftOperand"] = _literal(result.seen)
            node["report:constraintOperator"] = {"@id": c.operator}
            if c.right_operand is not None:
                node["report:constraintRightOperand"] = _right(c.right_operand)
        node["report:satisfactionState"] = _satisfaction(result.state is True)
        if result.reason and result.state is not True:
            node["karez:reason"] = result.reason
        return node

    def duty(self, result: DutyResult, rdf_type: str = "report:DutyReport") -> dict[str, Any]:
        node = self.node(rdf_type)
        if result.rule.uid:
            node["report:rule"] = {"@id": result.rule.uid}
        if result.constraints:
            node["report:premiseReport"] = [self.constraint(c) for c in result.constraints]
        if result.consequences:
            node["report:conditionReport"] = [self.duty(c) for c in result.consequences]
        node["report:activationState"] = _activation(result.in_force is not False)
        node["report:deonticState"] = {"@id": _DEONTIC[result.state]}
        node["report:performanceState"] = {"@id": _PERFORMANCE[result.state]}
        return node


def _refined(results: tuple[ConstraintResult, ...], key: str) -> list[ConstraintResult]:
    return [r for r in results if key in r.path]


def _activation(active: bool) -> dict[str, str]:
    return {"@id": "report:Active" if active else "report:Inactive"}


def _satisfaction(satisfied: bool) -> dict[str, str]:
    return {"@id": "report:Satisfied" if satisfied else "report:Unsatisfied"}


def _right(right: RightOperand) -> Any:
    if isinstance(right, tuple):
        return [_literal(v) for v in right]
    return _literal(right)


def _literal(value: Any) -> Any:
    """A JSON-LD value object (or list of them) for a seen or stated value."""
    if isinstance(value, Quantity):
        return _literal(value.amount)
    if isinstance(value, Value):
        if value.iri:
            return {"@id": value.value}
        if value.datatype:
            return {"@value": str(value), "@type": value.datatype}
        return _literal(value.value)
    if isinstance(value, bool):
        return {"@value": "true" if value else "false", "@type": XSD_NS + "boolean"}
    for types, name in (
        (datetime, "dateTime"),
        (date, "date"),
        (Decimal, "decimal"),
        (int, "integer"),
        (float, "double"),
        ((timedelta, Duration, Elapsed), "duration"),
    ):
        if isinstance(value, types):
            return {"@value": render(value), "@type": XSD_NS + name}
    if isinstance(value, list | tuple | set | frozenset):
        return [_literal(v) for v in value]
    return str(value)
