"""The identity steps: the ID card (or an e-ID QR code), the face check, hall staff's check."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLineEdit, QSizePolicy, QWidget

from kiosk.i18n import bilingual, tr
from ui.facade import KioskFacade
from ui.facade_citizen import CardRefusedView, StaffIdentityView
from ui.screens.base import Screen, label
from ui.viewmodels import Bilingual, FacePromptView, Step
from ui.widgets import BigButton, Title


class ReadCardScreen(Screen):
    step = Step.READ_CARD

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.icon = label("🪪", name="big")
        self.hint = label(name="hint")
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.icon)
        self.layout_.addWidget(self.hint)
        # identity by e-ID QR code, when a scanner is there
        self.qr = BigButton(role="secondary")
        self.qr.setObjectName("useQr")
        self.qr.clicked.connect(self._use_qr)
        self.layout_.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignCenter)
        self.ssc = label(name="sscAccepted")  # where the item accepts the social security card
        self.layout_.addWidget(self.ssc)
        # why a card read was refused (expired, not valid yet, a wrong number) and what to do next
        self.refused = label(name="cardRefused")
        self.refused.setStyleSheet("color: #8a1c10; font-weight: bold;")
        self.layout_.addWidget(self.refused)
        facade.qrRefused.connect(self._qr_refused)
        facade.cardNotLifted.connect(self._not_lifted)
        facade.citizen.cardRefused.connect(self._card_refused)
        facade.citizen.cardWaiting.connect(self._still_waiting)
        self.layout_.addStretch(2)
        self._refusal: CardRefusedView | None = None

    def enter(self) -> None:
        if self.facade.view.session_id != self._session:
            self._refusal = None  # a new citizen: nothing of an earlier refusal
        self._session = self.facade.view.session_id
        self.title.setText(tr("card.title"))
        self.hint.setText(tr("attract.hint"))
        self._show_refusal()
        self.qr.setText(tr("card.use_qr"))
        self.qr.setVisible(self.facade.qr_available)
        self.qr.setEnabled(True)
        self.ssc.setText(tr("card.ssc_accepted"))
        self.ssc.setVisible(self.facade.ssc_accepted)

    def _use_qr(self) -> None:
        self.qr.setEnabled(False)
        self.hint.setText(tr("card.qr_hint"))
        self.facade.identify_by_qr()

    _session = ""

    def _not_lifted(self) -> None:
        self.hint.setText(tr("card.lift_and_place"))

    def _card_refused(self, refusal: CardRefusedView) -> None:
        self._refusal = refusal
        self._show_refusal()

    def _show_refusal(self) -> None:
        refusal = self._refusal
        self.refused.setVisible(refusal is not None)
        if refusal is not None:
            self.refused.setText(f"{bilingual(*refusal.message)}<br>{tr(refusal.advice_key)}")

    def _still_waiting(self) -> None:
        if self._refusal is None:
            self.hint.setText(tr("citizen.card.waiting"))

    def _qr_refused(self, message: Bilingual) -> None:
        self.hint.setText(bilingual(*message))
        self.qr.setEnabled(True)


class FaceScreen(Screen):
    step = Step.FACE_CHECK

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.preview = QLabel()
        self.preview.setObjectName("facePreview")
        self.preview.setMinimumSize(320, 240)  # grows with the room the screen has (4:3)
        self.preview.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status = label(name="subtitle")
        # the liveness challenge asked now ("请眨眨眼") and the live quality feedback
        self.challenge = label(name="faceChallenge")
        self.quality = label(name="faceQuality")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.preview)
        row.addStretch(1)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.challenge)
        self.layout_.addLayout(row, 1)
        self.layout_.addWidget(self.quality)
        self.layout_.addWidget(self.status)
        self.layout_.addStretch(1)
        facade.frame.connect(self.show_frame)
        facade.facePrompt.connect(self.show_prompt)

    def enter(self) -> None:
        self.preview.setPixmap(QPixmap())  # never show the previous citizen's face
        self.title.setText(tr("face.title"))
        self.challenge.setText("")
        self.quality.setText("")
        status = self.facade.view.face_status
        self.status.setText(tr(f"face.{status}") if status else "")

    def show_prompt(self, prompt: FacePromptView) -> None:
        """The challenge big above the preview, the quality feedback under it."""
        self.challenge.setText(tr(prompt.challenge_key) if prompt.challenge_key else "")
        self.quality.setText(tr(prompt.quality_key) if prompt.quality_key else "")

    def show_frame(self, img: QImage) -> None:
        """The live preview, mirrored like a mirror, with the oval face guide drawn on it."""
        pm = QPixmap.fromImage(img.flipped(Qt.Orientation.Horizontal)).scaled(
            self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
        )
        painter = QPainter(pm)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(255, 255, 255, 220), 4, Qt.PenStyle.DashLine))
        w, h = pm.width(), pm.height()
        painter.drawEllipse(QRectF(w * 0.3, h * 0.12, w * 0.4, h * 0.72))
        painter.end()
        self.preview.setPixmap(pm)


class StaffAssistScreen(Screen):
    """Hall staff check the identity in person and vouch for it with their staff card (and PIN):
    nothing on this screen lets the citizen go on alone."""

    step = Step.STAFF_ASSIST

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.detail = label()
        self.instruction = label(name="big")
        self.instruction.setObjectName("staffInstruction")
        self.status = label(name="hint")
        self.status.setObjectName("staffStatus")
        self.pin = QLineEdit()
        self.pin.setObjectName("staffPin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(12)
        self.pin.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pad = QWidget()
        grid = QGridLayout(self.pad)
        for n, key in enumerate("123456789"):
            grid.addWidget(self._key(key), n // 3, n % 3)
        self.clear = BigButton(role="secondary")
        self.clear.setObjectName("staffPinClear")
        self.clear.clicked.connect(self.pin.clear)
        self.submit = BigButton()
        self.submit.setObjectName("staffPinSubmit")
        self.submit.clicked.connect(self._submit)
        grid.addWidget(self.clear, 3, 0)
        grid.addWidget(self._key("0"), 3, 1)
        grid.addWidget(self.submit, 3, 2)
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.detail)
        self.layout_.addWidget(self.instruction)
        self.layout_.addWidget(self.status)
        self.layout_.addWidget(self.pin, 0, Qt.AlignmentFlag.AlignCenter)
        self.layout_.addWidget(self.pad, 0, Qt.AlignmentFlag.AlignCenter)
        self.layout_.addStretch(2)
        facade.citizen.staffIdentity.connect(self._update)
        self._state: StaffIdentityView | None = None
        self._asking_pin = False
        self._session = ""

    def _key(self, digit: str) -> BigButton:
        b = BigButton(digit, role="secondary")
        b.setObjectName(f"staffPinKey:{digit}")
        b.setAccessibleName(digit)
        b.setMinimumWidth(96)
        b.clicked.connect(lambda _c=False, d=digit: self.pin.insert(d))
        return b

    def enter(self) -> None:
        if self.facade.view.session_id != self._session:
            self._state, self._asking_pin = None, False  # a new citizen
        self._session = self.facade.view.session_id
        self.title.setText(tr("citizen.staff.title"))
        self.detail.setText(tr(self.facade.view.staff_assist_reason or "face.staff"))
        self.clear.setText(tr("citizen.staff.pin_clear"))
        self.submit.setText(tr("citizen.staff.pin_submit"))
        self.clear.setAccessibleName(self.clear.text())
        self.submit.setAccessibleName(self.submit.text())
        self.pin.setAccessibleName(tr("citizen.staff.pin"))
        self._show()

    def retranslate(self) -> None:
        self.enter()

    def _update(self, state: StaffIdentityView) -> None:
        if state.state == "pin":
            self._asking_pin = True
            self.pin.clear()
        elif state.state == "refused" and state.refusal != "wrong_pin":
            self._asking_pin = False
        self._state = state
        self._show()
        self._state = None if state.state == "confirmed" else state

    def _show(self) -> None:
        state = self._state
        self.instruction.setText(
            tr("citizen.staff.pin" if self._asking_pin else "citizen.staff.present_card")
        )
        self.pin.setVisible(self._asking_pin)
        self.pad.setVisible(self._asking_pin)
        if state is None or state.state == "pin":
            self.status.setText("")
        elif state.state == "refused" and state.refusal == "wrong_pin" and state.attempts_left is not None:
            self.status.setText(tr("citizen.staff.pin_wrong", n=state.attempts_left))
        elif state.state == "refused":
            self.status.setText(tr("citizen.staff.refused"))
        else:
            self.status.setText(tr("citizen.staff.confirmed"))

    def _submit(self) -> None:
        pin = self.pin.text()
        self.pin.clear()
        if pin:
            self.facade.citizen.submit_staff_pin(pin)
