"""Evaluate an ODRL policy against one request and explain the decision.

Semantics (ODRL 2.2):

* A rule's premises: its action covers the requested one (the ``includedIn`` hierarchy of
  :mod:`connector.policy.actions`; the action's refinements must hold), its target (or the
  policy's) is the requested asset or a collection holding it, and its assignee (or the
  policy's) is the requester or a party collection holding them. A request that names no
  asset is not checked against targets. An unknown requester never matches a permission's
  assignee and always matches a prohibition's.
* Constraints are three-valued (:mod:`connector.policy.constraints`). A permission is active
  when its premises and constraints hold and no duty blocks it. A prohibition is active when
  its premises hold and its constraints do not fail: a constraint that cannot be evaluated
  makes it apply (fail closed).
* A duty is in force when its constraints hold (not known: in force). With
  ``duty_mode="after"`` (the default: the consumer may fulfil duties after acting) only a
  violated duty blocks its permission, unless every consequence of it was fulfilled. With
  ``"before"`` duties are preconditions: an in-force duty blocks until it is fulfilled.
* The request is permitted when some permission is active and no active prohibition wins the
  conflict: ``perm`` lets the permission win, ``prohibit`` the prohibition, and ``invalid``
  (ODRL's default when the policy states none) voids the policy.
* The decision lists the duties the consumer must fulfil: the in-force, unfulfilled duties of
  the permission that permitted (the consequences of violated ones) and the policy's
  obligations on the requester.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from connector.errors import ValidationFailure
from connector.policy.actions import ODRL_ACTIONS, ActionTree
from connector.policy.constraints import Checker, ReferenceResolver, all_of
from connector.policy.context import RequestContext
from connector.policy.decision import (
    ConstraintFailure,
    Decision,
    DutyResult,
    PendingDuty,
    RuleResult,
    State,
)
from connector.policy.inherit import PolicyLookup, resolve_inheritance
from connector.policy.model import Entity, Policy, Rule, compact, parse_policy
from connector.policy.operands import BUILTIN, OperandRegistry

DutyMode = Literal["after", "before"]

__all__ = [
    "ConstraintFailure",
    "Decision",
    "DutyMode",
    "PendingDuty",
    "RequestContext",
    "action_includes",
    "evaluate",
]


def action_includes(granted: str, requested: str, actions: ActionTree | None = None) -> bool:
    """Whether a rule on ``granted`` covers a request for ``requested``."""
    return (actions or ODRL_ACTIONS).includes(granted, requested)


def evaluate(
    policy: Policy | dict[str, Any],
    ctx: RequestContext,
    registry: OperandRegistry | None = None,
    *,
    actions: ActionTree | None = None,
    lookup: PolicyLookup | None = None,
    references: ReferenceResolver | None = None,
    duty_mode: DutyMode = "after",
    trace: bool = False,
) -> Decision:
    """Decide whether ``ctx`` is permitted under ``policy``; raise only on a malformed dict.

    ``lookup`` finds the policies named by ``inheritFrom``; ``references`` resolves
    ``rightOperandReference`` IRIs. ``trace`` evaluates every rule in full and keeps the
    results in ``Decision.rules`` (for compliance reports); the decision is the same.
    """
    if not isinstance(policy, Policy):
        policy = parse_policy(policy)
    if policy.inherit_from:
        try:
            policy = resolve_inheritance(policy, lookup)
        except ValidationFailure as exc:
            reason = f"{exc.message}; nothing is permitted"
            return Decision(False, None, (), (), (reason,), policy, ctx)
    checker = Checker(registry if registry is not None else BUILTIN, ctx, references, trace=trace)
    return _Run(policy, ctx, actions or ODRL_ACTIONS, checker, duty_mode).decide()


class _Run:
    """One evaluation: the rules in order, then the conflict strategy, then the duties."""

    def __init__(
        self,
        policy: Policy,
        ctx: RequestContext,
        actions: ActionTree,
        checker: Checker,
        duty_mode: DutyMode,
    ) -> None:
        self.policy, self.ctx, self.actions = policy, ctx, actions
        self.checker, self.duty_mode, self.trace = checker, duty_mode, checker.trace
        self.reasons: list[str] = []
        self.results: list[RuleResult] = []

    def decide(self) -> Decision:
        policy, trace = self.policy, self.trace
        failures: list[ConstraintFailure] = []
        permit: RuleResult | None = None
        for i, rule in enumerate(policy.permissions):
            if permit is not None and not trace:
                break
            path = f"permission[{i}]"
            result, rule_failures = self.rule(rule, path, strict=True)
            if result.active:
                permit = permit or result
            elif permit is None:
                failures += rule_failures
                if result.reason:
                    self.reasons.append(f"{path} does not apply: {result.reason}")
                self.reasons += _blocked(result)
        if not policy.permissions:
            self.reasons.append("the policy has no permission, so nothing is permitted")
        denied_by = self._prohibitions(permit)
        obligations = (
            tuple(self.duty(o, f"obligation[{k}]") for k, o in enumerate(policy.obligations))
            if permit is not None or trace
            else ()
        )
        if permit is None:
            return self._decision(False, None, failures, (), obligations)
        if denied_by is not None:
            path, rule, rule_failures = denied_by
            return self._decision(False, path, rule_failures, (), obligations, rule)
        pending = list(_pending(permit.duties))
        for o in obligations:
            if self._binds_requester(o.rule):
                pending += _pending((o,))
            if o.state == "violated":
                self.reasons.append(f"{o.path} ({o.rule.describe_action()}) was violated")
        return self._decision(True, permit.path, [], pending, obligations, permit.rule)

    def _prohibitions(
        self, permit: RuleResult | None
    ) -> tuple[str, Rule, list[ConstraintFailure]] | None:
        if permit is None and not self.trace:
            return None
        conflict = self.policy.conflict
        denied_by = None
        for j, rule in enumerate(self.policy.prohibitions):
            path = f"prohibition[{j}]"
            result, rule_failures = self.rule(rule, path, strict=False)
            if not result.active or permit is None or denied_by is not None:
                continue
            if conflict == "perm":
                self.reasons.append(
                    f"{path} applies, but the policy lets permissions win (conflict perm)"
                )
                continue
            if conflict != "prohibit":
                default = "" if conflict else ", ODRL's default"
                self.reasons.append(
                    f"{permit.path} and {path} both apply: the policy is void "
                    f"(conflict invalid{default})"
                )
            denied_by = (path, rule, rule_failures)
            if not self.trace:
                break
        return denied_by

    def _decision(
        self,
        permitted: bool,
        path: str | None,
        failures: Iterable[ConstraintFailure],
        duties: Iterable[PendingDuty],
        obligations: tuple[DutyResult, ...],
        rule: Rule | None = None,
    ) -> Decision:
        return Decision(
            permitted,
            path,
            tuple(failures),
            tuple(duties),
            tuple(self.reasons),
            self.policy,
            self.ctx,
            rule,
            tuple(self.results),
            obligations if self.trace else (),
        )

    # -- one rule ------------------------------------------------------------------------------

    def rule(
        self, rule: Rule, path: str, *, strict: bool
    ) -> tuple[RuleResult, list[ConstraintFailure]]:
        """Evaluate ``rule``; return its result and the failures that explain it."""
        checker, trace = self.checker, self.trace
        mark, trace_mark = len(checker.failures), len(checker.results)
        covers = None
        if rule.action is not None:
            covers = self.actions.includes(rule.action.iri, self.ctx.action)
        target, why_target = self._premise(rule.target or self.policy.target, path, strict)
        party, why_party = self._premise(rule.assignee or self.policy.assignee, path, strict)
        why_action = ""
        if covers is False:
            why_action = f"its action {rule.describe_action()} does not cover " + compact(
                self.ctx.action
            )
        reason = "; ".join(why for why in (why_action, why_target, why_party) if why)
        premise_mark = len(checker.failures)
        if reason and not trace:
            rule_failures = checker.failures[mark:]
            del checker.failures[mark:]
            result = RuleResult(path, rule, False, target, party, covers, None, reason)
            return result, rule_failures
        premise_results = checker.take(trace_mark) if trace else ()
        refine: State = True
        if rule.action is not None and rule.action.refinements:
            refine = checker.all(rule.action.refinements, path, "action.refinement")
        refinements = checker.take(trace_mark) if trace else ()
        state = checker.all(rule.constraints, path, "constraint")
        constraints = checker.take(trace_mark) if trace else ()
        if reason:
            del checker.failures[premise_mark:]
        rule_failures = checker.failures[mark:]
        del checker.failures[mark:]
        both = all_of([refine, state])
        holds = both is True if strict else both is not False
        if covers is not None:
            covers = covers and (refine is True if strict else refine is not False)
        duties: tuple[DutyResult, ...] = ()
        if rule.kind == "permission" and (trace or (holds and not reason)):
            duties = tuple(self.duty(d, f"{path}.duty[{j}]") for j, d in enumerate(rule.duties))
        held_back = holds and not reason and any(d.blocking for d in duties)
        active = holds and not reason and not held_back
        result = RuleResult(
            path,
            rule,
            active,
            target,
            party,
            covers,
            state,
            reason,
            constraints,
            premise_results + refinements,
            duties,
            held_back,
        )
        if trace:
            self.results.append(result)
        return result, rule_failures

    def _premise(self, entity: Entity | None, path: str, strict: bool) -> tuple[bool | None, str]:
        """Whether the request's asset (or party) is ``entity`` or in it, and why not."""
        if entity is None:
            return None, ""
        asset = entity.kind == "asset"
        member = self.ctx.asset_id if asset else self.ctx.participant_id
        role = "target" if asset else "assignee"
        if member is None:
            if asset or not strict:
                return True, ""
            return False, f"its assignee {entity.describe()} is not the requester (unknown)"
        inside = any(
            iri is not None and self.ctx.member_of(member, iri)
            for iri in (entity.iri, entity.source)
        ) or (entity.collection and entity.iri is None and entity.source is None)
        if not inside:
            who = "the requested asset" if asset else "the requester"
            return False, f"its {role} {entity.describe()} is not {who} {member}"
        if entity.refinements:
            state = self.checker.all(entity.refinements, path, f"{role}.refinement")
            if (state is not True) if strict else (state is False):
                return False, f"{member} is in {entity.describe()}, but its refinements do not hold"
        return True, ""

    # -- duties --------------------------------------------------------------------------------

    def duty(self, rule: Rule, path: str) -> DutyResult:
        checker, trace = self.checker, self.trace
        mark, trace_mark = len(checker.failures), len(checker.results)
        in_force = checker.all(rule.constraints, path, "constraint")
        constraints = checker.take(trace_mark) if trace else ()
        del checker.failures[mark:]
        states = self.ctx.duty_states
        state = (rule.uid and states.get(rule.uid)) or states.get(path) or "notSet"
        consequences: tuple[DutyResult, ...] = ()
        if state == "violated" or trace:
            consequences = tuple(
                self.duty(c, f"{path}.consequence[{k}]") for k, c in enumerate(rule.consequences)
            )
        if in_force is False or state == "fulfilled":
            blocking = pending = False
        elif state == "violated":
            made_good = bool(consequences) and all(
                c.state == "fulfilled" or c.in_force is False for c in consequences
            )
            blocking, pending = not made_good, False
        else:
            blocking, pending = self.duty_mode == "before", True
        return DutyResult(path, rule, in_force, state, blocking, pending, consequences, constraints)

    def _binds_requester(self, rule: Rule) -> bool:
        party = rule.assignee or self.policy.assignee
        who = self.ctx.participant_id
        return (
            party is None or party.iri is None or who is None or self.ctx.member_of(who, party.iri)
        )


def _pending(duties: Iterable[DutyResult]) -> Iterable[PendingDuty]:
    for d in duties:
        if d.pending:
            yield PendingDuty(d.path, d.rule)
        if d.state == "violated":
            yield from _pending(d.consequences)


def _blocked(result: RuleResult) -> list[str]:
    """Why an otherwise satisfied permission cannot be exercised: its blocking duties."""
    lines: list[str] = []
    for d in result.duties if result.held_back else ():
        if not d.blocking:
            continue
        what = f"{result.path} is held back by {d.path} ({d.rule.describe_action()}): "
        if d.state == "violated" and d.rule.consequences:
            lines.append(what + "it was violated and its consequences are not all fulfilled")
        elif d.state == "violated":
            lines.append(what + "it was violated")
        else:
            lines.append(what + "it must be fulfilled first")
    return lines
