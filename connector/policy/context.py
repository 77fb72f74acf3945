"""What the engine knows about one request. The caller fills it; policy code reads no clock."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

from connector.policy.model import ACTIONS, LEFT_OPERANDS, USE, expand
from connector.policy.operators import jsonable

Scope = Literal["catalog", "negotiation", "transfer"]
DutyState = Literal["fulfilled", "violated", "notSet"]
DUTY_STATES: frozenset[str] = frozenset({"fulfilled", "violated", "notSet"})


@dataclass(frozen=True, kw_only=True)
class RequestContext:
    """One request and the state of the world it is evaluated in.

    ``values`` holds further left-operand values by IRI (request parameters, facts about the
    asset). ``part_of`` maps an asset or party IRI to the collections it belongs to.
    ``duty_states`` maps a duty's ``@id`` (or its path, ``permission[0].duty[0]``) to
    ``fulfilled``, ``violated`` or ``notSet``.
    """

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
    values: Mapping[str, Any] = field(default_factory=dict)
    part_of: Mapping[str, Collection[str]] = field(default_factory=dict)
    duty_states: Mapping[str, DutyState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", expand(self.action, ACTIONS))
        for name in ("now", "agreement_time"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                object.__setattr__(self, name, moment.replace(tzinfo=UTC))
        if self.values:
            values = {expand(k, LEFT_OPERANDS): v for k, v in self.values.items()}
            object.__setattr__(self, "values", values)
        for key, state in self.duty_states.items():
            if state not in DUTY_STATES:
                raise ValueError(f"duty {key}: state {state!r} is not one of {sorted(DUTY_STATES)}")

    def member_of(self, member: str, collection: str) -> bool:
        """Whether ``member`` is ``collection`` or (transitively) part of it."""
        seen: set[str] = set()
        todo = [member]
        while todo:
            current = todo.pop()
            if current == collection:
                return True
            if current not in seen:
                seen.add(current)
                todo.extend(self.part_of.get(current, ()))
        return False

    def to_record(self) -> dict[str, Any]:
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}
