"""The DSP transfer process state machine, sans-IO.

States are EDC's names. An ``*ING`` state means "we decided; the message is in our outbox and
the peer has not ACKed it yet". RESUMING is the one exception on the provider side: there it
means "the consumer asked to restart; we owe it a TransferStartMessage".
"""

from __future__ import annotations

from enum import StrEnum

from connector.domain import CONSUMER, PROVIDER
from connector.protocol import binding
from connector.protocol.binding import Endpoint
from connector.protocol.machine import Machine, Rule, Transition, rule


class TransferState(StrEnum):
    INITIAL = "INITIAL"
    REQUESTING = "REQUESTING"
    REQUESTED = "REQUESTED"
    STARTING = "STARTING"
    STARTED = "STARTED"
    SUSPENDING = "SUSPENDING"
    SUSPENDED = "SUSPENDED"
    RESUMING = "RESUMING"
    COMPLETING = "COMPLETING"
    COMPLETED = "COMPLETED"
    TERMINATING = "TERMINATING"
    TERMINATED = "TERMINATED"


S = TransferState

REQUEST = "TransferRequestMessage"
START = "TransferStartMessage"
SUSPENSION = "TransferSuspensionMessage"
COMPLETION = "TransferCompletionMessage"
TERMINATION = "TransferTerminationMessage"

MESSAGE_TYPES = frozenset({REQUEST, START, SUSPENSION, COMPLETION, TERMINATION})
TERMINAL_STATES = frozenset({S.COMPLETED, S.TERMINATED})
NON_TERMINAL_STATES = frozenset(S) - TERMINAL_STATES

DSP_STATES: dict[TransferState, str] = {
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

ACKS: dict[TransferState, TransferState] = {
    S.REQUESTING: S.REQUESTED,
    S.STARTING: S.STARTED,
    S.SUSPENDING: S.SUSPENDED,
    S.RESUMING: S.STARTED,  # consumer: the provider took our restart request
    S.COMPLETING: S.COMPLETED,
    S.TERMINATING: S.TERMINATED,
}

_TERMINATED_BY_PEER = rule(S.TERMINATED, NON_TERMINAL_STATES, [S.TERMINATED])

# Both sides may complete or suspend at the same moment: a peer's message that crosses ours
# (we are COMPLETING / SUSPENDING) lands us in the same state our own would have.
_RECEIVES: dict[tuple[str, str], tuple[Rule, ...]] = {
    # A repeated request (same consumerPid) changes nothing, whatever the state.
    (PROVIDER, REQUEST): (rule(S.REQUESTED, [], frozenset(S)),),
    (PROVIDER, START): (
        rule(S.RESUMING, [S.SUSPENDED, S.SUSPENDING], [S.RESUMING, S.STARTING, S.STARTED]),
    ),
    (PROVIDER, COMPLETION): (
        rule(S.COMPLETED, [S.STARTED, S.STARTING, S.RESUMING, S.COMPLETING], [S.COMPLETED]),
    ),
    (PROVIDER, SUSPENSION): (
        rule(S.SUSPENDED, [S.STARTED, S.STARTING, S.RESUMING, S.SUSPENDING], [S.SUSPENDED]),
    ),
    (PROVIDER, TERMINATION): (_TERMINATED_BY_PEER,),
    # In STARTED a start message brings a new data address: apply it, not a duplicate.
    (CONSUMER, START): (
        rule(
            S.STARTED,
            [S.REQUESTED, S.REQUESTING, S.SUSPENDED, S.SUSPENDING, S.RESUMING, S.STARTED],
        ),
    ),
    (CONSUMER, COMPLETION): (
        rule(S.COMPLETED, [S.STARTED, S.RESUMING, S.COMPLETING], [S.COMPLETED]),
    ),
    (CONSUMER, SUSPENSION): (
        rule(S.SUSPENDED, [S.STARTED, S.RESUMING, S.SUSPENDING], [S.SUSPENDED]),
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
        "resume": (rule(S.RESUMING, [S.SUSPENDED], send=START),),
        "complete": (rule(S.COMPLETING, [S.STARTED], send=COMPLETION),),
        "suspend": (rule(S.SUSPENDING, [S.STARTED], send=SUSPENSION),),
        "terminate": _TERMINATE,
    },
    PROVIDER: {
        "start": (rule(S.STARTING, [S.REQUESTED, S.SUSPENDED, S.RESUMING], send=START),),
        "complete": (rule(S.COMPLETING, [S.STARTED], send=COMPLETION),),
        "suspend": (rule(S.SUSPENDING, [S.STARTED, S.RESUMING], send=SUSPENSION),),
        "terminate": _TERMINATE,
    },
}

COMMANDS: dict[str, frozenset[str]] = {role: frozenset(c) for role, c in _COMMANDS.items()}
"""The commands each role may issue (in some state)."""

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(PROVIDER, REQUEST, "transfers/request", initial=True),
    Endpoint(PROVIDER, START, "transfers/{providerPid}/start"),
    Endpoint(PROVIDER, COMPLETION, "transfers/{providerPid}/completion"),
    Endpoint(PROVIDER, SUSPENSION, "transfers/{providerPid}/suspension"),
    Endpoint(PROVIDER, TERMINATION, "transfers/{providerPid}/termination"),
    Endpoint(CONSUMER, START, "transfers/{consumerPid}/start"),
    Endpoint(CONSUMER, COMPLETION, "transfers/{consumerPid}/completion"),
    Endpoint(CONSUMER, SUSPENSION, "transfers/{consumerPid}/suspension"),
    Endpoint(CONSUMER, TERMINATION, "transfers/{consumerPid}/termination"),
)
"""The HTTPS binding's POST endpoints, relative to the provider's DSP base or the consumer's
``callbackAddress``."""

PROCESS_PATHS: dict[str, str] = {PROVIDER: "transfers/{providerPid}"}
"""GET path for a transfer's current state (the binding defines it for the provider only)."""

MACHINE = Machine(
    name="transfer",
    states=TransferState,
    terminal=TERMINAL_STATES,
    dsp=DSP_STATES,
    receives=_RECEIVES,
    commands=_COMMANDS,
    acks=ACKS,
    initials={(PROVIDER, REQUEST): S.REQUESTED},
)


def dsp_state(state: str) -> str:
    """The DSP state the peer sees for one of our states."""
    return MACHINE.dsp_state(state)


def is_terminal(state: str) -> bool:
    return MACHINE.is_terminal(state)


def initial_state(role: str, message_type: str) -> TransferState:
    """REQUESTED for a provider receiving a ``TransferRequestMessage``; anything else raises."""
    return S(MACHINE.initial_state(role, message_type))


def receive(role: str, state: str, message_type: str) -> Transition:
    """Apply a message received from the peer; ``role`` is the receiver's role.

    A consumer's ``TransferStartMessage`` makes a provider RESUMING (it owes a start message).
    A provider's ``TransferStartMessage`` in STARTED carries a new data address: it is applied
    (``duplicate=False``). Raises ``InvalidStateTransition``.
    """
    return MACHINE.receive(role, state, message_type, message_type)


def command(role: str, state: str, name: str) -> Transition:
    """Apply a decision of this node (see ``COMMANDS``); ``send`` says what goes to the outbox.

    ``terminate`` in INITIAL ends at TERMINATED with nothing to send; repeated in TERMINATING it
    is a duplicate.
    """
    return MACHINE.command(role, state, name)


def allowed_commands(role: str, state: str) -> list[str]:
    """The commands ``role`` may issue in ``state``."""
    return MACHINE.allowed_commands(role, state)


def acknowledged(state_when_sent: str, current_state: str) -> TransferState | None:
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
