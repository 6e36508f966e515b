"""Help from a person: staff-assisted identity, vouched for with the staff card, and the citizen's
call for staff.

Staff-assisted identity (the staff-assist step, after the face check failed or could not run) is
never a button the citizen can press alone: hall staff present their staff card at the terminal's
staff card reader.  The staff card watcher (:mod:`kiosk.maintenance.staff_watcher`) checks the
card (challenge-response) and, at the staff-assist step, hands the verified card here instead of
to maintenance mode; the PIN follows when the staff registry holds one for that staff id (the same
second factor and lockout as maintenance, :class:`~kiosk.maintenance.access.StaffAccess`).  Only
then does the case go on, flagged for manual review, with the staff id in the audit trail and
the case (``identity_evidence.staff_id``).

The call for staff (呼叫工作人员) is recorded in the audit trail, published as
:class:`~kiosk.session.events.StaffCallRequested` (forwarded to the platform as an alert by whoever
listens) and rings a short chime at the terminal.
"""

from __future__ import annotations

import logging
import threading

from kiosk.maintenance.access import PinOutcome, StaffAccess
from kiosk.maintenance.staff_card import StaffCardRefusal, StaffCardResult
from kiosk.session.chime import Chime
from kiosk.session.context import SessionContext
from kiosk.session.events import StaffCallRequested, StaffIdentityUpdate
from kiosk.session.machine import SessionData, Step

log = logging.getLogger(__name__)


class StaffAssistStep:
    """The staff-assist step: the identity is vouched for by a verified staff card (and PIN)."""

    def __init__(self, ctx: SessionContext) -> None:
        self.ctx = ctx
        self._lock = threading.Lock()
        self._access: StaffAccess | None = None
        self._session: SessionData | None = None  # the session the pending PIN belongs to

    @property
    def waiting_for_pin(self) -> bool:
        with self._lock:
            return self._access is not None and self._access.pending is not None

    def card_verified(self, result: StaffCardResult, reader: str, access: StaffAccess) -> PinOutcome:
        """A staff card passed the challenge-response on ``reader`` during the staff-assist step.

        Confirms the identity when the card alone suffices (an entry without PIN where the
        configuration allows that: the demo profile), asks for the PIN otherwise, or refuses
        (locked out, no PIN provisioned)."""
        data = self.ctx.data
        if self.ctx.machine.step is not Step.STAFF_ASSIST:
            return PinOutcome(result.staff_id, None, StaffCardRefusal.SESSION_IN_PROGRESS)
        outcome = access.card_verified(result, reader)
        if outcome.ok and outcome.staff_id is not None:
            self._confirm(data, outcome.staff_id, reader)
        elif outcome.refusal is not None:
            self._refused(data, result.staff_id, outcome)
        else:
            with self._lock:
                self._access, self._session = access, data
            self.ctx.audit(
                "staff_identity_pin_required",
                {"session": data.session_id, "staff": result.staff_id, "reader": reader},
            )
            self.ctx.publish(StaffIdentityUpdate("pin", result.staff_id, None, outcome.attempts_left))
        return outcome

    def card_refused(self, result: StaffCardResult) -> None:
        """A card on the staff reader did not verify during the staff-assist step: say so on the screen
        (the audit and the lockout count are maintenance's, which saw the card first)."""
        refusal = result.refusal.value if result.refusal is not None else "unknown"
        self.ctx.publish(StaffIdentityUpdate("refused", result.staff_id, refusal))

    def submit_pin(self, pin: str) -> PinOutcome:
        """The staff member's PIN for the verified card waiting for it."""
        with self._lock:
            access, data = self._access, self._session
        if access is None or data is None or data is not self.ctx.data:
            outcome = PinOutcome(None, None, StaffCardRefusal.CARD_REMOVED)
            self.ctx.publish(StaffIdentityUpdate("refused", None, StaffCardRefusal.CARD_REMOVED.value))
            return outcome
        pending = access.pending
        outcome = access.submit_pin(pin)
        if outcome.ok and outcome.staff_id is not None:
            self._confirm(data, outcome.staff_id, pending.reader if pending is not None else "")
        elif outcome.refusal is not None:
            self._refused(data, outcome.staff_id, outcome)
        return outcome

    def cancel_pin(self) -> None:
        """The staff card left the reader (or the session ended): forget the pending PIN."""
        with self._lock:
            access, self._access, self._session = self._access, None, None
        if access is not None:
            access.cancel()

    def _confirm(self, data: SessionData, staff_id: str, reader: str) -> None:
        with self._lock:
            self._access, self._session = None, None
        if data is not self.ctx.data or self.ctx.machine.step is not Step.STAFF_ASSIST:
            log.info("staff identity confirmation of an ended session dropped")
            return
        data.identity.staff_assisted_identity = True
        data.identity.staff_id = staff_id
        self.ctx.touch()
        self.ctx.audit("staff_identity", {"session": data.session_id, "staff": staff_id, "reader": reader})
        self.ctx.publish(StaffIdentityUpdate("confirmed", staff_id))
        self.ctx.go(Step.FORM, session=data)

    def _refused(self, data: SessionData, staff_id: str | None, outcome: PinOutcome) -> None:
        refusal = outcome.refusal.value if outcome.refusal is not None else "unknown"
        if outcome.refusal is not StaffCardRefusal.WRONG_PIN:
            with self._lock:
                self._access, self._session = None, None
        details: dict[str, object] = {"session": data.session_id, "staff": staff_id, "reason": refusal}
        if outcome.attempts_left is not None:
            details["attempts_left"] = outcome.attempts_left
        self.ctx.audit("staff_identity_refused", details)
        self.ctx.publish(StaffIdentityUpdate("refused", staff_id, refusal, outcome.attempts_left))


class StaffCall:
    """The citizen's 呼叫工作人员: audited, published for the platform alert, a chime at the terminal."""

    def __init__(self, ctx: SessionContext, chime: Chime | None = None) -> None:
        self.ctx = ctx
        self.chime = chime

    def call(self) -> StaffCallRequested:
        ctx = self.ctx
        step = ctx.machine.step.value
        ctx.touch()
        ctx.audit("staff_call", {"session": ctx.data.session_id, "step": step})
        event = StaffCallRequested(step)
        ctx.publish(event)
        if self.chime is not None:
            self.chime.play()
        return event
