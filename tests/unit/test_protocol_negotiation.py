"""The contract negotiation state machine: every (role, state, input), plus whole flows.

The expectations below restate the rules independently of the module's own tables.
"""

from __future__ import annotations

import pytest

from connector.domain import CONSUMER, PROVIDER
from connector.errors import InvalidStateTransition
from connector.protocol import negotiation as n
from connector.protocol.binding import join_url
from connector.protocol.negotiation import NegotiationState as S

ALL = list(S)
TERMINAL = {S.FINALIZED, S.TERMINATED}
NON_TERMINAL = [s for s in ALL if s not in TERMINAL]
ROLES = [CONSUMER, PROVIDER]

REQ = "ContractRequestMessage"
OFF = "ContractOfferMessage"
AGR = "ContractAgreementMessage"
VER = "ContractAgreementVerificationMessage"
EVT = "ContractNegotiationEventMessage"
TRM = "ContractNegotiationTerminationMessage"

INPUTS = [
    (REQ, None),
    (OFF, None),
    (AGR, None),
    (VER, None),
    (EVT, "ACCEPTED"),
    (EVT, "FINALIZED"),
    (TRM, None),
]


def _term() -> tuple[dict[S, S], set[S]]:
    return {s: S.TERMINATED for s in NON_TERMINAL}, {S.TERMINATED}


# (receiver, message, event) -> ({from: to}, {duplicate states}); anything else is an error.
RECEIVE: dict[tuple[str, str, str | None], tuple[dict[S, S], set[S]]] = {
    (PROVIDER, REQ, None): ({S.OFFERED: S.REQUESTED, S.OFFERING: S.REQUESTED}, {S.REQUESTED}),
    (PROVIDER, EVT, "ACCEPTED"): (
        {S.OFFERED: S.ACCEPTED, S.OFFERING: S.ACCEPTED},
        {S.ACCEPTED, S.AGREEING},
    ),
    (PROVIDER, VER, None): (
        {S.AGREED: S.VERIFIED, S.AGREEING: S.VERIFIED},
        {S.VERIFIED, S.FINALIZING, S.FINALIZED},
    ),
    (PROVIDER, TRM, None): _term(),
    (CONSUMER, OFF, None): ({S.REQUESTED: S.OFFERED, S.REQUESTING: S.OFFERED}, {S.OFFERED}),
    (CONSUMER, AGR, None): (
        {s: S.AGREED for s in (S.REQUESTED, S.REQUESTING, S.ACCEPTED, S.ACCEPTING)},
        {S.AGREED, S.VERIFYING, S.VERIFIED, S.FINALIZED},
    ),
    (CONSUMER, EVT, "FINALIZED"): (
        {S.VERIFIED: S.FINALIZED, S.VERIFYING: S.FINALIZED},
        {S.FINALIZED},
    ),
    (CONSUMER, TRM, None): _term(),
}

# role -> command -> ({from: to}, send, event_type)
COMMAND: dict[str, dict[str, tuple[dict[S, S], str | None, str | None]]] = {
    CONSUMER: {
        "request": ({S.INITIAL: S.REQUESTING}, REQ, None),
        "counter": ({S.OFFERED: S.REQUESTING}, REQ, None),
        "accept": ({S.OFFERED: S.ACCEPTING}, EVT, "ACCEPTED"),
        "verify": ({S.AGREED: S.VERIFYING}, VER, None),
    },
    PROVIDER: {
        "offer": ({S.INITIAL: S.OFFERING}, OFF, None),
        "counter": ({S.REQUESTED: S.OFFERING}, OFF, None),
        "agree": ({S.REQUESTED: S.AGREEING, S.ACCEPTED: S.AGREEING}, AGR, None),
        "finalize": ({S.VERIFIED: S.FINALIZING}, EVT, "FINALIZED"),
    },
}
COMMAND_NAMES = sorted({name for c in COMMAND.values() for name in c} | {"terminate", "bogus"})

ACKS = {
    S.REQUESTING: S.REQUESTED,
    S.OFFERING: S.OFFERED,
    S.ACCEPTING: S.ACCEPTED,
    S.AGREEING: S.AGREED,
    S.VERIFYING: S.VERIFIED,
    S.FINALIZING: S.FINALIZED,
    S.TERMINATING: S.TERMINATED,
}

DSP = {
    S.INITIAL: "REQUESTED",
    S.REQUESTING: "REQUESTED",
    S.REQUESTED: "REQUESTED",
    S.OFFERING: "OFFERED",
    S.OFFERED: "OFFERED",
    S.ACCEPTING: "ACCEPTED",
    S.ACCEPTED: "ACCEPTED",
    S.AGREEING: "AGREED",
    S.AGREED: "AGREED",
    S.VERIFYING: "VERIFIED",
    S.VERIFIED: "VERIFIED",
    S.FINALIZING: "FINALIZED",
    S.FINALIZED: "FINALIZED",
    S.TERMINATING: "TERMINATED",
    S.TERMINATED: "TERMINATED",
}


def test_state_names_are_edcs() -> None:
    assert [s.value for s in S] == [
        "INITIAL",
        "REQUESTING",
        "REQUESTED",
        "OFFERING",
        "OFFERED",
        "ACCEPTING",
        "ACCEPTED",
        "AGREEING",
        "AGREED",
        "VERIFYING",
        "VERIFIED",
        "FINALIZING",
        "FINALIZED",
        "TERMINATING",
        "TERMINATED",
    ]


@pytest.mark.parametrize("state", ALL)
def test_dsp_state(state: S) -> None:
    assert n.dsp_state(state) == DSP[state]
    assert n.dsp_state(state.value) == DSP[state]
    assert n.is_terminal(state) == (state in TERMINAL)


def test_unknown_state_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="BOGUS"):
        n.dsp_state("BOGUS")


# -- receive: exhaustive ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", ALL)
@pytest.mark.parametrize(("message", "event"), INPUTS)
def test_receive_exhaustive(role: str, state: S, message: str, event: str | None) -> None:
    moves, duplicates = RECEIVE.get((role, message, event), ({}, set()))
    if state in moves:
        result = n.receive(role, state, message, event)
        assert result.state == moves[state]
        assert isinstance(result.state, S)
        assert not result.duplicate
        assert result.send is None
    elif state in duplicates:
        result = n.receive(role, state, message, event)
        assert result.state == state
        assert result.duplicate
    else:
        with pytest.raises(InvalidStateTransition) as caught:
            n.receive(role, state, message, event)
        text = str(caught.value)
        assert message in text
        assert role in text
        assert state.value in text
        assert caught.value.state == state
        assert caught.value.status == 400


def test_receive_accepts_stored_strings() -> None:
    assert n.receive(PROVIDER, "OFFERED", REQ).state is S.REQUESTED


def test_accept_event_on_consumer_offer_is_an_error() -> None:
    with pytest.raises(InvalidStateTransition, match="made by the consumer"):
        n.receive(PROVIDER, S.OFFERED, EVT, "ACCEPTED", last_offer_by=CONSUMER)
    ok = n.receive(PROVIDER, S.OFFERED, EVT, "ACCEPTED", last_offer_by=PROVIDER)
    assert ok.state is S.ACCEPTED
    # A repeat of an accept already applied stays a harmless duplicate.
    assert n.receive(PROVIDER, S.ACCEPTED, EVT, "ACCEPTED", last_offer_by=CONSUMER).duplicate


def test_wrong_event_direction_is_an_error() -> None:
    with pytest.raises(InvalidStateTransition, match="FINALIZED"):
        n.receive(PROVIDER, S.VERIFIED, EVT, "FINALIZED")
    with pytest.raises(InvalidStateTransition, match="ACCEPTED"):
        n.receive(CONSUMER, S.OFFERED, EVT, "ACCEPTED")
    with pytest.raises(InvalidStateTransition, match="BOGUS"):
        n.receive(CONSUMER, S.VERIFIED, EVT, "BOGUS")


def test_unknown_role_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="role"):
        n.receive("BROKER", S.OFFERED, REQ)


def test_initial_state() -> None:
    assert n.initial_state(PROVIDER, REQ) is S.REQUESTED
    assert n.initial_state(CONSUMER, OFF) is S.OFFERED
    for role, message in [(CONSUMER, REQ), (PROVIDER, OFF), (PROVIDER, AGR), (CONSUMER, TRM)]:
        with pytest.raises(InvalidStateTransition, match=message):
            n.initial_state(role, message)


# -- commands: exhaustive --------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", ALL)
@pytest.mark.parametrize("name", COMMAND_NAMES)
def test_command_exhaustive(role: str, state: S, name: str) -> None:
    if name == "terminate":
        result = n.command(role, state, name) if state not in TERMINAL else None
        if state in TERMINAL:
            with pytest.raises(InvalidStateTransition, match="allowed from"):
                n.command(role, state, name)
        elif state is S.INITIAL:
            assert result == n.Transition(S.TERMINATED)
        elif state is S.TERMINATING:
            assert result is not None and result.duplicate and result.send is None
        else:
            assert result == n.Transition(S.TERMINATING, send=TRM)
        return
    moves, send, event = COMMAND[role].get(name, ({}, None, None))
    if state in moves:
        result = n.command(role, state, name)
        assert result == n.Transition(moves[state], send=send, event_type=event)
    else:
        with pytest.raises(InvalidStateTransition) as caught:
            n.command(role, state, name)
        text = str(caught.value)
        assert repr(name) in text and role in text and state.value in text
        assert caught.value.state == state
        for allowed in moves:
            assert allowed.value in text


def test_commands_export() -> None:
    assert n.COMMANDS[CONSUMER] == {"request", "counter", "accept", "verify", "terminate"}
    assert n.COMMANDS[PROVIDER] == {"offer", "counter", "agree", "finalize", "terminate"}


def test_allowed_commands() -> None:
    assert n.allowed_commands(CONSUMER, S.OFFERED) == ["accept", "counter", "terminate"]
    assert n.allowed_commands(PROVIDER, S.REQUESTED) == ["agree", "counter", "terminate"]
    assert n.allowed_commands(PROVIDER, S.FINALIZED) == []
    assert "terminate" not in n.allowed_commands(CONSUMER, S.TERMINATING)


# -- acknowledged ----------------------------------------------------------------------------


@pytest.mark.parametrize("sent", list(ACKS))
@pytest.mark.parametrize("current", ALL)
def test_acknowledged(sent: S, current: S) -> None:
    expected = ACKS[sent] if current is sent else None
    assert n.acknowledged(sent, current) == expected


@pytest.mark.parametrize("sent", [s for s in ALL if s not in ACKS])
def test_acknowledged_needs_a_sending_state(sent: S) -> None:
    with pytest.raises(ValueError):
        n.acknowledged(sent, sent)


# -- whole flows -----------------------------------------------------------------------------


class Pair:
    """Both sides of one negotiation, driven through commands, deliveries and ACKs."""

    def __init__(self, consumer: S, provider: S) -> None:
        self.states = {CONSUMER: consumer, PROVIDER: provider}

    def step(self, role: str, name: str, *, ack_first: bool = True) -> None:
        other = PROVIDER if role == CONSUMER else CONSUMER
        sent = n.command(role, self.states[role], name)
        assert sent.send is not None
        self.states[role] = sent.state
        if ack_first:
            got = n.receive(other, self.states[other], sent.send, sent.event_type)
            self.states[other] = got.state
            moved = n.acknowledged(sent.state, self.states[role])
            assert moved is not None
            self.states[role] = moved
        else:  # our ACK is processed after the peer's answer: it must not roll us back
            got = n.receive(other, self.states[other], sent.send, sent.event_type)
            self.states[other] = got.state


def test_consumer_initiated_happy_path() -> None:
    sent = n.command(CONSUMER, S.INITIAL, "request")
    assert sent.send == REQ
    pair = Pair(n.acknowledged(sent.state, sent.state), n.initial_state(PROVIDER, sent.send))
    assert pair.states == {CONSUMER: S.REQUESTED, PROVIDER: S.REQUESTED}
    pair.step(PROVIDER, "agree")
    assert pair.states == {CONSUMER: S.AGREED, PROVIDER: S.AGREED}
    pair.step(CONSUMER, "verify")
    assert pair.states == {CONSUMER: S.VERIFIED, PROVIDER: S.VERIFIED}
    pair.step(PROVIDER, "finalize")
    assert pair.states == {CONSUMER: S.FINALIZED, PROVIDER: S.FINALIZED}
    assert {n.dsp_state(s) for s in pair.states.values()} == {"FINALIZED"}


def test_counter_offers_then_accept() -> None:
    pair = Pair(S.REQUESTED, S.REQUESTED)
    pair.step(PROVIDER, "counter")
    assert pair.states == {CONSUMER: S.OFFERED, PROVIDER: S.OFFERED}
    pair.step(CONSUMER, "counter")
    assert pair.states == {CONSUMER: S.REQUESTED, PROVIDER: S.REQUESTED}
    pair.step(PROVIDER, "counter")
    pair.step(CONSUMER, "accept")
    assert pair.states == {CONSUMER: S.ACCEPTED, PROVIDER: S.ACCEPTED}
    pair.step(PROVIDER, "agree")
    pair.step(CONSUMER, "verify")
    pair.step(PROVIDER, "finalize")
    assert pair.states == {CONSUMER: S.FINALIZED, PROVIDER: S.FINALIZED}


def test_provider_initiated_offer() -> None:
    provider = n.command(PROVIDER, S.INITIAL, "offer")
    assert provider.send == OFF
    consumer = n.initial_state(CONSUMER, OFF)
    pair = Pair(consumer, n.acknowledged(provider.state, provider.state))
    pair.step(CONSUMER, "accept")
    pair.step(PROVIDER, "agree")
    assert pair.states == {CONSUMER: S.AGREED, PROVIDER: S.AGREED}


def test_peer_answers_before_our_ack() -> None:
    pair = Pair(S.OFFERED, S.OFFERED)
    pair.step(CONSUMER, "accept", ack_first=False)
    assert pair.states == {CONSUMER: S.ACCEPTING, PROVIDER: S.ACCEPTED}
    pair.step(PROVIDER, "agree", ack_first=False)  # the agreement arrives while ACCEPTING
    assert pair.states == {CONSUMER: S.AGREED, PROVIDER: S.AGREEING}
    assert n.acknowledged(S.ACCEPTING, pair.states[CONSUMER]) is None
    assert n.acknowledged(S.AGREEING, pair.states[PROVIDER]) is S.AGREED


def test_duplicates_change_nothing() -> None:
    assert n.receive(CONSUMER, S.AGREED, AGR).duplicate
    assert n.receive(CONSUMER, S.FINALIZED, AGR).duplicate
    assert n.receive(PROVIDER, S.FINALIZED, VER).duplicate
    assert n.receive(CONSUMER, S.FINALIZED, EVT, "FINALIZED").duplicate
    assert n.receive(PROVIDER, S.TERMINATED, TRM).duplicate


def test_termination_mid_way() -> None:
    pair = Pair(S.REQUESTED, S.REQUESTED)
    pair.step(CONSUMER, "terminate")
    assert pair.states == {CONSUMER: S.TERMINATED, PROVIDER: S.TERMINATED}
    with pytest.raises(InvalidStateTransition):
        n.command(PROVIDER, S.TERMINATED, "agree")


# -- HTTPS binding paths ---------------------------------------------------------------------

PIDS = {"consumer_pid": "urn:uuid:c", "provider_pid": "urn:uuid:p"}


@pytest.mark.parametrize(
    ("sender", "message", "initial", "path"),
    [
        (CONSUMER, REQ, True, "negotiations/request"),
        (CONSUMER, REQ, False, "negotiations/urn:uuid:p/request"),
        (CONSUMER, EVT, False, "negotiations/urn:uuid:p/events"),
        (CONSUMER, VER, False, "negotiations/urn:uuid:p/agreement/verification"),
        (CONSUMER, TRM, False, "negotiations/urn:uuid:p/termination"),
        (PROVIDER, OFF, True, "negotiations/offers"),
        (PROVIDER, OFF, False, "negotiations/urn:uuid:c/offers"),
        (PROVIDER, AGR, False, "negotiations/urn:uuid:c/agreement"),
        (PROVIDER, EVT, False, "negotiations/urn:uuid:c/events"),
        (PROVIDER, TRM, False, "negotiations/urn:uuid:c/termination"),
    ],
)
def test_peer_path(sender: str, message: str, initial: bool, path: str) -> None:
    assert n.peer_path(sender, message, initial=initial, **PIDS) == path


def test_peer_path_errors() -> None:
    with pytest.raises(ValueError, match="providerPid"):
        n.peer_path(CONSUMER, VER, "urn:uuid:c", None)
    with pytest.raises(ValueError, match="ContractAgreementMessage"):
        n.peer_path(CONSUMER, AGR, **PIDS)  # the consumer never sends an agreement


def test_peer_path_escapes_pids() -> None:
    path = n.peer_path(PROVIDER, AGR, "a b/c?d", "p")
    assert path == "negotiations/a%20b%2Fc%3Fd/agreement"


@pytest.mark.parametrize(
    "base",
    ["https://c.example/cb", "https://c.example/cb/", "https://c.example/cb//"],
)
def test_join_url_handles_trailing_slash(base: str) -> None:
    url = join_url(base, n.peer_path(PROVIDER, OFF, **PIDS))
    assert url == "https://c.example/cb/negotiations/urn:uuid:c/offers"
    assert join_url(base, "/x") == "https://c.example/cb/x"


def test_endpoints_cover_every_message_both_ways() -> None:
    served = {(e.receiver, e.message_type) for e in n.ENDPOINTS}
    assert served == {
        (PROVIDER, REQ),
        (PROVIDER, EVT),
        (PROVIDER, VER),
        (PROVIDER, TRM),
        (CONSUMER, OFF),
        (CONSUMER, AGR),
        (CONSUMER, EVT),
        (CONSUMER, TRM),
    }
