"""The transfer process state machine: every (role, state, input), plus whole flows.

The expectations below restate the rules independently of the module's own tables.
"""

from __future__ import annotations

import pytest

from connector.domain import CONSUMER, PROVIDER
from connector.errors import InvalidStateTransition
from connector.protocol import transfer as t
from connector.protocol.binding import join_url
from connector.protocol.transfer import TransferState as S

ALL = list(S)
TERMINAL = {S.COMPLETED, S.TERMINATED}
NON_TERMINAL = [s for s in ALL if s not in TERMINAL]
ROLES = [CONSUMER, PROVIDER]

REQ = "TransferRequestMessage"
START = "TransferStartMessage"
SUSP = "TransferSuspensionMessage"
COMP = "TransferCompletionMessage"
TERM = "TransferTerminationMessage"
INPUTS = [REQ, START, SUSP, COMP, TERM]


def _to(target: S, *sources: S) -> dict[S, S]:
    return dict.fromkeys(sources, target)


# (receiver, message) -> ({from: to}, {duplicate states}); anything else is an error.
RECEIVE: dict[tuple[str, str], tuple[dict[S, S], set[S]]] = {
    # A repeated request (same consumerPid) is idempotent whatever the state.
    (PROVIDER, REQ): ({}, set(ALL)),
    (PROVIDER, START): (
        _to(S.RESUMING, S.SUSPENDED, S.SUSPENDING),
        {S.RESUMING, S.STARTING, S.STARTED},
    ),
    (PROVIDER, COMP): (
        _to(S.COMPLETED, S.STARTED, S.STARTING, S.RESUMING, S.COMPLETING),
        {S.COMPLETED},
    ),
    (PROVIDER, SUSP): (
        _to(S.SUSPENDED, S.STARTED, S.STARTING, S.RESUMING, S.SUSPENDING),
        {S.SUSPENDED},
    ),
    (PROVIDER, TERM): (_to(S.TERMINATED, *NON_TERMINAL), {S.TERMINATED}),
    (CONSUMER, START): (
        _to(S.STARTED, S.REQUESTED, S.REQUESTING, S.SUSPENDED, S.SUSPENDING, S.RESUMING, S.STARTED),
        set(),
    ),
    (CONSUMER, COMP): (_to(S.COMPLETED, S.STARTED, S.RESUMING, S.COMPLETING), {S.COMPLETED}),
    (CONSUMER, SUSP): (_to(S.SUSPENDED, S.STARTED, S.RESUMING, S.SUSPENDING), {S.SUSPENDED}),
    (CONSUMER, TERM): (_to(S.TERMINATED, *NON_TERMINAL), {S.TERMINATED}),
}

COMMAND: dict[str, dict[str, tuple[dict[S, S], str]]] = {
    CONSUMER: {
        "request": ({S.INITIAL: S.REQUESTING}, REQ),
        "resume": ({S.SUSPENDED: S.RESUMING}, START),
        "complete": ({S.STARTED: S.COMPLETING}, COMP),
        "suspend": ({S.STARTED: S.SUSPENDING}, SUSP),
    },
    PROVIDER: {
        "start": (_to(S.STARTING, S.REQUESTED, S.SUSPENDED, S.RESUMING), START),
        "complete": ({S.STARTED: S.COMPLETING}, COMP),
        "suspend": (_to(S.SUSPENDING, S.STARTED, S.RESUMING), SUSP),
    },
}
COMMAND_NAMES = sorted({name for c in COMMAND.values() for name in c} | {"terminate", "bogus"})

ACKS = {
    S.REQUESTING: S.REQUESTED,
    S.STARTING: S.STARTED,
    S.SUSPENDING: S.SUSPENDED,
    S.RESUMING: S.STARTED,
    S.COMPLETING: S.COMPLETED,
    S.TERMINATING: S.TERMINATED,
}

DSP = {
    S.INITIAL: "REQUESTED",
    S.REQUESTING: "REQUESTED",
    S.REQUESTED: "REQUESTED",
    S.STARTING: "STARTED",
    S.STARTED: "STARTED",
    S.RESUMING: "STARTED",
    S.SUSPENDING: "SUSPENDED",
    S.SUSPENDED: "SUSPENDED",
    S.COMPLETING: "COMPLETED",
    S.COMPLETED: "COMPLETED",
    S.TERMINATING: "TERMINATED",
    S.TERMINATED: "TERMINATED",
}


def test_state_names_are_edcs() -> None:
    assert [s.value for s in S] == [
        "INITIAL",
        "REQUESTING",
        "REQUESTED",
        "STARTING",
        "STARTED",
        "SUSPENDING",
        "SUSPENDED",
        "RESUMING",
        "COMPLETING",
        "COMPLETED",
        "TERMINATING",
        "TERMINATED",
    ]


@pytest.mark.parametrize("state", ALL)
def test_dsp_state(state: S) -> None:
    assert t.dsp_state(state) == DSP[state]
    assert t.is_terminal(state.value) == (state in TERMINAL)


# -- receive: exhaustive ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", ALL)
@pytest.mark.parametrize("message", INPUTS)
def test_receive_exhaustive(role: str, state: S, message: str) -> None:
    moves, duplicates = RECEIVE.get((role, message), ({}, set()))
    if state in moves:
        result = t.receive(role, state, message)
        assert result == t.Transition(moves[state])
        assert isinstance(result.state, S)
    elif state in duplicates:
        result = t.receive(role, state, message)
        assert result == t.Transition(state, duplicate=True)
    else:
        with pytest.raises(InvalidStateTransition) as caught:
            t.receive(role, state, message)
        text = str(caught.value)
        assert message in text and role in text and state.value in text
        assert caught.value.state == state


def test_start_in_started_is_a_new_data_address() -> None:
    result = t.receive(CONSUMER, S.STARTED, START)
    assert result.state is S.STARTED and not result.duplicate


def test_initial_state() -> None:
    assert t.initial_state(PROVIDER, REQ) is S.REQUESTED
    for role, message in [(CONSUMER, REQ), (CONSUMER, START), (PROVIDER, START)]:
        with pytest.raises(InvalidStateTransition, match=message):
            t.initial_state(role, message)


# -- commands: exhaustive --------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", ALL)
@pytest.mark.parametrize("name", COMMAND_NAMES)
def test_command_exhaustive(role: str, state: S, name: str) -> None:
    if name == "terminate":
        if state in TERMINAL:
            with pytest.raises(InvalidStateTransition, match="allowed from"):
                t.command(role, state, name)
        elif state is S.INITIAL:
            assert t.command(role, state, name) == t.Transition(S.TERMINATED)
        elif state is S.TERMINATING:
            assert t.command(role, state, name) == t.Transition(S.TERMINATING, duplicate=True)
        else:
            assert t.command(role, state, name) == t.Transition(S.TERMINATING, send=TERM)
        return
    moves, send = COMMAND[role].get(name, ({}, ""))
    if state in moves:
        assert t.command(role, state, name) == t.Transition(moves[state], send=send)
    else:
        with pytest.raises(InvalidStateTransition) as caught:
            t.command(role, state, name)
        text = str(caught.value)
        assert repr(name) in text and role in text and state.value in text
        for allowed in moves:
            assert allowed.value in text


def test_commands_export() -> None:
    assert t.COMMANDS[CONSUMER] == {"request", "resume", "complete", "suspend", "terminate"}
    assert t.COMMANDS[PROVIDER] == {"start", "complete", "suspend", "terminate"}
    assert t.allowed_commands(PROVIDER, S.RESUMING) == ["start", "suspend", "terminate"]
    assert t.allowed_commands(CONSUMER, S.SUSPENDED) == ["resume", "terminate"]


# -- acknowledged ----------------------------------------------------------------------------


@pytest.mark.parametrize("sent", list(ACKS))
@pytest.mark.parametrize("current", ALL)
def test_acknowledged(sent: S, current: S) -> None:
    assert t.acknowledged(sent, current) == (ACKS[sent] if current is sent else None)


@pytest.mark.parametrize("sent", [s for s in ALL if s not in ACKS])
def test_acknowledged_needs_a_sending_state(sent: S) -> None:
    with pytest.raises(ValueError):
        t.acknowledged(sent, sent)


# -- whole flows -----------------------------------------------------------------------------


class Pair:
    """Both sides of one transfer, driven through commands, deliveries and ACKs."""

    def __init__(self, consumer: S, provider: S) -> None:
        self.states = {CONSUMER: consumer, PROVIDER: provider}

    def step(self, role: str, name: str) -> None:
        other = PROVIDER if role == CONSUMER else CONSUMER
        sent = t.command(role, self.states[role], name)
        assert sent.send is not None
        self.states[role] = sent.state
        self.states[other] = t.receive(other, self.states[other], sent.send).state
        moved = t.acknowledged(sent.state, self.states[role])
        if moved is not None:
            self.states[role] = moved


def test_pull_transfer_with_suspension_and_resume() -> None:
    sent = t.command(CONSUMER, S.INITIAL, "request")
    pair = Pair(t.acknowledged(sent.state, sent.state), t.initial_state(PROVIDER, sent.send))
    assert pair.states == {CONSUMER: S.REQUESTED, PROVIDER: S.REQUESTED}
    pair.step(PROVIDER, "start")
    assert pair.states == {CONSUMER: S.STARTED, PROVIDER: S.STARTED}
    pair.step(CONSUMER, "suspend")
    assert pair.states == {CONSUMER: S.SUSPENDED, PROVIDER: S.SUSPENDED}
    pair.step(CONSUMER, "resume")  # the provider now owes a start message
    assert pair.states == {CONSUMER: S.STARTED, PROVIDER: S.RESUMING}
    assert t.dsp_state(pair.states[PROVIDER]) == "STARTED"
    pair.step(PROVIDER, "start")
    assert pair.states == {CONSUMER: S.STARTED, PROVIDER: S.STARTED}
    pair.step(CONSUMER, "complete")
    assert pair.states == {CONSUMER: S.COMPLETED, PROVIDER: S.COMPLETED}


def test_provider_suspends_and_restarts() -> None:
    pair = Pair(S.STARTED, S.STARTED)
    pair.step(PROVIDER, "suspend")
    assert pair.states == {CONSUMER: S.SUSPENDED, PROVIDER: S.SUSPENDED}
    pair.step(PROVIDER, "start")
    pair.step(PROVIDER, "complete")
    assert pair.states == {CONSUMER: S.COMPLETED, PROVIDER: S.COMPLETED}


def test_crossing_completions_both_complete() -> None:
    consumer = t.command(CONSUMER, S.STARTED, "complete").state
    provider = t.command(PROVIDER, S.STARTED, "complete").state
    assert t.receive(CONSUMER, consumer, COMP).state is S.COMPLETED
    assert t.receive(PROVIDER, provider, COMP).state is S.COMPLETED
    assert t.acknowledged(S.COMPLETING, S.COMPLETED) is None


def test_termination_and_terminal_states() -> None:
    pair = Pair(S.STARTED, S.STARTED)
    pair.step(PROVIDER, "terminate")
    assert pair.states == {CONSUMER: S.TERMINATED, PROVIDER: S.TERMINATED}
    with pytest.raises(InvalidStateTransition):
        t.receive(CONSUMER, S.COMPLETED, TERM)
    assert t.receive(CONSUMER, S.TERMINATED, TERM).duplicate


# -- HTTPS binding paths ---------------------------------------------------------------------

PIDS = {"consumer_pid": "urn:uuid:c", "provider_pid": "urn:uuid:p"}


@pytest.mark.parametrize(
    ("sender", "message", "path"),
    [
        (CONSUMER, REQ, "transfers/request"),
        (CONSUMER, START, "transfers/urn:uuid:p/start"),
        (CONSUMER, COMP, "transfers/urn:uuid:p/completion"),
        (CONSUMER, SUSP, "transfers/urn:uuid:p/suspension"),
        (CONSUMER, TERM, "transfers/urn:uuid:p/termination"),
        (PROVIDER, START, "transfers/urn:uuid:c/start"),
        (PROVIDER, COMP, "transfers/urn:uuid:c/completion"),
        (PROVIDER, SUSP, "transfers/urn:uuid:c/suspension"),
        (PROVIDER, TERM, "transfers/urn:uuid:c/termination"),
    ],
)
def test_peer_path(sender: str, message: str, path: str) -> None:
    assert t.peer_path(sender, message, initial=message == REQ, **PIDS) == path
    assert t.peer_path(sender, message, **PIDS) == path  # one endpoint: no choice needed


def test_peer_path_errors() -> None:
    with pytest.raises(ValueError, match="TransferRequestMessage"):
        t.peer_path(PROVIDER, REQ, **PIDS)
    with pytest.raises(ValueError, match="consumerPid"):
        t.peer_path(PROVIDER, START, None, "urn:uuid:p")


def test_callback_url() -> None:
    for base in ("https://c.example/dsp/callback", "https://c.example/dsp/callback/"):
        url = join_url(base, t.peer_path(PROVIDER, START, **PIDS))
        assert url == "https://c.example/dsp/callback/transfers/urn:uuid:c/start"
