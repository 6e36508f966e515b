"""The citizen session as an explicit state machine (no Qt).

One :class:`Step` enum, one transition table, one :meth:`SessionMachine.go`
method.  Everything the session holds about the citizen lives in
:class:`SessionData`, which :meth:`SessionMachine.reset` drops whole: cancel,
idle timeout and the end of a session all go through it.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devices.interfaces import IdCardRead
    from kiosk.documents.capture import MaterialResult
    from kiosk.identity.face import FaceResult
    from kiosk.outputs.delivery import DeliveryChoice
    from kiosk.review.engine import Decision
    from kiosk.review.warnings import WarningHit
    from kiosk.session.bundle import BundlePlan
    from kiosk.session.values import Problem

log = logging.getLogger(__name__)


class Step(enum.Enum):
    """Screens of a citizen session.  Values are stable identifiers (screens, logs, demo)."""

    ATTRACT = "attract"
    CHOOSE_ITEM = "choose_item"
    READ_CARD = "read_card"
    FACE_CHECK = "face_check"
    FORM = "form"
    MATERIALS = "materials"
    REVIEW = "review"
    CONFIRM_SIGN = "confirm_sign"
    SUBMIT = "submit"
    RESULT = "result"
    RATING = "rating"
    # Defined landing places for failures.
    DEVICE_PROBLEM = "device_problem"  # retry, or continue another way (e.g. manual review)
    STAFF_ASSIST = "staff_assist"  # identity must be checked by hall staff
    OUT_OF_SERVICE = "out_of_service"  # the terminal cannot serve; shows the required action
    # Hall staff, unlocked by the staff card (kiosk/maintenance/service.py); never inside a citizen's session.
    MAINTENANCE = "maintenance"


#: Steps in which a citizen is being served (cancel and idle timeout apply).
CITIZEN_STEPS = frozenset(Step) - {Step.ATTRACT, Step.OUT_OF_SERVICE, Step.MAINTENANCE}

#: Forward order of the happy path; the progress bar shows it.
HAPPY_PATH: tuple[Step, ...] = (
    Step.CHOOSE_ITEM,
    Step.READ_CARD,
    Step.FACE_CHECK,
    Step.FORM,
    Step.MATERIALS,
    Step.REVIEW,
    Step.CONFIRM_SIGN,
    Step.SUBMIT,
    Step.RESULT,
    Step.RATING,
)

_PROBLEMS = {Step.DEVICE_PROBLEM, Step.OUT_OF_SERVICE}

TRANSITIONS: dict[Step, frozenset[Step]] = {
    Step.ATTRACT: frozenset({Step.CHOOSE_ITEM, Step.OUT_OF_SERVICE}),
    Step.CHOOSE_ITEM: frozenset({Step.READ_CARD} | _PROBLEMS),
    Step.READ_CARD: frozenset({Step.FACE_CHECK, Step.READ_CARD} | _PROBLEMS),
    Step.FACE_CHECK: frozenset({Step.FORM, Step.STAFF_ASSIST, Step.FACE_CHECK} | _PROBLEMS),
    Step.FORM: frozenset({Step.MATERIALS, Step.REVIEW} | _PROBLEMS),
    Step.MATERIALS: frozenset({Step.REVIEW, Step.FORM, Step.MATERIALS} | _PROBLEMS),
    Step.REVIEW: frozenset({Step.CONFIRM_SIGN, Step.FORM} | _PROBLEMS),
    Step.CONFIRM_SIGN: frozenset({Step.SUBMIT, Step.FORM} | _PROBLEMS),
    Step.SUBMIT: frozenset({Step.RESULT} | _PROBLEMS),
    Step.RESULT: frozenset({Step.RATING} | _PROBLEMS),
    Step.RATING: frozenset({Step.ATTRACT}),
    # From a device problem the citizen retries the step that failed or goes on to manual review.
    Step.DEVICE_PROBLEM: frozenset(set(HAPPY_PATH) | {Step.OUT_OF_SERVICE}),
    Step.STAFF_ASSIST: frozenset({Step.FORM, Step.OUT_OF_SERVICE}),
    Step.OUT_OF_SERVICE: frozenset({Step.ATTRACT}),
}

# Maintenance mode: entered from the attract screen or out of service only, never in
# the middle of a citizen's session; left to the attract screen.
TRANSITIONS[Step.ATTRACT] |= {Step.MAINTENANCE}
TRANSITIONS[Step.OUT_OF_SERVICE] |= {Step.MAINTENANCE}
TRANSITIONS[Step.MAINTENANCE] = frozenset({Step.ATTRACT})

# 好差评 (GB/T 39734 一次一评): a service that ends early (cancel, idle timeout, device problem)
# is still offered the rating (SessionMachine.close_for_rating).
for _step in CITIZEN_STEPS - {Step.RATING}:
    TRANSITIONS[_step] |= {Step.RATING}


class TransitionError(Exception):
    """A transition the table does not allow: a bug in the caller."""


class EndReason(enum.Enum):
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    IDLE_TIMEOUT = "idle_timeout"
    OUT_OF_SERVICE = "out_of_service"
    MAINTENANCE_LEFT = "maintenance_left"  # hall staff left maintenance mode


@dataclass
class Identity:
    """Who the citizen is and how that was established: the card, face and staff-assist steps' slice."""

    card: IdCardRead | None = None
    card_photo: Any = None  # decoded photo (ndarray), memory only
    face: FaceResult | None = None
    face_attempts: int = 0
    staff_assisted_identity: bool = False
    identity_source: str = "card"  # "card" | "qr" (e-ID / app QR code verified by the platform) | "ssc"
    face_reference: str | None = None  # "card_photo" | "platform_reference" (the reference used)
    staff_assist_reason: str | None = None  # i18n key shown on the staff-assist screen
    staff_id: str | None = None  # the staff member whose verified staff card vouched for the identity

    def require_card(self) -> IdCardRead:
        """The identity the steps after the card step work with (its absence there is a bug)."""
        if self.card is None:
            raise RuntimeError("no identity in this session yet")
        return self.card


@dataclass
class Application:
    """What the citizen applies with and what the review made of it: the form, materials and review
    steps' slice."""

    form: dict[str, str] = field(default_factory=dict)
    materials: dict[str, MaterialResult] = field(default_factory=dict)  # by material type
    warnings: list[WarningHit] = field(default_factory=list)
    decision: Decision | None = None
    #: a life event applied for as one application: each item's own decision, by item id
    item_decisions: dict[str, Decision] = field(default_factory=dict)

    def require_decision(self) -> Decision:
        """The review's decision the steps after the review work with (its absence there is a bug)."""
        if self.decision is None:
            raise RuntimeError("no decision in this session yet")
        return self.decision


@dataclass
class Case:
    """The submitted case and what came out of it: the submit, result and rating steps' slice."""

    signature_png: bytes | None = None
    case_id: str | None = None  # the UUID: the idempotency key, never shown
    case_number: str | None = None  # what the citizen sees: the platform's number, or the terminal's
    certificate_number: str | None = None
    #: a life event's (一件事): each item's case id and each approved item's certificate number
    item_cases: dict[str, str] = field(default_factory=dict)
    item_certificates: dict[str, str] = field(default_factory=dict)
    acknowledged: bool = False
    delivery: DeliveryChoice | None = None  # chosen on the confirm/sign screen
    queue_number: str | None = None  # the queue ticket issued for a window (manual / pick-up)
    rating: str | None = None
    # 远程受理: the remote agent's decision and identity (kiosk/assist/bridge.py)
    remote_acceptance: dict[str, str] | None = None


@dataclass
class SessionData:
    """Everything the terminal holds about the citizen during one session, in one slice per part
    of the session (:class:`Identity`, :class:`Application`, :class:`Case`).

    Mutable on purpose and owned by the machine: reset() replaces it whole, so
    nothing of one citizen survives into the next session.
    """

    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: float = field(default_factory=time.time)
    item_id: str | None = None  # a life event's: its first item (kiosk/session/bundle.py)
    #: a life event (一件事) applied for as one application; None: one item
    bundle: BundlePlan | None = None
    identity: Identity = field(default_factory=Identity)
    application: Application = field(default_factory=Application)
    case: Case = field(default_factory=Case)
    problem: Problem | None = None  # for DEVICE_PROBLEM/OUT_OF_SERVICE
    timings: list[tuple[str, float]] = field(default_factory=list)  # (step, ms)

    def __repr__(self) -> str:  # never print personal data
        return f"SessionData(session_id={self.session_id[:8]}, item={self.item_id})"


Listener = Callable[[Step, Step], None]


class SessionMachine:
    """The one place where the session's step changes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self.step = Step.ATTRACT
        self.data = SessionData()
        self._entered_at = clock()
        self._last_activity = clock()
        self._listeners: list[Listener] = []
        #: The session the last reset ended and why (read by the listeners that reset calls).
        self.last_end: tuple[str, EndReason] | None = None

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def can_go(self, target: Step) -> bool:
        return target in TRANSITIONS[self.step]

    def go(self, target: Step, *, session: SessionData | None = None) -> bool:
        """Move to ``target``.  With ``session``, only if that session is still the current one.

        Work that runs on a worker thread passes the session it started in: when the
        citizen cancelled (or timed out) meanwhile, its result must not move the next
        citizen's session.  Returns whether the step changed."""
        with self._lock:
            if session is not None and session is not self.data:
                log.info("result of an ended session dropped (wanted %s)", target.value)
                return False
            if target not in TRANSITIONS[self.step]:
                raise TransitionError(f"{self.step.value} -> {target.value} is not allowed")
            previous = self.step
            self._record_time(previous)
            self.step = target
            self._entered_at = self._clock()
            self._last_activity = self._entered_at
        log.info("session %s: %s -> %s", self.data.session_id[:8], previous.value, target.value)
        for listener in list(self._listeners):
            listener(previous, target)
        return True

    def reset(self, reason: EndReason) -> SessionData:
        """End the session: wipe everything it held and return to the attract screen."""
        with self._lock:
            previous = self.step
            if previous is not Step.ATTRACT:
                self._record_time(previous)
            old = self.data
            self.last_end = (old.session_id, reason)
            self.data = SessionData()
            self.step = Step.ATTRACT
            self._entered_at = self._clock()
            self._last_activity = self._entered_at
        log.info("session %s ended: %s", old.session_id[:8], reason.value)
        for listener in list(self._listeners):
            listener(previous, self.step)
        return old

    def keep_for_rating(self) -> SessionData | None:
        """The service ended before its result but its rating is still offered: drop the session's
        data whole, as :meth:`reset` does, and start the rating's own with only what the rating
        names (item and case ids).  The caller then goes to ``Step.RATING``; work of the old session
        still running finds its data gone and its result dropped (``go(..., session=old)``).
        None when the rating cannot be reached from here."""
        with self._lock:
            if Step.RATING not in TRANSITIONS[self.step]:
                return None
            old = self.data
            self.data = SessionData(item_id=old.item_id, case=Case(case_id=old.case.case_id))
            return self.data

    def touch(self) -> None:
        """The citizen did something: the idle timer starts again."""
        self._last_activity = self._clock()

    def idle_seconds(self) -> float:
        return self._clock() - self._last_activity

    def idle_state(self, timeout_s: float, warning_s: float) -> tuple[bool, bool, float]:
        """(warn, expired, seconds left) for the current step.  Only citizen steps time out."""
        if self.step not in CITIZEN_STEPS:
            return False, False, timeout_s
        left = timeout_s - self.idle_seconds()
        return left <= warning_s, left <= 0, max(0.0, left)

    def _record_time(self, step: Step) -> None:
        self.data.timings.append((step.value, (self._clock() - self._entered_at) * 1000.0))
