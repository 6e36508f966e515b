"""Two pieces of the window's chrome for the citizen: the 呼叫工作人员 button (on every screen) and
the confirmation before 取消办理 (确定要取消吗？ with large 继续办理 / 确认取消)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.i18n import tr
from ui.facade import KioskFacade
from ui.widgets import BigButton

#: After a call, the button says so this long before it can call again.
CALLED_FOR_MS = 15_000


class CallStaffButton(QPushButton):
    """呼叫工作人员: raises a call to hall staff (an alert and a chime), then says it was sent."""

    def __init__(self, facade: KioskFacade, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.facade = facade
        self.setObjectName("callStaff")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.clicked.connect(self._call)
        self._again = QTimer(self)
        self._again.setSingleShot(True)
        self._again.timeout.connect(self._ready)
        facade.citizen.sessionEnded.connect(self._session_ended)  # a bound method: dropped with the button
        self.retranslate()

    @property
    def called(self) -> bool:
        return self._again.isActive()

    def _call(self) -> None:
        if self.called:
            return
        self.facade.citizen.call_staff()
        self._again.start(CALLED_FOR_MS)
        self.retranslate()

    def _session_ended(self, _reason: str) -> None:
        self._ready()

    def _ready(self) -> None:
        self._again.stop()
        self.retranslate()

    def retranslate(self) -> None:
        key = "citizen.call.sent" if self.called else "citizen.call.button"
        self.setText(tr(key))
        self.setAccessibleName(tr("citizen.call.button"))
        self.setAccessibleDescription(tr(key))


class CancelConfirm(QFrame):
    """确定要取消吗？ over the whole window: 继续办理 keeps the session, 确认取消 ends it."""

    def __init__(self, facade: KioskFacade, parent: QWidget) -> None:
        super().__init__(parent)
        self.facade = facade
        self.setObjectName("cancelConfirmOverlay")
        self.setStyleSheet(
            "#cancelConfirmOverlay { background: rgba(20, 24, 32, 170); }"
            " #cancelConfirmBox { background: white; border-radius: 16px; }"
        )
        box = QFrame(self)
        box.setObjectName("cancelConfirmBox")
        inner = QVBoxLayout(box)
        inner.setContentsMargins(40, 32, 40, 32)
        inner.setSpacing(20)
        self.question = QLabel()
        self.question.setObjectName("title")
        self.question.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail = QLabel()
        self.detail.setObjectName("subtitle")
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.keep = BigButton()
        self.keep.setObjectName("cancelKeep")
        self.keep.clicked.connect(self.close_question)
        self.confirm = BigButton(role="secondary")
        self.confirm.setObjectName("cancelConfirm")
        self.confirm.clicked.connect(self._confirmed)
        row = QHBoxLayout()
        row.setSpacing(48)  # far apart: the one that keeps the session is not hit by mistake
        row.addWidget(self.keep)
        row.addWidget(self.confirm)
        inner.addWidget(self.question)
        inner.addWidget(self.detail)
        inner.addLayout(row)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignCenter)
        outer.addStretch(1)
        parent.installEventFilter(self)
        facade.stepChanged.connect(self._step_changed)  # a bound method: dropped with the overlay
        self.hide()

    def ask(self) -> None:
        self.facade.touch()
        self.retranslate()
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.show()
        self.raise_()

    def _step_changed(self, _step: object) -> None:
        self.close_question()

    def close_question(self) -> None:
        if self.isVisible():
            self.facade.touch()
        self.hide()

    def _confirmed(self) -> None:
        self.hide()
        self.facade.cancel()

    def retranslate(self) -> None:
        self.question.setText(tr("citizen.cancel.question"))
        self.detail.setText(tr("citizen.cancel.detail"))
        self.keep.setText(tr("citizen.cancel.keep"))
        self.confirm.setText(tr("citizen.cancel.confirm"))
        for b in (self.keep, self.confirm):
            b.setAccessibleName(b.text())

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.isVisible():
            parent = self.parentWidget()
            if parent is not None:
                self.setGeometry(parent.rect())
        return False
