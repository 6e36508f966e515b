"""The hall services on the welcome screen: 取号, 预约签到, 进度查询, 证照打印/补打.

A panel under the welcome screen's start button: a row of three buttons, and below it the page of
the service the citizen chose (business lines, a QR/ID-card prompt, the result).  It shows the
view-models of :mod:`ui.facade_hall` and calls :attr:`KioskFacade.hall`; a terminal without hall
services (``facade.hall`` is None) shows no panel.
"""

from __future__ import annotations

from html import escape
from typing import Any, Literal

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import bilingual, language, tr
from ui.facade_hall import DocumentView, HallFacade, ProgressView, ReprintView, TicketView
from ui.screens.base import clear_layout, label
from ui.widgets import BigButton

Mode = Literal["checkin", "progress", "reprint"]


class HallPanel(QWidget):
    def __init__(self, facade: Any) -> None:
        super().__init__()
        self.setObjectName("hallPanel")
        self.facade = facade
        self.mode: Mode = "checkin"
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.buttons: dict[str, BigButton] = {}
        for key, action in (
            ("ticket", self.show_lines),
            ("checkin", lambda: self.show_scan("checkin")),
            ("progress", lambda: self.show_scan("progress")),
            ("reprint", lambda: self.show_scan("reprint")),
        ):
            b = BigButton(role="secondary")
            b.setObjectName(f"hall:{key}")
            b.clicked.connect(action)
            self.buttons[key] = b
            row.addWidget(b)
        outer.addLayout(row)
        self.pages = QStackedWidget()
        # The pages scroll by finger inside the welcome screen instead of growing the window.
        self.scroll = QScrollArea()
        self.scroll.setObjectName("hallPages")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.pages)
        self.scroll.setStyleSheet("QScrollArea, QScrollArea > QWidget > QWidget { background: transparent; }")
        outer.addWidget(self.scroll, 1)
        # business lines
        self.lines_page = QWidget()
        self.lines_box = QVBoxLayout(self.lines_page)
        self.lines_title = label()
        # QR code / ID card
        self.scan_page = QWidget()
        scan = QVBoxLayout(self.scan_page)
        self.scan_prompt = label()
        self.scan_input = QLineEdit()  # the QR scanner types into it (keyboard wedge) and ends with Enter
        self.scan_input.setObjectName("hallScan")
        self.scan_input.returnPressed.connect(self.submit_scan)
        self.card = BigButton(role="secondary")
        self.card.setObjectName("hall:card")
        self.card.clicked.connect(self.read_card)
        scan.addWidget(self.scan_prompt)
        scan.addWidget(self.scan_input)
        scan.addWidget(self.card)
        # result
        self.result_page = QWidget()
        result = QVBoxLayout(self.result_page)
        self.result = QLabel()
        self.result.setObjectName("hallResult")
        self.result.setWordWrap(True)
        self.result.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        result.addWidget(self.result)
        # 证照打印/补打: the identified citizen's documents, and how the last reprint went
        self.docs_page = QWidget()
        self.docs_box = QVBoxLayout(self.docs_page)
        self.reprint_status = QLabel()
        self.reprint_status.setObjectName("hallReprintStatus")
        self.reprint_status.setWordWrap(True)
        for page in (self.lines_page, self.scan_page, self.result_page, self.docs_page):
            self.pages.addWidget(page)
        self.back = BigButton(role="secondary")
        self.back.setObjectName("hall:back")
        self.back.clicked.connect(self.close_page)
        outer.addWidget(self.back)
        hall = self.hall
        if hall is not None:
            hall.ticket.connect(self.show_ticket)
            # bound methods only: the hall facade outlives the window, a lambda would not be dropped
            hall.noAppointment.connect(self._no_appointment)
            hall.progress.connect(self.show_progress)
            hall.documents.connect(self.show_documents)
            hall.reprinted.connect(self.show_reprinted)
            hall.failed.connect(self._failed)
            hall.busy.connect(self._busy)
        self.close_page()

    def _no_appointment(self) -> None:
        self.show_message(tr("hall.no_appointment"))

    def _failed(self, key: str) -> None:
        self.show_message(tr(key))

    def _busy(self, on: bool) -> None:
        self.setEnabled(not on)

    @property
    def hall(self) -> HallFacade | None:
        hall = getattr(self.facade, "hall", None)
        return hall if isinstance(hall, HallFacade) else None

    def showEvent(self, event: QShowEvent) -> None:
        self.retranslate()
        self.close_page()
        super().showEvent(event)

    def retranslate(self) -> None:
        self.setVisible(self.hall is not None)
        for key, b in self.buttons.items():
            b.setText(tr(f"hall.button.{key}"))
        self.back.setText(tr("hall.back"))
        self.card.setText(tr("hall.card"))
        self.lines_title.setText(tr("hall.choose_line"))

    def close_page(self) -> None:
        hall = self.hall
        if hall is not None:
            hall.forget()
        self.scroll.hide()
        self.back.hide()

    def _open(self, page: QWidget) -> None:
        self.pages.setCurrentWidget(page)
        self.scroll.show()
        self.back.show()

    # ------------------------------------------------------------------ pages

    def show_lines(self) -> None:
        hall = self.hall
        if hall is None:
            return
        clear_layout(self.lines_box)
        self.lines_title = label(tr("hall.choose_line"))
        self.lines_box.addWidget(self.lines_title)
        for line in hall.lines():
            b = BigButton(bilingual(*line.name), role="item")
            b.setObjectName(f"hall:line:{line.line_id}")
            b.clicked.connect(lambda _c=False, i=line.line_id: hall.take_ticket(i, language()))
            self.lines_box.addWidget(b)
        self._open(self.lines_page)

    def show_scan(self, mode: Mode) -> None:
        self.mode = mode
        prompt = {"checkin": "hall.scan_appointment", "progress": "hall.scan_progress"}
        self.scan_prompt.setText(tr(prompt.get(mode, "hall.reprint.prompt")))
        self.scan_input.setVisible(mode != "reprint")  # reprints need the card and the face
        self.card.setText(tr("hall.card_face" if mode != "checkin" else "hall.card"))
        self.scan_input.clear()
        self._open(self.scan_page)
        self.scan_input.setFocus()

    def submit_scan(self) -> None:
        hall, payload = self.hall, self.scan_input.text().strip()
        if hall is None or not payload:
            return
        self.scan_input.clear()
        if self.mode == "checkin":
            hall.check_in_by_qr(payload, language())
        else:
            hall.progress_by_qr(payload)

    def read_card(self) -> None:
        hall = self.hall
        if hall is None:
            return
        if self.mode == "checkin":
            hall.check_in_by_card(language())
        elif self.mode == "reprint":
            hall.start_reprint()
        else:
            hall.progress_by_card()

    # ------------------------------------------------------------------ results

    def show_message(self, text: str) -> None:
        self.result.setText(f"<p>{escape(text)}</p>")
        self._open(self.result_page)

    def show_ticket(self, t: TicketView) -> None:
        parts = [f"<h1>{escape(t.number)}</h1>"]
        if t.local:
            parts.append(f"<p><b>{escape(tr('hall.ticket.local'))}</b></p>")
            parts.append(f"<p>{escape(tr('hall.ticket.local_note'))}</p>")
        if t.appointment:
            parts.insert(0, f"<p>{escape(tr('hall.checked_in'))}</p>")
        parts.append(f"<p>{escape(tr('hall.ticket.line', v=t.line_name))}</p>")
        if t.windows:
            parts.append(f"<p>{escape(tr('hall.ticket.windows', v=t.windows))}</p>")
        if t.people_waiting is not None:
            parts.append(f"<p>{escape(tr('hall.ticket.waiting', v=t.people_waiting))}</p>")
        if t.estimated_wait_min is not None:
            parts.append(f"<p>{escape(tr('hall.ticket.wait', v=t.estimated_wait_min))}</p>")
        if not t.printed:
            parts.append(f"<p>{escape(tr('hall.not_printed'))}</p>")
        self.result.setText("".join(parts))
        self._open(self.result_page)

    def show_progress(self, cases: tuple[ProgressView, ...]) -> None:
        if not cases:
            self.show_message(tr("hall.no_cases"))
            return
        parts = [f"<h2>{escape(tr('hall.progress.title'))}</h2>"]
        for c in cases:
            parts.append(f"<h3>{escape(tr('hall.progress.case', ref=c.case_ref, item=c.item_name))}</h3>")
            parts.append(f"<p>{escape(tr('hall.progress.status', v=tr(f'hall.status.{c.status}')))}</p>")
            parts.append(f"<p>{escape(tr('hall.progress.next', v=c.next_step))}</p>")
            if c.collect_at:
                parts.append(f"<p>{escape(tr('hall.progress.collect', v=c.collect_at))}</p>")
        self.result.setText("".join(parts))
        self._open(self.result_page)

    def show_documents(self, docs: tuple[DocumentView, ...]) -> None:
        hall = self.hall
        if hall is None:
            return
        if not docs:
            self.show_message(tr("hall.reprint.none"))
            return
        clear_layout(self.docs_box)
        self.reprint_status = QLabel()
        self.reprint_status.setObjectName("hallReprintStatus")
        self.reprint_status.setWordWrap(True)
        self.docs_box.addWidget(label(tr("hall.reprint.choose")))
        self.docs_box.addWidget(self.reprint_status)
        for d in docs:
            b = BigButton(tr(f"hall.reprint.{d.kind}", number=d.number, item=d.title), role="item")
            b.setObjectName(f"hall:doc:{d.index}")
            b.clicked.connect(lambda _c=False, i=d.index: hall.reprint(i, language()))
            self.docs_box.addWidget(b)
        self._open(self.docs_page)

    def show_reprinted(self, r: ReprintView) -> None:
        """How the reprint went, above the same list (a failed one can be tapped again)."""
        if r.printed:
            text = tr("hall.reprint.done", number=r.number)
            if r.count is not None:
                text += " " + tr("hall.reprint.count", v=r.count)
            else:
                text += " " + tr("hall.reprint.queued" if r.queued else "hall.reprint.unrecorded")
        else:
            text = tr(r.problem or "hall.unavailable")
            if r.action == "clear_by_staff":
                text += " " + tr("hall.reprint.call_staff")
        self.reprint_status.setText(text)
        self._open(self.docs_page)
