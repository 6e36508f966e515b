"""The voice controls in the window's header: 重听 (repeat), voice on/off, volume."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from kiosk.i18n import tr
from ui.facade_voice import VoiceFacade


class VoiceControls(QWidget):
    def __init__(self, voice: VoiceFacade, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.voice = voice
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.repeat = self._button("voiceRepeat", voice.repeat)
        self.toggle = self._button("voiceToggle", lambda: voice.set_enabled(not voice.enabled))
        self.softer = self._button("voiceSofter", voice.softer)
        self.louder = self._button("voiceLouder", voice.louder)
        for b in (self.repeat, self.toggle, self.softer, self.louder):
            row.addWidget(b)
        voice.changed.connect(self.retranslate)
        self.retranslate()

    def _button(self, name: str, slot: object) -> QPushButton:
        b = QPushButton()
        b.setObjectName(name)
        b.clicked.connect(slot)
        return b

    def retranslate(self) -> None:
        v = self.voice
        self.setVisible(v.available)
        self.toggle.setText(tr("voice.on") if v.enabled else tr("voice.off"))
        pairs = ((self.repeat, "voice.repeat"), (self.softer, "voice.softer"), (self.louder, "voice.louder"))
        for b, key in pairs:
            b.setText(tr(key))
        for b in (self.repeat, self.toggle, self.softer, self.louder):
            b.setAccessibleName(b.text())
        for b in (self.repeat, self.softer, self.louder):  # only the switch while voice is off
            b.setVisible(v.enabled)
        self.softer.setEnabled(v.volume > 0.0)
        self.louder.setEnabled(v.volume < 1.0)
