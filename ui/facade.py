"""The UI's one door into the kiosk core.

Turns :class:`kiosk.session.services.KioskService` events into Qt signals, runs the
core's blocking step methods on the background pool, starts the work each step
needs when the step is entered, and enforces the idle timeout.  Screens only
call facade methods and listen to its signals.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from kiosk.session import events as ev
from kiosk.session.coordinator import SessionCoordinator
from kiosk.session.machine import EndReason, Step
from ui.worker import Background

log = logging.getLogger(__name__)


def frame_to_qimage(frame: np.ndarray) -> QImage:
    """BGR uint8 → QImage (a deep copy, safe to hand across threads)."""
    rgb = np.ascontiguousarray(frame[:, :, ::-1])
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class KioskFacade(QObject):
    stepChanged = Signal(object)  # Step
    cardRead = Signal(object)  # IdCardRead
    frame = Signal(QImage)  # live camera preview
    facePrompt = Signal(
        object
    )  # kiosk.identity.face_prompts.FacePrompt: quality / liveness challenge (e-face)
    material = Signal(object)  # MaterialResult
    decision = Signal(object)  # Decision
    submitted = Signal(object)  # SubmitResult
    printed = Signal(object)  # PrintResult
    problem = Signal(object)  # Problem
    busy = Signal(str)  # i18n key of what the terminal is doing, "" when done
    idleWarning = Signal(int)  # seconds left; -1 when the warning is cleared
    bug = Signal(str)  # an unexpected error: the session was reset
    qrRefused = Signal(object)  # kiosk.identity.qr.QrVerification (a-platform)
    cardNotLifted = Signal()  # the card of an earlier session still lies on the reader
    elicences = Signal(str, object)  # g-materials: session id, material type -> [ELicence] offered

    def __init__(self, service: SessionCoordinator, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.bg = Background()
        self._last_frame_emit = 0.0
        self._warned = False
        service.subscribe(self._on_event)
        self._idle = QTimer(self)
        self._idle.setInterval(500)
        self._idle.timeout.connect(self._check_idle)
        self._idle.start()
        self._oos = QTimer(self)
        self._oos.setInterval(2000)
        self._oos.timeout.connect(self._check_out_of_service)
        self._oos.start()

    # ------------------------------------------------------------------ events from the core
    def _on_event(self, event: ev.SessionEvent) -> None:  # any thread
        if isinstance(event, ev.StepChanged):
            self.stepChanged.emit(event.step)
        elif isinstance(event, ev.CameraFrame):
            now = time.monotonic()
            if now - self._last_frame_emit >= 0.08:
                self._last_frame_emit = now
                self.frame.emit(frame_to_qimage(event.frame))
        elif isinstance(event, ev.FaceGuidance):
            self.facePrompt.emit(event.prompt)
        elif isinstance(event, ev.CardAccepted):
            self.cardRead.emit(event.read)
        elif isinstance(event, ev.MaterialUpdated):
            self.material.emit(event.result)
        elif isinstance(event, ev.ReviewDecided):
            self.decision.emit(event.decision)
        elif isinstance(event, ev.CaseSubmitted):
            self.submitted.emit(event.result)
        elif isinstance(event, ev.OutputsPrinted):
            self.printed.emit(event.result)
        elif isinstance(event, ev.ProblemRaised):
            self.problem.emit(event.problem)
        elif isinstance(event, ev.QrRefused):
            self.qrRefused.emit(event.verification)
        elif isinstance(event, ev.CardNotLifted):
            self.cardNotLifted.emit()

    def on_step_entered(self, step: Step) -> None:
        """Start what the step needs (called by the window after it shows the step's screen)."""
        if step is Step.READ_CARD:
            self._run(self.service.card.read)
        elif step is Step.FACE_CHECK:
            self._run(self.service.face.check)
        elif step is Step.MATERIALS:
            self.request_elicences()
        elif step is Step.REVIEW:
            self.busy.emit("review.running")
            self._run(self.service.review.run)
        elif step is Step.RESULT:
            self.busy.emit("result.printing")
            self._run(self.service.outputs.print)

    # ------------------------------------------------------------------ commands from screens
    def touch(self) -> None:
        self.service.machine.touch()
        if self._warned:
            self._warned = False
            self.idleWarning.emit(-1)

    def start(self) -> None:
        self._guard(self.service.start)

    def choose_item(self, item_id: str) -> None:
        self._guard(lambda: self.service.choose_item(item_id))

    def form_fields(self) -> list[Any]:
        return self.service.form.fields()

    def submit_form(self, values: Mapping[str, str]) -> dict[str, str]:
        return self.service.form.submit(values)

    def capture_material(self, material_type: str) -> None:
        self.busy.emit("materials.recognising")
        self._run(lambda: self.service.materials.capture(material_type))

    def finish_materials(self) -> None:
        self._guard(self.service.materials.finish)

    # g-materials: pages, confirmation of flagged fields, e-licences
    def retake_page(self, material_type: str, index: int) -> None:
        self.busy.emit("materials.recognising")
        self._run(lambda: self.service.materials.retake_page(material_type, index))

    def delete_page(self, material_type: str, index: int) -> None:
        self._guard(lambda: self.service.materials.delete_page(material_type, index))

    def confirm_pages(self, material_type: str) -> None:
        self._guard(lambda: self.service.materials.confirm_pages(material_type))

    def confirm_field(self, material_type: str, key: str, value: str) -> dict[str, str]:
        """In memory only: field key -> i18n error key, {} when accepted."""
        return self.service.materials.confirm_field(material_type, key, value)

    def pending_materials(self) -> dict[str, tuple[str, ...]]:
        return self.service.materials.pending()

    def request_elicences(self) -> None:
        """Look up the citizen's e-licences in the background; ``elicences`` delivers them with the
        session they belong to (a late answer must not show up in the next citizen's session)."""
        session_id = self.service.data.session_id
        self.bg.run(
            self.service.materials.elicence_offers,
            on_success=lambda offers: self.elicences.emit(session_id, offers),
            on_failure=self._on_bug,
        )

    def use_elicence(self, material_type: str, licence_id: str) -> None:
        # writes the audit trail: not on the GUI thread
        self._run(lambda: self.service.materials.use_elicence(material_type, licence_id))

    def back_to_form(self) -> None:
        self._guard(self.service.back_to_form)

    def submit(self, signature_png: bytes) -> None:
        self.busy.emit("submit.running")
        self._run(lambda: self.service.submission.submit(signature_png))

    # h-outputs: the delivery choice (pure checks in the core, no I/O: fine on the GUI thread)
    def delivery_options(self) -> tuple[tuple[Any, ...], Any]:
        return self.service.outputs.delivery_options()

    def express_prefill(self) -> dict[str, str]:
        return self.service.outputs.express_prefill()

    def choose_delivery(self, method: Any, express: Mapping[str, str] | None = None) -> dict[str, str]:
        return self.service.outputs.choose_delivery(method, express)

    def finish_result(self) -> None:
        self._guard(self.service.finish_result)

    def rate(self, rating: str) -> None:
        self._run(lambda: self.service.rating.rate(rating))  # writes the audit trail: not on the GUI thread

    def cancel(self) -> None:
        self.service.cancel_wait()
        self._run(lambda: self.service.cancel(EndReason.CANCELLED))

    def retry(self) -> None:
        self._guard(self.service.retry)

    def continue_to_manual(self) -> None:
        self._guard(self.service.continue_to_manual)

    def staff_confirmed_identity(self) -> None:
        self._guard(self.service.card.confirm_by_staff)

    def identify_by_qr(self) -> None:
        """Wait for an e-ID QR code on the scanner instead of the card (the card still works)."""
        self._run(self.service.card.identify_by_qr)

    # ------------------------------------------------------------------ plumbing
    def _run(self, fn: Any) -> None:
        self.bg.run(fn, on_success=lambda _r: self.busy.emit(""), on_failure=self._on_bug)

    def _guard(self, fn: Any) -> None:
        try:
            fn()
        except Exception as err:
            self._on_bug(err)

    def _on_bug(self, err: BaseException) -> None:
        """A bug, not a known failure: log it, wipe the session, keep serving."""
        log.error("unexpected error; session reset", exc_info=err)
        self.busy.emit("")
        self.service.cancel_wait()
        try:
            self.service.cancel(EndReason.CANCELLED)
        except Exception:
            log.exception("reset after error failed")
        self.bug.emit(type(err).__name__)

    def _check_idle(self) -> None:
        cfg = self.service.config.session
        warn, expired, left = self.service.machine.idle_state(cfg.idle_timeout_s, cfg.idle_warning_s)
        if expired:
            self._warned = False
            self.idleWarning.emit(-1)
            self.service.cancel_wait()
            self._run(lambda: self.service.cancel(EndReason.IDLE_TIMEOUT))
        elif warn:
            self._warned = True
            self.idleWarning.emit(int(left + 0.999))
        elif self._warned:
            self._warned = False
            self.idleWarning.emit(-1)

    def _check_out_of_service(self) -> None:
        if self.service.step is Step.OUT_OF_SERVICE:
            self.bg.run(self.service.try_leave_out_of_service, on_failure=self._on_bug)

    def shutdown(self) -> None:
        self._idle.stop()
        self._oos.stop()
        self.service.cancel_wait()
        self.bg.wait(3000)
