"""A small table-driven engine shared by the negotiation and transfer state machines.

It is sans-IO: it maps (role, state, input) to a ``Transition`` and never stores, sends or
logs anything. ``negotiation.py`` and ``transfer.py`` supply the tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from connector.domain import CONSUMER, PROVIDER
from connector.errors import InvalidStateTransition

ROLES = (CONSUMER, PROVIDER)


@dataclass(frozen=True, slots=True)
class Transition:
    """The outcome of a received message or of a command.

    ``state`` is the new state (unchanged when ``duplicate``). ``duplicate`` means the input
    repeats one already applied: answer OK and change nothing. ``send`` is the DSP message type
    to put in the outbox (commands only), with ``event_type`` for an event message.
    """

    state: StrEnum
    duplicate: bool = False
    send: str | None = None
    event_type: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """From any of ``sources`` go to ``target``; in any of ``duplicates`` stay put."""

    target: StrEnum
    sources: frozenset[StrEnum]
    duplicates: frozenset[StrEnum] = frozenset()
    send: str | None = None
    event_type: str | None = None

    def apply(self, state: StrEnum) -> Transition | None:
        if state in self.sources:
            return Transition(self.target, send=self.send, event_type=self.event_type)
        if state in self.duplicates:
            return Transition(state, duplicate=True)
        return None


def rule(
    target: StrEnum,
    sources: Iterable[StrEnum],
    duplicates: Iterable[StrEnum] = (),
    *,
    send: str | None = None,
    event_type: str | None = None,
) -> Rule:
    """Shorthand for ``Rule`` that takes any iterables."""
    return Rule(target, frozenset(sources), frozenset(duplicates), send, event_type)


def _names(states: Iterable[StrEnum], order: Iterable[StrEnum]) -> str:
    wanted = set(states)
    listed = [str(s) for s in order if s in wanted]
    return ", ".join(listed) if listed else "none"


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be {CONSUMER!r} or {PROVIDER!r}, not {role!r}")
    return role


@dataclass(frozen=True)
class Machine:
    """The tables of one protocol's state machine and the operations over them."""

    name: str  # "negotiation" or "transfer", for messages
    states: type[StrEnum]
    terminal: frozenset[StrEnum]
    dsp: Mapping[StrEnum, str]  # our state -> the DSP state the peer sees
    receives: Mapping[tuple[str, str], tuple[Rule, ...]]  # (receiver role, input) -> rules
    commands: Mapping[str, Mapping[str, tuple[Rule, ...]]]  # role -> command -> rules
    acks: Mapping[StrEnum, StrEnum]  # state a message was sent in -> state once ACKed
    initials: Mapping[tuple[str, str], StrEnum]  # (receiver role, message) -> first state

    def state(self, value: str) -> StrEnum:
        """Coerce a stored state name to the enum (ValueError if unknown)."""
        try:
            return self.states(value)
        except ValueError:
            raise ValueError(f"unknown {self.name} state {value!r}") from None

    def dsp_state(self, state: str) -> str:
        return self.dsp[self.state(state)]

    def is_terminal(self, state: str) -> bool:
        return self.state(state) in self.terminal

    def initial_state(self, role: str, message_type: str) -> StrEnum:
        check_role(role)
        try:
            return self.initials[(role, message_type)]
        except KeyError:
            raise InvalidStateTransition(
                f"{message_type} cannot start a {self.name} at the {role}"
            ) from None

    def receive(self, role: str, state: str, key: str, label: str) -> Transition:
        """Apply a received input (``key`` in the table, ``label`` for the error message)."""
        check_role(role)
        current = self.state(state)
        rules = self.receives.get((role, key))
        if not rules:
            raise InvalidStateTransition(
                f"{label} is not accepted by the {role} (state {current})", state=current
            )
        for candidate in rules:
            outcome = candidate.apply(current)
            if outcome is not None:
                return outcome
        allowed = {s for r in rules for s in r.sources | r.duplicates}
        raise InvalidStateTransition(
            f"{label} is not allowed in state {current} for the {role} "
            f"(allowed in: {_names(allowed, self.states)})",
            state=current,
        )

    def command(self, role: str, state: str, name: str) -> Transition:
        """Apply a decision of this node; the transition says what to send."""
        check_role(role)
        current = self.state(state)
        rules = self.commands[role].get(name)
        if not rules:
            raise InvalidStateTransition(
                f"command {name!r} is not a {self.name} command of the {role} (state {current}; "
                f"its commands: {', '.join(sorted(self.commands[role]))})",
                state=current,
            )
        for candidate in rules:
            outcome = candidate.apply(current)
            if outcome is not None:
                return outcome
        allowed = {s for r in rules for s in r.sources | r.duplicates}
        raise InvalidStateTransition(
            f"command {name!r} is not allowed for the {role} in state {current} "
            f"(allowed from: {_names(allowed, self.states)})",
            state=current,
        )

    def allowed_commands(self, role: str, state: str) -> list[str]:
        """The commands ``role`` may issue in ``state`` (duplicates excluded)."""
        check_role(role)
        current = self.state(state)
        return sorted(
            name
            for name, rules in self.commands[role].items()
            if any(current in r.sources for r in rules)
        )

    def acknowledged(self, state_when_sent: str, current_state: str) -> StrEnum | None:
        """The state to enter once the peer ACKed what we sent in ``state_when_sent``.

        ``None`` when the process has moved on since (``current_state`` differs).
        """
        sent = self.state(state_when_sent)
        if sent not in self.acks:
            raise ValueError(f"no {self.name} message is sent in state {sent}")
        if self.state(current_state) != sent:
            return None
        return self.acks[sent]
