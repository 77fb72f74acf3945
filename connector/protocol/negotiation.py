"""The DSP contract negotiation state machine, sans-IO.

States are EDC's names. An ``*ING`` state means "we decided; the message is in our outbox and
the peer has not ACKed it yet"; ``acknowledged`` moves it on to the ``*ED`` state. A message
from the peer is accepted in the ``*ING`` state too, because the peer may answer before our own
ACK was processed.
"""

from __future__ import annotations

from enum import StrEnum

from connector.domain import CONSUMER, PROVIDER
from connector.errors import InvalidStateTransition
from connector.protocol import binding
from connector.protocol.binding import Endpoint
from connector.protocol.machine import Machine, Rule, Transition, rule


class NegotiationState(StrEnum):
    INITIAL = "INITIAL"
    REQUESTING = "REQUESTING"
    REQUESTED = "REQUESTED"
    OFFERING = "OFFERING"
    OFFERED = "OFFERED"
    ACCEPTING = "ACCEPTING"
    ACCEPTED = "ACCEPTED"
    AGREEING = "AGREEING"
    AGREED = "AGREED"
    VERIFYING = "VERIFYING"
    VERIFIED = "VERIFIED"
    FINALIZING = "FINALIZING"
    FINALIZED = "FINALIZED"
    TERMINATING = "TERMINATING"
    TERMINATED = "TERMINATED"


S = NegotiationState

REQUEST = "ContractRequestMessage"
OFFER = "ContractOfferMessage"
AGREEMENT = "ContractAgreementMessage"
VERIFICATION = "ContractAgreementVerificationMessage"
EVENT = "ContractNegotiationEventMessage"
TERMINATION = "ContractNegotiationTerminationMessage"
ACCEPTED_EVENT = "ACCEPTED"
FINALIZED_EVENT = "FINALIZED"

MESSAGE_TYPES = frozenset({REQUEST, OFFER, AGREEMENT, VERIFICATION, EVENT, TERMINATION})
TERMINAL_STATES = frozenset({S.FINALIZED, S.TERMINATED})
NON_TERMINAL_STATES = frozenset(S) - TERMINAL_STATES

DSP_STATES: dict[NegotiationState, str] = {
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

ACKS: dict[NegotiationState, NegotiationState] = {
    S.REQUESTING: S.REQUESTED,
    S.OFFERING: S.OFFERED,
    S.ACCEPTING: S.ACCEPTED,
    S.AGREEING: S.AGREED,
    S.VERIFYING: S.VERIFIED,
    S.FINALIZING: S.FINALIZED,
    S.TERMINATING: S.TERMINATED,
}

_TERMINATED_BY_PEER = rule(S.TERMINATED, NON_TERMINAL_STATES, [S.TERMINATED])

# (receiver role, message type or "event:<eventType>") -> rules
_RECEIVES: dict[tuple[str, str], tuple[Rule, ...]] = {
    (PROVIDER, REQUEST): (rule(S.REQUESTED, [S.OFFERED, S.OFFERING], [S.REQUESTED]),),
    (PROVIDER, f"event:{ACCEPTED_EVENT}"): (
        rule(S.ACCEPTED, [S.OFFERED, S.OFFERING], [S.ACCEPTED, S.AGREEING]),
    ),
    (PROVIDER, VERIFICATION): (
        rule(S.VERIFIED, [S.AGREED, S.AGREEING], [S.VERIFIED, S.FINALIZING, S.FINALIZED]),
    ),
    (PROVIDER, TERMINATION): (_TERMINATED_BY_PEER,),
    (CONSUMER, OFFER): (rule(S.OFFERED, [S.REQUESTED, S.REQUESTING], [S.OFFERED]),),
    (CONSUMER, AGREEMENT): (
        rule(
            S.AGREED,
            [S.REQUESTED, S.REQUESTING, S.ACCEPTED, S.ACCEPTING],
            [S.AGREED, S.VERIFYING, S.VERIFIED, S.FINALIZED],
        ),
    ),
    (CONSUMER, f"event:{FINALIZED_EVENT}"): (
        rule(S.FINALIZED, [S.VERIFIED, S.VERIFYING], [S.FINALIZED]),
    ),
    (CONSUMER, TERMINATION): (_TERMINATED_BY_PEER,),
}

# Terminating: nothing was sent yet in INITIAL, so we end at once; repeating it is a no-op.
_TERMINATE = (
    rule(
        S.TERMINATING,
        NON_TERMINAL_STATES - {S.INITIAL, S.TERMINATING},
        [S.TERMINATING],
        send=TERMINATION,
    ),
    rule(S.TERMINATED, [S.INITIAL]),
)

_COMMANDS: dict[str, dict[str, tuple[Rule, ...]]] = {
    CONSUMER: {
        "request": (rule(S.REQUESTING, [S.INITIAL], send=REQUEST),),
        "counter": (rule(S.REQUESTING, [S.OFFERED], send=REQUEST),),
        "accept": (rule(S.ACCEPTING, [S.OFFERED], send=EVENT, event_type=ACCEPTED_EVENT),),
        "verify": (rule(S.VERIFYING, [S.AGREED], send=VERIFICATION),),
        "terminate": _TERMINATE,
    },
    PROVIDER: {
        "offer": (rule(S.OFFERING, [S.INITIAL], send=OFFER),),
        "counter": (rule(S.OFFERING, [S.REQUESTED], send=OFFER),),
        "agree": (rule(S.AGREEING, [S.REQUESTED, S.ACCEPTED], send=AGREEMENT),),
        "finalize": (rule(S.FINALIZING, [S.VERIFIED], send=EVENT, event_type=FINALIZED_EVENT),),
        "terminate": _TERMINATE,
    },
}

COMMANDS: dict[str, frozenset[str]] = {role: frozenset(c) for role, c in _COMMANDS.items()}
"""The commands each role may issue (in some state)."""

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(PROVIDER, REQUEST, "negotiations/request", initial=True),
    Endpoint(PROVIDER, REQUEST, "negotiations/{providerPid}/request"),
    Endpoint(PROVIDER, EVENT, "negotiations/{providerPid}/events"),
    Endpoint(PROVIDER, VERIFICATION, "negotiations/{providerPid}/agreement/verification"),
    Endpoint(PROVIDER, TERMINATION, "negotiations/{providerPid}/termination"),
    Endpoint(CONSUMER, OFFER, "negotiations/offers", initial=True),
    Endpoint(CONSUMER, OFFER, "negotiations/{consumerPid}/offers"),
    Endpoint(CONSUMER, AGREEMENT, "negotiations/{consumerPid}/agreement"),
    Endpoint(CONSUMER, EVENT, "negotiations/{consumerPid}/events"),
    Endpoint(CONSUMER, TERMINATION, "negotiations/{consumerPid}/termination"),
)
"""The HTTPS binding's POST endpoints, relative to the provider's DSP base or the consumer's
``callbackAddress``."""

PROCESS_PATHS: dict[str, str] = {
    PROVIDER: "negotiations/{providerPid}",
    CONSUMER: "negotiations/{consumerPid}",
}
"""GET paths for a negotiation's current state, by the role that serves them."""

MACHINE = Machine(
    name="negotiation",
    states=NegotiationState,
    terminal=TERMINAL_STATES,
    dsp=DSP_STATES,
    receives=_RECEIVES,
    commands=_COMMANDS,
    acks=ACKS,
    initials={(PROVIDER, REQUEST): S.REQUESTED, (CONSUMER, OFFER): S.OFFERED},
)


def dsp_state(state: str) -> str:
    """The DSP state the peer sees for one of our states."""
    return MACHINE.dsp_state(state)


def is_terminal(state: str) -> bool:
    return MACHINE.is_terminal(state)


def initial_state(role: str, message_type: str) -> NegotiationState:
    """The state a negotiation starts in when ``role`` receives an initiating message:
    the provider a ``ContractRequestMessage`` without ``providerPid`` (REQUESTED), the consumer
    a ``ContractOfferMessage`` without ``consumerPid`` (OFFERED)."""
    return S(MACHINE.initial_state(role, message_type))


def receive(
    role: str,
    state: str,
    message_type: str,
    event_type: str | None = None,
    *,
    last_offer_by: str | None = None,
) -> Transition:
    """Apply a message received from the peer; ``role`` is the receiver's role.

    ``event_type`` is the ``eventType`` of a ``ContractNegotiationEventMessage``;
    ``last_offer_by`` is the role that made the current offer (an ACCEPTED event on an offer
    the consumer made itself is an error). Raises ``InvalidStateTransition``.
    """
    label, key = message_type, message_type
    if message_type == EVENT:
        label = f"{EVENT} {event_type}"
        key = f"event:{event_type}"
    transition = MACHINE.receive(role, state, key, label)
    if key == f"event:{ACCEPTED_EVENT}" and not transition.duplicate and last_offer_by == CONSUMER:
        raise InvalidStateTransition(
            f"{label} is not allowed in state {state} for the {role}: "
            "the current offer was made by the consumer",
            state=S(state),
        )
    return transition


def command(role: str, state: str, name: str) -> Transition:
    """Apply a decision of this node (see ``COMMANDS``); ``send`` says what goes to the outbox.

    ``terminate`` in INITIAL ends at TERMINATED with nothing to send; repeated in TERMINATING it
    is a duplicate. If the peer does not know the process yet (no peer pid), the caller may skip
    sending and complete the termination with ``acknowledged(TERMINATING, TERMINATING)``.
    """
    return MACHINE.command(role, state, name)


def allowed_commands(role: str, state: str) -> list[str]:
    """The commands ``role`` may issue in ``state``."""
    return MACHINE.allowed_commands(role, state)


def acknowledged(state_when_sent: str, current_state: str) -> NegotiationState | None:
    """The state after the peer ACKed the message sent in ``state_when_sent`` (an ``*ING``
    state), or ``None`` if the process moved on meanwhile."""
    result = MACHINE.acknowledged(state_when_sent, current_state)
    return None if result is None else S(result)


def peer_path(
    role_of_sender: str,
    message_type: str,
    consumer_pid: str | None,
    provider_pid: str | None,
    initial: bool = False,
) -> str:
    """The path to append (with ``binding.join_url``) to the peer's DSP base or callback."""
    return binding.peer_path(
        ENDPOINTS, role_of_sender, message_type, consumer_pid, provider_pid, initial
    )
