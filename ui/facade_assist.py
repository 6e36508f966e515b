"""The facade's remote-help part (远程帮办): the UI's door into :mod:`kiosk.assist`.

Turns the call's events into Qt signals carrying view-models (defined here), runs the citizen's
commands, shows the agent's video (polled from the core at ~12 fps while in a call) and supplies
the core with the kiosk screen: the window is grabbed on the GUI thread a few times a second while
a call is connecting or running, and the core's screen track reads the latest grab (any thread).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any

import numpy as np
import numpy.typing as npt
import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from kiosk.assist.base import SCREEN_FPS
from kiosk.assist.service import AssistService
from kiosk.assist.state import (
    AssistEvent,
    AssistStatus,
    CallState,
    ChatLine,
    FieldProposal,
    Pointer,
    RemoteAcceptance,
)

log = logging.getLogger(__name__)

REMOTE_VIDEO_MS = 80
KEEP_SESSION_MS = 2000


@dataclasses.dataclass(frozen=True)
class AssistView:
    """The call as the overlay shows it; ``text_key`` and ``args`` give its status line."""

    state: str  # idle | consent | queued | connecting | in_call | ended
    text_key: str
    args: tuple[tuple[str, str], ...] = ()
    muted: bool = False
    audio_only: bool = False


@dataclasses.dataclass(frozen=True)
class ProposalView:
    proposal_id: int
    key: str
    label: str
    old_value: str
    new_value: str


def assist_view(status: AssistStatus) -> AssistView:
    state = status.state
    if state is CallState.CONSENT:
        return AssistView(state.value, "assist.consent.text")
    if state is CallState.QUEUED:
        args = (("n", str(max(status.position, 1))), ("s", f"{status.expected_wait_s:.0f}"))
        return AssistView(state.value, "assist.queue", args)
    if state is CallState.CONNECTING:
        return AssistView(state.value, "assist.connecting", (("agent", status.agent_name),))
    if state is CallState.IN_CALL:
        agent = (("agent", status.agent_name),)
        return AssistView(state.value, "assist.in_call", agent, status.muted, status.audio_only)
    if state is CallState.ENDED and status.reason is not None:
        return AssistView(state.value, f"assist.ended.{status.reason.value}")
    return AssistView(state.value, "")


def qimage_to_bgr(image: QImage) -> npt.NDArray[np.uint8]:
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    data = np.frombuffer(rgb.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    return np.ascontiguousarray(data[:, : w * 3].reshape(h, w, 3)[:, :, ::-1])


def bgr_to_qimage(frame: npt.NDArray[np.uint8]) -> QImage:
    rgb = np.ascontiguousarray(frame[:, :, ::-1])
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class AssistFacade(QObject):
    status = Signal(object)  # AssistView
    proposal = Signal(object)  # ProposalView, or None when answered
    chat = Signal(str, str)  # who (agent | citizen), text
    acceptance = Signal(str, str)  # agent name, decision
    remoteFrame = Signal(QImage)  # the agent's video
    pointer = Signal(float, float)  # where the agent points (fractions of the window)
    _event = Signal(object)  # core event, delivered on the GUI thread

    def __init__(self, service: AssistService, parent: QObject | None = None) -> None:
        """``parent``: the :class:`~ui.facade.KioskFacade`; while a call runs its idle timer is held
        (a citizen listening to the agent touches nothing), and a session that ends (cancel,
        completion) ends the call with it."""
        super().__init__(parent)
        self.service = service
        self.view = assist_view(service.status)
        self.window: QWidget | None = None
        self._screen: QImage | None = None
        self._screen_lock = threading.Lock()
        self._event.connect(self._apply)
        service.subscribe(self._event.emit)
        service.frame_source = self._latest_screen
        self._grab = QTimer(self)
        self._grab.setInterval(int(1000 / SCREEN_FPS))
        self._grab.timeout.connect(self._grab_window)
        self._video = QTimer(self)
        self._video.setInterval(REMOTE_VIDEO_MS)
        self._video.timeout.connect(self._show_remote)
        self._keep = QTimer(self)
        self._keep.setInterval(KEEP_SESSION_MS)
        self._keep.timeout.connect(self._keep_session)
        step_changed = getattr(parent, "stepChanged", None)
        if step_changed is not None:
            step_changed.connect(self._step_changed)

    # ------------------------------------------------------------------ commands (GUI thread)
    def ask(self) -> None:
        self.service.ask()

    def consent(self, agreed: bool) -> None:
        self.service.consent(agreed)

    def cancel(self) -> None:
        self.service.cancel()

    def hang_up(self) -> None:
        self.service.hang_up()

    def toggle_mute(self) -> None:
        self.service.set_muted(not self.service.status.muted)

    def confirm_field(self, proposal_id: int, accepted: bool) -> None:
        self.service.confirm_field(proposal_id, accepted)
        self.proposal.emit(None)

    def dismiss(self) -> None:
        """Close the ended call's message."""
        self.view = AssistView("idle", "")
        self.status.emit(self.view)

    def shutdown(self) -> None:
        self._grab.stop()
        self._video.stop()
        self._keep.stop()

    # ------------------------------------------------------------------ events (GUI thread)
    def _apply(self, event: AssistEvent) -> None:
        if isinstance(event, AssistStatus):
            self.view = assist_view(event)
            live = event.state in (CallState.CONNECTING, CallState.IN_CALL)
            waiting = event.state in (CallState.QUEUED, CallState.CONNECTING, CallState.IN_CALL)
            if waiting and not self._keep.isActive():
                self._keep.start()
            elif not waiting:
                self._keep.stop()
            for timer in (self._grab, self._video):
                if live and not timer.isActive():
                    timer.start()
                elif not live:
                    timer.stop()
            if live:
                self._grab_window()
            self.status.emit(self.view)
        elif isinstance(event, FieldProposal):
            self.proposal.emit(
                ProposalView(event.proposal_id, event.key, event.label, event.old_value, event.new_value)
            )
        elif isinstance(event, ChatLine):
            self.chat.emit(event.who, event.text)
        elif isinstance(event, RemoteAcceptance):
            self.acceptance.emit(event.agent_name, event.decision)
        elif isinstance(event, Pointer):
            self.pointer.emit(event.x, event.y)

    def _keep_session(self) -> None:
        touch = getattr(self.parent(), "touch", None)
        if touch is not None:
            touch()

    def _step_changed(self, step: Any) -> None:
        if getattr(step, "value", None) == "attract" and self.service.status.state in (
            CallState.QUEUED,
            CallState.CONNECTING,
            CallState.IN_CALL,
        ):
            self.service.cancel()

    def _grab_window(self) -> None:
        window = self.window
        if window is None or not shiboken6.isValid(window) or not window.isVisible():
            return  # no window, or a closed one Qt has deleted (this facade outlives windows)
        image = window.grab().toImage()  # the GUI thread only grabs; the call's thread converts
        with self._screen_lock:
            self._screen = image

    def _latest_screen(self) -> Any:  # called on the call's thread
        with self._screen_lock:
            image = self._screen
        return qimage_to_bgr(image) if image is not None else None

    def _show_remote(self) -> None:
        frame = self.service.remote_frame()
        if frame is not None:
            self.remoteFrame.emit(bgr_to_qimage(frame))
