"""Left-operand resolvers: where the value of ``odrl:dateTime``, ``odrl:purpose``, ... comes from.

A resolver is ``fn(ctx) -> value``, registered for one left operand and optionally one scope
(``catalog``, ``negotiation``, ``transfer``): a scoped resolver wins over an unscoped one. A
resolver says "not known" by returning ``None`` or ``UNKNOWN`` or by raising
``OperandUnknown(reason)``; any other exception counts as not known too. A left operand with
no resolver, or whose value is not known, makes its constraint fail closed. Prefix resolvers
(``fn(name, ctx)``) serve families of IRIs such as ``karez:claim/<name>``.

The built-in registry computes ``dateTime``, ``elapsedTime``, ``count``, ``purpose`` and
``spatial`` from the context, and reads the other ODRL 2.2 left operands (``resolution``,
``payAmount``, ``fileFormat``, ...) from ``ctx.values``, where the caller puts what it knows.
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
    from connector.policy.context import RequestContext

CLAIM_PREFIX = KAREZ_NS + "claim/"
PARTICIPANT = KAREZ_NS + "participant"
_SCOPES = ("catalog", "negotiation", "transfer")
_MEMO_LIMIT = 4096
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
    """Resolvers by (left-operand IRI, scope) and by IRI prefix (longest wins)."""

    def __init__(self) -> None:
        self._exact: dict[tuple[str, str | None], Resolver] = {}
        self._prefixes: dict[tuple[str, str | None], PrefixResolver] = {}
        self._memo: dict[tuple[str, str | None], Resolver | None] = {}

    def register(self, iri: str, fn: Resolver, scope: str | None = None) -> None:
        """Resolve ``iri`` (full, prefixed or a short ODRL name) with ``fn``, in ``scope`` only
        when one is given."""
        self._exact[(expand(iri, LEFT_OPERANDS), scope)] = fn
        self._memo.clear()

    def register_prefix(self, prefix: str, fn: PrefixResolver, scope: str | None = None) -> None:
        """Resolve every IRI starting with ``prefix`` with ``fn(rest_of_iri, ctx)``."""
        self._prefixes[(prefix, scope)] = fn
        self._memo.clear()

    def copy(self) -> OperandRegistry:
        clone = OperandRegistry()
        clone._exact = dict(self._exact)
        clone._prefixes = dict(self._prefixes)
        return clone

    def __contains__(self, iri: object) -> bool:
        if not isinstance(iri, str):
            return False
        iri = expand(iri, LEFT_OPERANDS)
        return any(self._lookup(iri, scope) for scope in (None, *_SCOPES))

    def resolve(self, iri: str, ctx: RequestContext) -> Resolution:
        """The value of left operand ``iri`` for this request; never raises."""
        fn = self._lookup(iri, ctx.scope) or self._lookup(expand(iri, LEFT_OPERANDS), ctx.scope)
        if fn is None:
            return Resolution(UNKNOWN, f"no resolver for left operand {_name(iri)}")
        try:
            value = fn(ctx)
        except OperandUnknown as exc:
            return Resolution(UNKNOWN, str(exc) or f"no value for {_name(iri)}")
        except Exception as exc:  # a resolver bug must not grant access
            return Resolution(UNKNOWN, f"resolver for {_name(iri)} failed: {exc!r}")
        if value is None or value is UNKNOWN:
            return Resolution(UNKNOWN, f"the request has no value for {_name(iri)}")
        return Resolution(value)

    def _lookup(self, iri: str, scope: str | None) -> Resolver | None:
        key = (iri, scope)
        if key in self._memo:
            return self._memo[key]
        fn = self._exact.get(key) or self._exact.get((iri, None)) or self._by_prefix(iri, scope)
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[key] = fn
        return fn

    def _by_prefix(self, iri: str, scope: str | None) -> Resolver | None:
        best: tuple[tuple[int, bool], str, PrefixResolver] | None = None
        for (prefix, where), fn in self._prefixes.items():
            if where in (None, scope) and iri.startswith(prefix) and len(iri) > len(prefix):
                rank = (len(prefix), where is not None)
                if best is None or rank > best[0]:
                    best = (rank, prefix, fn)
        return None if best is None else partial(best[2], iri[len(best[1]) :])


def _name(iri: str) -> str:
    return compact(expand(iri, LEFT_OPERANDS))


def _elapsed(ctx: RequestContext) -> Elapsed:
    if ctx.agreement_time is None:
        raise OperandUnknown("the request has no agreement time to measure odrl:elapsedTime")
    return Elapsed(ctx.agreement_time, ctx.now)


def _given(iri: str, ctx: RequestContext) -> Any:
    return ctx.values.get(iri)


def _field(name: str, iri: str, ctx: RequestContext) -> Any:
    value = getattr(ctx, name)
    return ctx.values.get(iri) if value is None else value


#: ODRL 2.2 left operands computed from the context rather than read from ``ctx.values``.
_COMPUTED = {"dateTime", "elapsedTime", "count", "purpose", "spatial"}


def default_registry() -> OperandRegistry:
    """A fresh registry with the built-in resolvers; add your own to the copy you get."""
    reg = OperandRegistry()
    for name in sorted(LEFT_OPERANDS - _COMPUTED):
        reg.register(ODRL_NS + name, partial(_given, ODRL_NS + name))
    reg.register(ODRL_NS + "dateTime", lambda ctx: ctx.now)
    reg.register(ODRL_NS + "elapsedTime", _elapsed)
    reg.register(ODRL_NS + "count", partial(_field, "use_count", ODRL_NS + "count"))
    reg.register(ODRL_NS + "purpose", partial(_field, "purpose", ODRL_NS + "purpose"))
    reg.register(ODRL_NS + "spatial", partial(_field, "jurisdiction", ODRL_NS + "spatial"))
    reg.register(PARTICIPANT, lambda ctx: ctx.participant_id)
    reg.register(EDC_PARTICIPANT_ID, lambda ctx: ctx.participant_id)
    reg.register_prefix(CLAIM_PREFIX, lambda name, ctx: ctx.claims.get(name))
    return reg


#: The registry ``evaluate`` uses when given none. Do not register into it: copy it first.
BUILTIN = default_registry()
