"""The remote-help call's states, what the core tells the screen about it, and what it needs of the
session.

States (``CallState``)::

    idle ──ask──▶ consent ──agree──▶ queued ──agent accepts──▶ connecting ──first media──▶ in_call
      ▲              │ decline         │ cancel / no agent in time        │ hang-up / agent ends
      └──────────────┴─────────────────┴──────────── ended (reason) ◀────┘ / connection lost

Every state change is an :class:`AssistStatus` event; the others are the agent's proposals and
words.  Events are frozen dataclasses delivered to the listeners of
:class:`~kiosk.assist.service.AssistService` (any thread; the facade moves them to the GUI thread).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


class CallState(enum.Enum):
    IDLE = "idle"
    CONSENT = "consent"
    QUEUED = "queued"
    CONNECTING = "connecting"
    IN_CALL = "in_call"
    ENDED = "ended"


class EndReason(enum.Enum):
    DECLINED = "declined"  # the citizen did not consent
    CANCELLED = "cancelled"  # the citizen left the queue
    HANG_UP = "hang_up"  # the citizen ended the call
    AGENT_ENDED = "agent_ended"
    NO_AGENT = "no_agent"  # no agent within the hall's limit: a call-back request is recorded
    CONNECTION_LOST = "connection_lost"
    UNAVAILABLE = "unavailable"  # the platform could not be reached or refused the terminal


#: Which state may follow which (the one table; :meth:`CallMachine.go` enforces it).
TRANSITIONS: dict[CallState, frozenset[CallState]] = {
    CallState.IDLE: frozenset({CallState.CONSENT}),
    CallState.CONSENT: frozenset({CallState.QUEUED, CallState.ENDED}),
    CallState.QUEUED: frozenset({CallState.QUEUED, CallState.CONNECTING, CallState.ENDED}),
    CallState.CONNECTING: frozenset({CallState.IN_CALL, CallState.ENDED}),
    CallState.IN_CALL: frozenset({CallState.IN_CALL, CallState.ENDED}),
    CallState.ENDED: frozenset({CallState.CONSENT, CallState.IDLE}),
}


@dataclass(frozen=True)
class AssistStatus:
    """The call as the screen shows it."""

    state: CallState
    reason: EndReason | None = None
    position: int = 0
    expected_wait_s: float = 0.0
    agent_name: str = ""
    muted: bool = False
    callback_requested: bool = False
    call_id: str = ""
    audio_only: bool = False  # the link is poor: no video is sent (kiosk/assist/quality.py)


@dataclass(frozen=True)
class FieldProposal:
    """The agent changed a form field: shown to the citizen, applied only once confirmed."""

    proposal_id: int
    key: str
    label: str
    old_value: str
    new_value: str
    agent_name: str


@dataclass(frozen=True)
class ChatLine:
    who: str  # "agent" | "citizen"
    text: str


@dataclass(frozen=True)
class RemoteAcceptance:
    """The agent's decision on the case (远程受理), with the agent's identity from the platform."""

    decision: str  # accept | refuse | manual_review
    agent_id: str
    agent_name: str
    note: str = ""


@dataclass(frozen=True)
class Pointer:
    """The agent points at a place of the kiosk screen (fractions of its width and height)."""

    x: float
    y: float


AssistEvent = AssistStatus | FieldProposal | ChatLine | RemoteAcceptance | Pointer


@dataclass(frozen=True)
class CallContext:
    """What the agent may see of the session: the item, the form fields and the material pages."""

    session_id: str
    item_id: str | None
    fields: tuple[tuple[str, str, str], ...] = ()  # (key, label, value)
    pages: tuple[tuple[str, bytes], ...] = ()  # (name, JPEG thumbnail)


class AssistSession(Protocol):
    """The session side of a call (the composition supplies it; :mod:`kiosk.assist.bridge`)."""

    def context(self) -> CallContext: ...

    def apply_field(self, session_id: str, key: str, value: str) -> bool:
        """Set a confirmed field in the session's form (False if that session is gone)."""
        ...

    def audit(self, event: str, details: dict[str, object]) -> None: ...

    def mark_remote_acceptance(self, session_id: str, acceptance: RemoteAcceptance) -> bool: ...


class CallMachine:
    """The one place the call's state changes."""

    def __init__(self) -> None:
        self.state = CallState.IDLE

    def can_go(self, target: CallState) -> bool:
        return target in TRANSITIONS[self.state]

    def go(self, target: CallState) -> bool:
        if not self.can_go(target):
            return False
        self.state = target
        return True
