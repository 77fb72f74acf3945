"""Left-operand resolvers: where the value of ``odrl:dateTime``, ``odrl:purpose``, ... comes from.

A resolver is ``fn(ctx) -> value``. It says "not known" by returning ``None`` or ``UNKNOWN``
or by raising ``OperandUnknown(reason)``; any other exception counts as not known too. A left
operand with no resolver, or whose value is not known, makes its constraint fail closed.
Prefix resolvers (``fn(name, ctx)``) serve families of IRIs such as ``karez:claim/<name>``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from connector.domain import EDC_NS, KAREZ_NS, ODRL_NS
from connector.policy.model import LEFT_OPERANDS, compact, expand
from connector.policy.operators import Elapsed

if TYPE_CHECKING:
    from connector.policy.evaluator import RequestContext

CLAIM_PREFIX = KAREZ_NS + "claim/"
PARTICIPANT = KAREZ_NS + "participant"
EDC_PARTICIPANT_ID = EDC_NS + "participantId"


class _Unknown:
    """The sentinel a resolver returns when it has no value."""

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()


class OperandUnknown(Exception):
    """Raised by a resolver that has no value; the message is the reason."""


Resolver = Callable[["RequestContext"], Any]
PrefixResolver = Callable[[str, "RequestContext"], Any]


@dataclass(frozen=True)
class Resolution:
    """A resolved value, or ``UNKNOWN`` with the reason."""

    value: Any
    reason: str | None = None

    @property
    def known(self) -> bool:
        return self.value is not UNKNOWN


class OperandRegistry:
    """Resolvers by left-operand IRI (exact) and by IRI prefix (longest wins)."""

    def __init__(self) -> None:
        self._exact: dict[str, Resolver] = {}
        self._prefixes: dict[str, PrefixResolver] = {}

    def register(self, iri: str, fn: Resolver) -> None:
        """Resolve ``iri`` (full, ``odrl:``-prefixed or a short ODRL name) with ``fn``."""
        self._exact[expand(iri, LEFT_OPERANDS)] = fn

    def register_prefix(self, prefix: str, fn: PrefixResolver) -> None:
        """Resolve every IRI starting with ``prefix`` with ``fn(rest_of_iri, ctx)``."""
        self._prefixes[prefix] = fn

    def copy(self) -> OperandRegistry:
        clone = OperandRegistry()
        clone._exact = dict(self._exact)
        clone._prefixes = dict(self._prefixes)
        return clone

    def __contains__(self, iri: object) -> bool:
        return isinstance(iri, str) and self._lookup(expand(iri, LEFT_OPERANDS)) is not None

    def resolve(self, iri: str, ctx: RequestContext) -> Resolution:
        """The value of left operand ``iri`` for this request; never raises."""
        iri = expand(iri, LEFT_OPERANDS)
        fn = self._lookup(iri)
        if fn is None:
            return Resolution(UNKNOWN, f"no resolver for left operand {compact(iri)}")
        try:
            value = fn(ctx)
        except OperandUnknown as exc:
            return Resolution(UNKNOWN, str(exc) or f"no value for {compact(iri)}")
        except Exception as exc:  # a resolver bug must not grant access
            return Resolution(UNKNOWN, f"resolver for {compact(iri)} failed: {exc!r}")
        if value is None or value is UNKNOWN:
            return Resolution(UNKNOWN, f"the request has no value for {compact(iri)}")
        return Resolution(value)

    def _lookup(self, iri: str) -> Resolver | None:
        if iri in self._exact:
            return self._exact[iri]
        for prefix in sorted(self._prefixes, key=len, reverse=True):
            if iri.startswith(prefix) and len(iri) > len(prefix):
                return partial(self._prefixes[prefix], iri[len(prefix) :])
        return None


def _elapsed(ctx: RequestContext) -> Elapsed:
    if ctx.agreement_time is None:
        raise OperandUnknown("the request has no agreement time to measure odrl:elapsedTime")
    return Elapsed(ctx.agreement_time, ctx.now)


def default_registry() -> OperandRegistry:
    """A fresh registry with the built-in resolvers; add your own to the copy you get."""
    reg = OperandRegistry()
    reg.register(ODRL_NS + "dateTime", lambda ctx: ctx.now)
    reg.register(ODRL_NS + "elapsedTime", _elapsed)
    reg.register(ODRL_NS + "count", lambda ctx: ctx.use_count)
    reg.register(ODRL_NS + "purpose", lambda ctx: ctx.purpose)
    reg.register(ODRL_NS + "spatial", lambda ctx: ctx.jurisdiction)
    reg.register(PARTICIPANT, lambda ctx: ctx.participant_id)
    reg.register(EDC_PARTICIPANT_ID, lambda ctx: ctx.participant_id)
    reg.register_prefix(CLAIM_PREFIX, lambda name, ctx: ctx.claims.get(name))
    return reg


#: The registry ``evaluate`` uses when given none. Do not register into it: copy it first.
BUILTIN = default_registry()
