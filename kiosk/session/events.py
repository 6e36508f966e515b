"""What the session core tells its listeners: one frozen dataclass per kind of news.

Each event carries what happened, so a listener (the UI facade) never goes back to read the
session's shared, worker-thread-owned state.  :class:`EventBus` delivers them synchronously on the
thread that published them; a listener that raises is logged and the others still get the event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiosk.session.machine import Step

if TYPE_CHECKING:
    from devices.interfaces import IdCardRead
    from kiosk.documents.capture import MaterialResult
    from kiosk.identity.face import FaceResult
    from kiosk.identity.face_prompts import FacePrompt
    from kiosk.identity.qr import QrVerification
    from kiosk.review.engine import Decision
    from kiosk.review.warnings import WarningHit
    from kiosk.session.values import PrintResult, Problem, SubmitResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepChanged:
    """The session moved from ``previous`` to ``step`` (``session_id``: the session now current)."""

    previous: Step
    step: Step
    session_id: str
    item_id: str | None = None  # the item chosen in this session
    #: On entering the staff-assist step: the i18n key of why staff must check the identity.
    staff_assist_reason: str | None = None
    #: On entering DEVICE_PROBLEM or OUT_OF_SERVICE: what failed and what clears it.
    problem: Problem | None = None


@dataclass(frozen=True)
class CardAccepted:
    """An identity was accepted: from the ID card (``source`` "card") or a verified QR code ("qr")."""

    read: IdCardRead
    source: str


@dataclass(frozen=True)
class CardNotLifted:
    """The card of an earlier session still lies on the reader: it must be lifted and placed again."""


@dataclass(frozen=True)
class QrRefused:
    verification: QrVerification


@dataclass(frozen=True)
class CameraFrame:
    """One frame of the face camera (BGR ndarray, the face step's live preview)."""

    frame: Any


@dataclass(frozen=True)
class FaceGuidance:
    """What the face screen and the voice say now: quality feedback and the liveness challenge."""

    prompt: FacePrompt


@dataclass(frozen=True)
class FaceChecked:
    """The outcome of one face-check attempt (``attempts`` so far in this session)."""

    result: FaceResult
    attempts: int


@dataclass(frozen=True)
class MaterialUpdated:
    """A material was captured, corrected, confirmed, filled from an e-licence, or dropped (None)."""

    material_type: str
    result: MaterialResult | None
    session_id: str


@dataclass(frozen=True)
class ReviewDecided:
    decision: Decision
    warnings: tuple[WarningHit, ...]


@dataclass(frozen=True)
class CaseSubmitted:
    result: SubmitResult


@dataclass(frozen=True)
class OutputsPrinted:
    result: PrintResult


@dataclass(frozen=True)
class ProblemRaised:
    problem: Problem


@dataclass(frozen=True)
class MaintenanceEntered:
    """Hall staff entered maintenance mode (kiosk/maintenance/service.py)."""

    staff_id: str


@dataclass(frozen=True)
class MaintenanceLeft:
    """Maintenance mode ended; ``reason`` is a LeaveReason value, None after a reset elsewhere."""

    reason: str | None


@dataclass(frozen=True)
class StaffCardRefused:
    """A card on the staff reader did not unlock maintenance (``refusal``: StaffCardRefusal value)."""

    refusal: str
    reader: str


@dataclass(frozen=True)
class StaffPinRequired:
    """A staff card verified (first factor): the PIN pad is to be shown for ``staff_id``."""

    staff_id: str | None
    reader: str
    attempts_left: int | None


@dataclass(frozen=True)
class StaffCallRequested:
    step: str


SessionEvent = (
    StepChanged
    | CardAccepted
    | CardNotLifted
    | QrRefused
    | CameraFrame
    | FaceGuidance
    | FaceChecked
    | MaterialUpdated
    | ReviewDecided
    | CaseSubmitted
    | OutputsPrinted
    | ProblemRaised
    | MaintenanceEntered
    | MaintenanceLeft
    | StaffCardRefused
    | StaffPinRequired
    | StaffCallRequested
)
EventSink = Callable[[SessionEvent], None]


class EventBus:
    """Synchronous publish/subscribe of session events."""

    def __init__(self) -> None:
        self._sinks: list[EventSink] = []

    def subscribe(self, sink: EventSink) -> None:
        self._sinks.append(sink)

    def publish(self, event: SessionEvent) -> None:
        for sink in list(self._sinks):
            try:
                sink(event)
            except Exception:
                log.exception("event listener failed for %s", type(event).__name__)
