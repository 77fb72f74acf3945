"""Three-valued evaluation of constraints: resolve the left operand, compare, explain, trace.

A constraint is satisfied (``True``), not satisfied (``False``) or not known (``None``: no
resolver, no value, an unresolved right-operand reference). What "not known" means is the
caller's business: it never satisfies a permission and it makes a prohibition apply.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from connector.policy.context import RequestContext
from connector.policy.decision import ConstraintFailure, ConstraintResult, State
from connector.policy.model import AnyConstraint, Constraint, LogicalConstraint, RightOperand
from connector.policy.model import compact as compact_iri
from connector.policy.operands import UNKNOWN, OperandRegistry, Resolution
from connector.policy.operators import Quantity, apply, as_right_operand, render

#: Resolves a ``rightOperandReference`` IRI to its value(s); ``None`` means not known.
ReferenceResolver = Callable[[str], Any]


class Checker:
    """Evaluates constraints for one request, collecting failures (and results when tracing).

    Left-operand values are resolved once per checker. ``failures`` and ``results`` only
    grow; callers slice them (``mark = len(checker.failures)``) to see one rule's share.
    """

    def __init__(
        self,
        registry: OperandRegistry,
        ctx: RequestContext,
        references: ReferenceResolver | None = None,
        *,
        trace: bool = False,
    ) -> None:
        self.registry, self.ctx, self.references, self.trace = registry, ctx, references, trace
        self.failures: list[ConstraintFailure] = []
        self.results: list[ConstraintResult] = []
        self._values: dict[str, Resolution] = {}

    def all(self, constraints: Sequence[AnyConstraint], path: str, key: str) -> State:
        """Whether every constraint holds; ``path.key[i]`` names each."""
        if not constraints:
            return True
        return all_of([self.check(c, f"{path}.{key}[{i}]") for i, c in enumerate(constraints)])

    def take(self, mark: int) -> tuple[ConstraintResult, ...]:
        """The results recorded since ``mark`` (removed from ``results``)."""
        out = tuple(self.results[mark:])
        del self.results[mark:]
        return out

    def check(self, c: AnyConstraint, path: str) -> State:
        if isinstance(c, LogicalConstraint):
            return self._logical(c, path)
        return self._atomic(c, path)

    def _atomic(self, c: Constraint, path: str) -> State:
        right = c.right_operand
        if right is None:
            right, why = self._reference(c.right_operand_reference or "")
            if right is None:
                return self._settle(c, path, None, None, why, right)
        resolved = self._resolve(c.left_operand)
        if not resolved.known:
            return self._settle(c, path, None, None, resolved.reason or "no value", right)
        seen = value = resolved.value
        if isinstance(value, Quantity):
            if c.unit and value.unit != c.unit:
                why = f"the value is in {compact_iri(value.unit)}, the constraint in " + (
                    f"{compact_iri(c.unit)} (saw {value})"
                )
                return self._settle(c, path, False, seen, why, right)
            value = value.amount
        outcome = apply(c.operator, value, right, c.data_type)
        if outcome.satisfied:
            return self._settle(c, path, True, seen, None, right)
        why = f"saw {render(seen)}"
        return self._settle(
            c, path, False, seen, f"{outcome.reason} ({why})" if outcome.reason else why, right
        )

    def _settle(
        self,
        c: Constraint,
        path: str,
        state: State,
        seen: Any,
        reason: str | None,
        right: RightOperand | None,
    ) -> State:
        if state is not True:
            right_json: Any = c.right_json()
            if c.right_operand is None:
                right_json = _json(right) if right is not None else f"<{c.right_operand_reference}>"
            self.failures.append(
                ConstraintFailure(
                    path, c.left_operand, c.operator, right_json, seen, reason or "no value"
                )
            )
        if self.trace:
            self.results.append(ConstraintResult(path, c, state, seen, reason))
        return state

    def _logical(self, c: LogicalConstraint, path: str) -> State:
        mark, trace_mark = len(self.failures), len(self.results)
        paths = [f"{path}.{c.op}[{i}]" for i in range(len(c.members))]
        reason = None
        if c.op == "andSequence":  # in order; stop at the first that does not hold
            state: State = True
            for member, sub in zip(c.members, paths, strict=True):
                state = self.check(member, sub)
                if state is not True:
                    break
        elif c.op == "or" and not self.trace:  # stop at the first that holds
            states = []
            for member, sub in zip(c.members, paths, strict=True):
                states.append(self.check(member, sub))
                if states[-1] is True:
                    break
            state = any_of(states)
        else:
            states = [self.check(m, sub) for m, sub in zip(c.members, paths, strict=True)]
            state = {"and": all_of, "or": any_of, "xone": one_of}[c.op](states)
            satisfied = states.count(True)
            if c.op == "xone" and satisfied > 1:
                reason = f"{satisfied} of its constraints hold; xone needs exactly one"
                self.failures.append(
                    ConstraintFailure(
                        path, "", "xone", [m.describe() for m in c.members], satisfied, reason
                    )
                )
        if state is True:
            del self.failures[mark:]
        if self.trace:
            members = self.take(trace_mark)
            self.results.append(ConstraintResult(path, c, state, None, reason, members))
        return state

    def _resolve(self, iri: str) -> Resolution:
        resolved = self._values.get(iri)
        if resolved is None:
            resolved = self.registry.resolve(iri, self.ctx)
            self._values[iri] = resolved
        return resolved

    def _reference(self, iri: str) -> tuple[RightOperand | None, str]:
        if self.references is None:
            return None, f"no resolver for right operand references (needed for <{iri}>)"
        try:
            value = self.references(iri)
        except Exception as exc:  # a resolver bug must not grant access
            return None, f"right operand reference <{iri}> failed: {exc!r}"
        if value is None or value is UNKNOWN:
            return None, f"right operand reference <{iri}> has no value"
        try:
            return as_right_operand(value), ""
        except ValueError as exc:
            return None, f"right operand reference <{iri}>: {exc}"


def all_of(states: list[State]) -> State:
    if False in states:
        return False
    return None if None in states else True


def any_of(states: list[State]) -> State:
    if True in states:
        return True
    return None if None in states else False


def one_of(states: list[State]) -> State:
    satisfied = states.count(True)
    if satisfied > 1:
        return False
    if None in states:
        return None
    return satisfied == 1


def _json(right: RightOperand) -> Any:
    if isinstance(right, tuple):
        return [v.to_json() for v in right]
    return right.to_json()
