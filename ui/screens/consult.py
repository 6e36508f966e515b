"""Guided consultation (智能咨询) on the welcome screen: plain questions with big option buttons
lead to the item, life event or window the citizen needs.

A panel of the welcome screen: its opener button sits under the start button; open, it takes the
screen's room (the welcome screen hides the rest, see :attr:`ConsultPanel.opened`) and shows one
question at a time from :attr:`KioskFacade.consult` (ui/facade_consult.py), each question and
answer also spoken when voice is on.  上一步 goes one question back, 重新开始 to the first, 返回首页
closes it.  At an item the citizen starts it; at a life event the catalogue opens on its items;
a window is only named.
"""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kiosk.i18n import bilingual, tr
from ui.facade_consult import ConsultView
from ui.screens.base import label
from ui.widgets import BigButton, Title

#: an open consultation nobody touched for this long closes (the next citizen sees the welcome screen)
IDLE_CLOSE_S = 90.0


class ConsultPanel(QWidget):
    #: True when the consultation opens (the welcome screen hides its other content), False on close
    opened = Signal(bool)

    def __init__(self, facade: Any) -> None:
        super().__init__()
        self.setObjectName("consultPanel")
        self.facade = facade
        self.view: ConsultView | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.opener = BigButton(role="secondary")
        self.opener.setObjectName("consult:open")
        self.opener.clicked.connect(self.open)
        outer.addWidget(self.opener)
        self.page = QWidget()
        page = QVBoxLayout(self.page)
        page.setContentsMargins(0, 0, 0, 0)
        self.progress = label(name="hint")  # 智能咨询 · 第 n 个问题
        self.question = Title()
        self.question.setObjectName("consultQuestion")
        self.options = QGridLayout()  # two columns: six options fit without scrolling
        self.answer = QLabel()
        self.answer.setObjectName("consultAnswer")
        self.answer.setWordWrap(True)
        self.answer.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.answer.setMargin(20)
        self.begin = BigButton()
        self.begin.setObjectName("consult:begin")
        self.begin.clicked.connect(self._begin)
        nav = QHBoxLayout()
        self.nav: dict[str, BigButton] = {}
        for key, action in (("back", self.back), ("restart", self.restart), ("close", self.close_panel)):
            b = BigButton(role="secondary")
            b.setObjectName(f"consult:{key}")
            b.clicked.connect(action)
            self.nav[key] = b
            nav.addWidget(b)
        for w in (self.progress, self.question):
            page.addWidget(w)
        page.addLayout(self.options)
        page.addWidget(self.answer)
        page.addWidget(self.begin)
        page.addSpacing(24)
        page.addLayout(nav)
        outer.addWidget(self.page)
        self.page.hide()
        # Timers only while the welcome screen shows the panel (none runs during a session): one
        # looks again for a tree a sync may bring after the screen was shown, one closes an open
        # consultation left alone.
        self._poll = QTimer(self)
        self._poll.setInterval(2000)
        self._poll.timeout.connect(self._look_for_tree)
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(int(IDLE_CLOSE_S * 1000))
        self._idle.timeout.connect(self.close_panel)
        self.retranslate()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._look_for_tree()

    def hideEvent(self, event: QHideEvent) -> None:
        self._poll.stop()
        self._idle.stop()
        super().hideEvent(event)

    def _look_for_tree(self) -> None:
        available = self.facade.consult.available
        if self.view is None:
            self.opener.setVisible(available)
        if available or not self.isVisible():
            self._poll.stop()
        elif not self._poll.isActive():
            self._poll.start()

    # ------------------------------------------------------------------ what the citizen does
    def open(self) -> None:
        view = self.facade.consult.open()
        if view is None:
            return
        self.opener.hide()
        self.page.show()
        self.opened.emit(True)
        self._show(view)

    def choose(self, option: int) -> None:
        self._show(self.facade.consult.choose(option))

    def back(self) -> None:
        self._show(self.facade.consult.back())

    def restart(self) -> None:
        self._show(self.facade.consult.restart())

    def close_panel(self) -> None:
        was_open = self.page.isVisible()
        self._idle.stop()
        self.view = None
        self.page.hide()
        self.opener.show()
        self.retranslate()
        if was_open:
            self.opened.emit(False)

    def _begin(self) -> None:
        self.close_panel()
        self.facade.consult.begin()

    # ------------------------------------------------------------------ showing
    def retranslate(self) -> None:
        self.opener.setText(tr("consult.open"))
        self.opener.setVisible(self.view is None and self.facade.consult.available)
        for key, b in self.nav.items():
            b.setText(tr(f"consult.{key}"))
        if self.view is not None:
            self._show(self.view, speak=False)

    def _show(self, view: ConsultView, *, speak: bool = True) -> None:
        self.view = view
        self._idle.start()  # (re)started by every answer
        title = bilingual(*view.title)
        self.nav["back"].setEnabled(view.depth > 0)
        self.nav["restart"].setEnabled(view.depth > 0)
        while self.options.count():  # the last question's buttons go now, not at the next loop turn
            item = self.options.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.hide()
                w.setParent(None)  # type: ignore[call-overload]
                w.deleteLater()
        at_question = view.question is not None
        self.question.setVisible(at_question)
        self.answer.setVisible(not at_question)
        self.begin.setVisible(view.kind in {"item", "life_event"})
        if view.question is not None:
            self.progress.setText(f"{title} · {tr('consult.step', n=view.depth + 1)}")
            self.question.setText(bilingual(*view.question))
            for i, option in enumerate(view.options):
                b = BigButton(bilingual(*option), role="secondary")
                b.setObjectName(f"consult:option:{i}")
                b.clicked.connect(lambda _c=False, i=i: self.choose(i))
                self.options.addWidget(b, i // 2, i % 2)
            if speak:
                self._say("consult.voice.question", view)
            return
        self.progress.setText(f"{title} · {tr('consult.found')}")
        self.answer.setText(answer_html(view))
        self.begin.setText(tr("consult.begin_event" if view.kind == "life_event" else "consult.begin_item"))
        if speak:
            self._say("consult.voice.answer", view)

    def _say(self, key: str, view: ConsultView) -> None:
        """Speak the question and its options, or the answer (when voice is on)."""

        def render() -> str:
            if view.question is not None:
                options = "；".join(f"{n}. {bilingual(*o)}" for n, o in enumerate(view.options, start=1))
                return tr(key, question=bilingual(*view.question), options=options)
            return tr(key, answer=bilingual(*view.name) if view.name else "")

        voice = getattr(self.facade, "voice", None)
        if voice is not None:
            voice.say(key, render)


def answer_html(view: ConsultView) -> str:
    """Where the answers led: the item, the life event's items, or the window to go to."""
    name = escape(bilingual(*view.name)) if view.name else ""
    if view.kind == "window":
        parts = [f"<h2>{tr('consult.window', window=name)}</h2>"]
    else:
        parts = [f"<p>{tr('consult.answer.' + (view.kind or 'item'))}</p>", f"<h2>{name}</h2>"]
        if view.kind == "item":
            parts.append(f"<p>{tr('catalogue.department')}：{escape(bilingual(*view.details[0]))}</p>")
        else:
            items = "".join(f"<li>{escape(bilingual(*d))}</li>" for d in view.details)
            parts.append(f"<ul>{items}</ul>")
    if view.note is not None:
        parts.append(f"<p>{escape(bilingual(*view.note))}</p>")
    return "".join(parts)
