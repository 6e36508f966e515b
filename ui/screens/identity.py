"""The identity steps: the ID card (or an e-ID QR code), the face check, hall staff's check."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy

from kiosk.i18n import bilingual, tr
from ui.facade import KioskFacade
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
        facade.qrRefused.connect(self._qr_refused)
        facade.cardNotLifted.connect(self._not_lifted)
        self.layout_.addStretch(2)

    def enter(self) -> None:
        self.title.setText(tr("card.title"))
        self.hint.setText(tr("attract.hint"))
        self.qr.setText(tr("card.use_qr"))
        self.qr.setVisible(self.facade.qr_available)
        self.qr.setEnabled(True)

    def _use_qr(self) -> None:
        self.qr.setEnabled(False)
        self.hint.setText(tr("card.qr_hint"))
        self.facade.identify_by_qr()

    def _not_lifted(self) -> None:
        self.hint.setText(tr("card.lift_and_place"))

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
    step = Step.STAFF_ASSIST

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.detail = label()
        self.ok = BigButton(role="secondary")
        self.ok.setObjectName("staffConfirmed")
        self.ok.clicked.connect(facade.staff_confirmed_identity)
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.detail)
        self.layout_.addWidget(self.ok, 0, Qt.AlignmentFlag.AlignCenter)
        self.layout_.addStretch(2)

    def enter(self) -> None:
        self.title.setText(tr("step.staff_assist"))
        self.detail.setText(tr(self.facade.view.staff_assist_reason or "face.staff"))
        self.ok.setText(tr("reason.staff_identity"))
