"""The UI's one door into the kiosk core.

Turns the core's typed events (:mod:`kiosk.session.events`) into Qt signals carrying immutable
view-models (:mod:`ui.viewmodels`), keeps the current :class:`~ui.viewmodels.SessionView` the
screens read, runs the core's blocking step methods on the background pool, starts the work each
step needs when the step is entered, and enforces the idle timeout.  Screens only call facade
methods and listen to its signals; maintenance goes through :attr:`KioskFacade.maintenance`, the
materials step through :attr:`KioskFacade.materials`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import Property, QObject, QTimer, Signal
from PySide6.QtGui import QImage

from kiosk.identity.face import FaceReason
from kiosk.session import events as ev
from kiosk.session.coordinator import SessionCoordinator
from kiosk.session.machine import EndReason, Step
from ui import present
from ui.facade_assist import AssistFacade
from ui.facade_catalogue import CatalogueFacade
from ui.facade_citizen import CitizenFacade
from ui.facade_consult import ConsultFacade
from ui.facade_hall import HallFacade
from ui.facade_maintenance import MaintenanceFacade
from ui.facade_materials import MaterialsFacade
from ui.facade_rating import RatingFacade
from ui.facade_service import ServiceFacade
from ui.facade_touch import TouchFacade
from ui.facade_voice import VoiceFacade
from ui.viewmodels import DeliveryView, FieldView, ItemView, SessionView
from ui.worker import Background

log = logging.getLogger(__name__)


def frame_to_qimage(frame: npt.NDArray[np.uint8]) -> QImage:
    """BGR uint8 → QImage (a deep copy, safe to hand across threads)."""
    rgb = np.ascontiguousarray(frame[:, :, ::-1])
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class KioskFacade(QObject):
    stepChanged = Signal(object)  # Step (the view is current when it is emitted)
    cardRead = Signal(object)  # ApplicantView
    frame = Signal(QImage)  # live camera preview
    facePrompt = Signal(object)  # FacePromptView: quality / liveness challenge
    material = Signal(object)  # MaterialView, or None when a material was dropped
    decision = Signal(object)  # DecisionView
    submitted = Signal(object)  # SubmittedView
    printed = Signal(object)  # PrintedView
    problem = Signal(object)  # ProblemView
    busy = Signal(str)  # i18n key of what the terminal is doing, "" when done
    idleWarning = Signal(int)  # seconds left; -1 when the warning is cleared
    bug = Signal(str)  # an unexpected error: the session was reset
    qrRefused = Signal(object)  # (zh, en) message of why the QR code was refused
    cardNotLifted = Signal()  # the card of an earlier session still lies on the reader
    elicences = Signal(str, object)  # session id, material type -> (LicenceOffer, ...)
    elderlyModeChanged = Signal(bool)  # 长辈模式 on/off (ui/facade_touch.py)
    languageReset = Signal()  # a new citizen: language and mode back to the terminal's defaults
    _event = Signal(object)  # core event, delivered on the GUI thread

    def __init__(self, session: SessionCoordinator, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self.bg = Background()
        self._view = SessionView(session_id=session.data.session_id, step=session.step)
        self._last_frame_emit = 0.0
        self._warned = False
        self.materials = MaterialsFacade(self, session.materials)
        self.rating = RatingFacade(self, session)
        cfg = session.config
        self.voice = VoiceFacade(
            self, enabled=cfg.ui.voice, volume=cfg.ui.voice_volume, face_by_core=cfg.face.voice
        )
        self.catalogue = CatalogueFacade(self, session.catalogue)
        self.consult = ConsultFacade(self, session.catalogue)  # 智能咨询 (ui/facade_consult.py)
        self.touch_ui = TouchFacade(self, session)
        self.maintenance = MaintenanceFacade(self, session.maintenance) if session.maintenance else None
        self.citizen = CitizenFacade(self, session)  # calling staff, staff identity, the clear path
        self.assist: AssistFacade | None = None  # remote help, set by the composition (ui/facade_assist.py)
        self.service = ServiceFacade(self, session)
        self.hall: HallFacade | None = (
            None  # hall services on the welcome screen, set by the composition root
        )
        self._event.connect(self._apply)
        self.elicences.connect(self._offers_found)
        session.subscribe(self._on_event)
        self._idle = QTimer(self)
        self._idle.setInterval(500)
        self._idle.timeout.connect(self._check_idle)
        self._idle.start()
        self._oos = QTimer(self)
        self._oos.setInterval(2000)
        self._oos.timeout.connect(self._check_out_of_service)
        self._oos.start()

    # ------------------------------------------------------------------ what screens read
    @property
    def view(self) -> SessionView:
        """The session as last published (GUI thread)."""
        return self._view

    @property
    def hall_name(self) -> str:
        return self._session.config.ui.hall_name

    @property
    def qr_available(self) -> bool:
        return self._session.card.qr_available

    @property
    def ssc_accepted(self) -> bool:
        """The item accepts the social security card and the terminal has its reader."""
        return self._session.card.ssc_accepted

    def items(self, query: str = "") -> tuple[ItemView, ...]:
        catalogue = self._session.catalogue
        found = catalogue.search(query) if query else catalogue.items()
        return tuple(present.item_view(p) for p in found)

    def _elderly_mode(self) -> bool:
        return self.touch_ui.elderly

    #: 长辈模式: larger text and targets, longer time limits, voice on (read by the voice prompts)
    elderly_mode = Property(bool, _elderly_mode, notify=elderlyModeChanged)

    # ------------------------------------------------------------------ events from the core
    def _on_event(self, event: ev.SessionEvent) -> None:  # any thread
        if isinstance(event, ev.CameraFrame):
            now = time.monotonic()
            if now - self._last_frame_emit >= 0.08:
                self._last_frame_emit = now
                self.frame.emit(frame_to_qimage(event.frame))
        else:
            self._event.emit(event)

    def _set_view(self, **changes: Any) -> None:
        """Replace the current view with ``changes`` applied (GUI thread)."""
        self._view = dataclasses.replace(self._view, **changes)

    def _offers_found(self, session_id: str, offers: Any) -> None:
        if session_id == self._view.session_id:
            self._set_view(offers=offers)

    def _apply(self, event: ev.SessionEvent) -> None:  # GUI thread
        if self.citizen.apply(event):
            return
        if isinstance(event, ev.StepChanged):
            self._step_changed(event)
        elif isinstance(event, ev.CardAccepted):
            applicant = present.applicant_view(event.read)
            self._set_view(applicant=applicant)
            self.cardRead.emit(applicant)
        elif isinstance(event, ev.FaceGuidance):
            self.facePrompt.emit(present.prompt_view(event.prompt))
        elif isinstance(event, ev.FaceChecked):
            status = None
            if event.result.reason is FaceReason.LIVENESS_FAILED:
                status = "liveness_failed"
            elif not event.result.matched:
                status = "not_matched"
            self._set_view(face_status=status)
        elif isinstance(event, ev.MaterialUpdated):
            if event.session_id != self._view.session_id:
                return  # a late result of an ended session
            mats = dict(self._view.materials)
            material = present.material_view(event.result) if event.result is not None else None
            if material is None:
                mats.pop(event.material_type, None)
            else:
                mats[event.material_type] = material
            self._set_view(materials=MappingProxyType(mats))
            self.material.emit(material)
        elif isinstance(event, ev.ReviewDecided):
            decision = present.decision_view(event.decision, event.warnings)
            self._set_view(decision=decision)
            self.decision.emit(decision)
        elif isinstance(event, ev.CaseSubmitted):
            submitted = present.submitted_view(event.result)
            self._set_view(submitted=submitted)
            self.submitted.emit(submitted)
        elif isinstance(event, ev.OutputsPrinted):
            printed = present.printed_view(event.result)
            self._set_view(printed=printed)
            self.printed.emit(printed)
        elif isinstance(event, ev.ProblemRaised):
            self.problem.emit(present.problem_view(event.problem))
        elif isinstance(event, ev.QrRefused):
            self.qrRefused.emit(event.verification.message())
        elif isinstance(event, ev.CardNotLifted):
            self.cardNotLifted.emit()
        elif isinstance(event, ev.StaffCardRefused) and self.maintenance is not None:
            self.maintenance.refused.emit(event.refusal)
        elif isinstance(event, ev.StaffPinRequired) and self.maintenance is not None:
            self.maintenance.pin_required.emit(event)

    def _step_changed(self, event: ev.StepChanged) -> None:
        view = self._view
        if event.session_id != view.session_id:
            view = SessionView(session_id=event.session_id)
            self.touch_ui.new_citizen()
        item = view.item
        if event.item_id is not None and (item is None or item.id != event.item_id):
            bundle = self._session.data.bundle  # 一件事: the life event's one application
            item = (
                present.bundle_view(bundle)
                if bundle is not None and bundle.item_ids[0] == event.item_id
                else present.item_view(self._session.catalogue.package(event.item_id))
            )
        self._view = dataclasses.replace(
            view,
            step=event.step,
            item=item,
            staff_assist_reason=event.staff_assist_reason or view.staff_assist_reason,
            problem=present.problem_view(event.problem) if event.problem is not None else None,
        )
        self.stepChanged.emit(event.step)

    def on_step_entered(self, step: Step) -> None:
        """Start what the step needs (called by the window after it shows the step's screen)."""
        s = self._session
        if step is Step.READ_CARD:
            self.run(s.card.read)
        elif step is Step.FACE_CHECK:
            self.run(s.face.check)
        elif step is Step.MATERIALS:
            self.materials.request_elicences()
        elif step is Step.REVIEW:
            self.busy.emit("review.running")
            self.run(s.review.run)
        elif step is Step.RESULT:
            self.busy.emit("result.printing")
            self.run(s.outputs.print)

    # ------------------------------------------------------------------ commands from screens
    def touch(self) -> None:
        self._session.machine.touch()
        if self._warned:
            self._warned = False
            self.idleWarning.emit(-1)

    def start(self) -> None:
        self.guard(self._session.start)

    def choose_item(self, item_id: str) -> None:
        self.guard(lambda: self._session.choose_item(item_id))

    def choose_life_event(self, event_id: str) -> None:
        """Every item of the life event in one application (一件事, kiosk/session/bundle.py)."""
        self.guard(lambda: self._session.choose_life_event(event_id))

    def form_fields(self) -> tuple[FieldView, ...]:
        return present.field_views(self._session.form.fields())

    def submit_form(self, values: Mapping[str, str]) -> dict[str, str]:
        return self._session.form.submit(values)

    def back_to_form(self) -> None:
        self.guard(self._session.back_to_form)

    def submit(self, signature_png: bytes) -> None:
        self.busy.emit("submit.running")
        self.run(lambda: self._session.submission.submit(signature_png))

    def delivery(self) -> DeliveryView:
        """The delivery methods offered for this decision, the preselected one, the express prefill
        (pure checks in the core, no I/O: fine on the GUI thread)."""
        outputs = self._session.outputs
        offered, default = outputs.delivery_options()
        return DeliveryView(
            offered=tuple(m.value for m in offered),
            default=default.value if default is not None else None,
            prefill=outputs.express_prefill(),
        )

    def choose_delivery(self, method: str, express: Mapping[str, str] | None = None) -> dict[str, str]:
        errors = self._session.outputs.choose_delivery(method, express)
        if not errors:
            self._set_view(delivery=method)
        return errors

    def finish_result(self) -> None:
        self.guard(self._session.finish_result)

    def cancel(self) -> None:
        self.rating.end(EndReason.CANCELLED)  # the rating is still offered (ui/facade_rating.py)

    def retry(self) -> None:
        self.guard(self._session.retry)

    def continue_to_manual(self) -> None:
        self.guard(self._session.continue_to_manual)

    def identify_by_qr(self) -> None:
        """Wait for an e-ID QR code on the scanner instead of the card (the card still works)."""
        self.run(self._session.card.identify_by_qr)

    # ------------------------------------------------------------------ plumbing
    def run(
        self,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None] | None = None,
        *,
        clears_busy: bool = True,
    ) -> None:
        """``fn`` on the background pool, ``on_success`` with its result on the GUI thread (then the
        busy line is cleared, unless ``clears_busy`` is False); a bug it raises resets the session."""

        def done(result: Any) -> None:
            if on_success is not None:
                on_success(result)
            if clears_busy:
                self.busy.emit("")

        self.bg.run(fn, on_success=done, on_failure=self._on_bug)

    def guard(self, fn: Callable[[], Any]) -> None:
        """``fn`` here (GUI thread, no blocking work); a bug it raises resets the session."""
        try:
            fn()
        except Exception as err:
            self._on_bug(err)

    def _on_bug(self, err: BaseException) -> None:
        """A bug, not a known failure: log it, wipe the session, keep serving."""
        log.error("unexpected error; session reset", exc_info=err)
        self.busy.emit("")
        self._session.cancel_wait()
        try:
            self._session.cancel(EndReason.CANCELLED)
        except Exception:
            log.exception("reset after error failed")
        self.bug.emit(type(err).__name__)

    def _check_idle(self) -> None:
        idle = self._session.idle.state()  # the core's limit (longer in elderly mode)
        if idle.expired:
            self._warned = False
            self.idleWarning.emit(-1)
            self.rating.end(EndReason.IDLE_TIMEOUT)
        elif idle.warn:
            self._warned = True
            self.idleWarning.emit(int(idle.left_s + 0.999))
        elif self._warned:
            self._warned = False
            self.idleWarning.emit(-1)

    def _check_out_of_service(self) -> None:
        if self._session.step is Step.OUT_OF_SERVICE:
            self.bg.run(self._session.try_leave_out_of_service, on_failure=self._on_bug)

    def shutdown(self) -> None:
        self._idle.stop()
        self._oos.stop()
        self._session.cancel_wait()
        self.bg.wait(3000)
