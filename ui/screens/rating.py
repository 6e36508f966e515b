"""The rating screen: 好差评 (GB/T 39734 一次一评).

Five levels, styled alike (no level is pushed by colour or size), best first as the standard lists
them.  不满意 / 非常不满意 lead to the reasons (one or more, marked with a tick as well as the
pressed state); a thank-you ends the screen after a few seconds.  After a cancel, an idle timeout
or a device problem the screen says so above the levels.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QStackedWidget, QVBoxLayout, QWidget

from kiosk.i18n import tr
from ui.facade import KioskFacade
from ui.screens.base import Screen, label
from ui.viewmodels import Step
from ui.widgets import BigButton, Title

THANKS_MS = 3000


class RatingScreen(Screen):
    step = Step.RATING

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.rating = facade.rating
        self.pages = QStackedWidget()
        self.level: str | None = None
        self.title = Title()
        self.ended = label(name="subtitle")
        self.ended.setObjectName("ratingEnded")
        self.buttons: dict[str, BigButton] = {}
        self.reason_buttons: dict[str, BigButton] = {}
        self.pages.addWidget(self._levels_page())
        self.pages.addWidget(self._reasons_page())
        self.pages.addWidget(self._thanks_page())
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.ended)
        self.layout_.addWidget(self.pages, 1)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(THANKS_MS)
        self.timer.timeout.connect(self.rating.finish)

    # ------------------------------------------------------------------ pages
    def _levels_page(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        row = QHBoxLayout()
        for level in self.rating.levels:
            b = BigButton(role="secondary")  # all five alike: neutral
            b.setObjectName(f"rate:{level}")
            b.clicked.connect(lambda _c=False, v=level: self._chosen(v))
            row.addWidget(b)
            self.buttons[level] = b
        self.skip = BigButton(role="secondary")
        self.skip.setObjectName("rateSkip")
        self.skip.clicked.connect(self.rating.finish)
        skip_row = QHBoxLayout()
        skip_row.addStretch(1)
        skip_row.addWidget(self.skip)
        box.addStretch(1)
        box.addLayout(row)
        box.addStretch(1)
        box.addLayout(skip_row)
        return page

    def _reasons_page(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        self.reasons_title = label(name="subtitle")
        grid = QGridLayout()
        for i, code in enumerate(self.rating.reasons):
            b = BigButton(role="secondary")
            b.setObjectName(f"reason:{code}")
            b.setCheckable(True)
            b.toggled.connect(self._reasons_changed)
            grid.addWidget(b, i // 3, i % 3)
            self.reason_buttons[code] = b
        self.back = BigButton(role="secondary")
        self.back.setObjectName("reasonsBack")
        self.back.clicked.connect(lambda: self.pages.setCurrentIndex(0))
        self.send = BigButton()
        self.send.setObjectName("reasonsSubmit")
        self.send.clicked.connect(self._send_reasons)
        row = QHBoxLayout()
        row.addWidget(self.back)
        row.addStretch(1)
        row.addWidget(self.send)
        box.addWidget(self.reasons_title)
        box.addLayout(grid)
        box.addStretch(1)
        box.addLayout(row)
        return page

    def _thanks_page(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        page.setObjectName("ratingThanks")
        self.thanks = Title()
        self.thanks_detail = label(name="subtitle")
        box.addStretch(1)
        box.addWidget(self.thanks)
        box.addWidget(self.thanks_detail)
        box.addStretch(2)
        return page

    # ------------------------------------------------------------------ showing
    def enter(self) -> None:
        self.timer.stop()
        self.level = None
        for b in self.reason_buttons.values():
            b.setChecked(False)
        self.pages.setCurrentIndex(0)
        self.title.show()
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(tr("rating.title"))
        ended = self.rating.ended()
        self.ended.setText("" if ended == "completed" else tr(f"rating.ended.{ended}"))
        self.ended.setVisible(ended != "completed" and self.pages.currentIndex() != 2)
        for level, b in self.buttons.items():
            b.setText(tr(f"rating.{level}"))
            b.setAccessibleName(tr(f"rating.{level}"))
        self.skip.setText(tr("rating.skip"))
        self.skip.setAccessibleName(tr("rating.skip"))
        self.reasons_title.setText(tr("rating.reasons_title"))
        self.back.setText(tr("common.back"))
        self.back.setAccessibleName(tr("common.back"))
        self.send.setText(tr("rating.submit"))
        self.send.setAccessibleName(tr("rating.submit"))
        self.thanks.setText(tr("rating.thanks"))
        self.thanks_detail.setText(tr("rating.thanks_detail"))
        self._reasons_changed()

    def page(self) -> str:
        """Which part is shown: levels, reasons or thanks (tests, voice)."""
        return ("levels", "reasons", "thanks")[self.pages.currentIndex()]

    # ------------------------------------------------------------------ the citizen's answer
    def _chosen(self, level: str) -> None:
        self.level = level
        if level in self.rating.negative:
            self.pages.setCurrentIndex(1)
            self._reasons_changed()
            self.facade.voice.say_key("voice.rating.reasons")
            return
        self._record(level, ())

    def chosen_reasons(self) -> tuple[str, ...]:
        return tuple(code for code, b in self.reason_buttons.items() if b.isChecked())

    def _reasons_changed(self, _checked: bool = False) -> None:
        for code, b in self.reason_buttons.items():
            text = tr(f"rating.reason.{code}")
            b.setText(("✓ " + text) if b.isChecked() else text)  # not by colour alone
            b.setAccessibleName(text)
        self.send.setEnabled(bool(self.chosen_reasons()))

    def _send_reasons(self) -> None:
        reasons = self.chosen_reasons()
        if self.level is None or not reasons:
            return
        self._record(self.level, reasons)

    def _record(self, level: str, reasons: tuple[str, ...]) -> None:
        self.pages.setCurrentIndex(2)
        self.title.hide()
        self.ended.hide()
        self.facade.voice.say_key("voice.rating.thanks")
        self.rating.rate(level, reasons, on_done=self.timer.start)
