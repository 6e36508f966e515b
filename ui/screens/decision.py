"""Review, confirm and sign, submit, result and rating."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from kiosk.i18n import bilingual, tr
from ui.applicant import applicant_text
from ui.delivery import DeliveryPanel
from ui.facade import KioskFacade
from ui.screens.base import Screen, label
from ui.viewmodels import DecisionView, PrintedView, Step, WarningView
from ui.widgets import BigButton, SignaturePad, Title


class BusyScreen(Screen):
    """Review and submit: the terminal works, the citizen waits."""

    def __init__(self, facade: KioskFacade, step: Step, key: str) -> None:
        super().__init__(facade)
        self.step = step
        self.key = key
        self.title = Title()
        self.detail = label(name="big")
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.detail)
        self.layout_.addStretch(2)

    def enter(self) -> None:
        self.title.setText(tr(f"step.{self.step.value}"))
        self.detail.setText(tr(self.key))


def decision_html(decision: DecisionView, warnings: tuple[WarningView, ...]) -> str:
    outcome = decision.outcome
    colour = {"approve": "#1b7340", "reject": "#b03426", "manual": "#8a5a0a"}[outcome]  # ≥ 4.5:1
    parts = [
        f'<p style="font-size:44px; font-weight:bold; color:{colour}">{tr("outcome." + outcome)}</p>',
        f"<p>{tr('outcome.' + outcome + '.detail')}</p>",
    ]
    reasons = [bilingual(zh, en) for zh, en in decision.reasons]
    if reasons:
        parts.append("<ul>" + "".join(f"<li>{r}</li>" for r in reasons) + "</ul>")
    for hit in warnings:
        parts.append(
            f'<p style="background:#fff4e0; padding:8px"><b>{tr("review.warning_title")}</b>：'
            f"{bilingual(*hit.description)}<br>"
            f"{bilingual(*hit.what_follows)}<br>"
            f"{bilingual(*hit.whom_to_ask)}</p>"
        )
    return "".join(parts)


class ConfirmSignScreen(Screen):
    step = Step.CONFIRM_SIGN

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.decision = QLabel()
        self.decision.setObjectName("decisionText")
        self.decision.setWordWrap(True)
        self.decision.setTextFormat(Qt.TextFormat.RichText)
        self.applicant = label(name="subtitle")  # who applies, with which document
        self.applicant.setTextFormat(Qt.TextFormat.PlainText)
        self.hint = label(name="hint")
        self.delivery = DeliveryPanel(facade)  # how the result reaches the citizen
        self.pad = SignaturePad()
        self.pad.setObjectName("signaturePad")
        self.pad.setMinimumHeight(160)  # room for the delivery choice above; still a signature line
        self.pad.changed.connect(self._update)
        self.clear = BigButton(role="secondary")
        self.clear.clicked.connect(self.pad.clear)
        self.back = BigButton(role="secondary")
        self.back.clicked.connect(facade.back_to_form)
        self.submit = BigButton()
        self.submit.setObjectName("signSubmit")
        self.submit.clicked.connect(self._submit)
        # decision and delivery choice scroll when the express form needs the room
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.decision)
        top_layout.addWidget(self.delivery)
        top_layout.addStretch(1)
        self.top = QScrollArea()
        self.top.setObjectName("confirmTop")
        self.top.setWidgetResizable(True)
        self.top.setFrameShape(QFrame.Shape.NoFrame)
        self.top.setWidget(top)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.applicant)
        self.layout_.addWidget(self.top, 1)
        self.layout_.addWidget(self.hint)
        self.layout_.addWidget(self.pad)
        self.add_main_action(self.submit, self.back, self.clear)  # never scrolled out of view

    def enter(self) -> None:
        self.title.setText(tr("sign.title"))
        self.hint.setText(tr("sign.hint"))
        self.clear.setText(tr("sign.clear"))
        self.back.setText(tr("common.back"))
        self.submit.setText(tr("sign.submit"))
        view = self.facade.view
        self.applicant.setText(applicant_text(view.applicant))
        if view.decision is not None:
            self.decision.setText(decision_html(view.decision, view.decision.warnings))
        self.delivery.load()
        self._update()

    def _update(self) -> None:
        self.submit.setEnabled(not self.pad.is_empty())

    def _submit(self) -> None:
        if self.pad.is_empty():
            self.hint.setText(tr("sign.empty"))
            return
        if not self.delivery.apply():
            return
        png = self.pad.to_png()
        self.pad.clear()
        self.facade.submit(png)


class ResultScreen(Screen):
    step = Step.RESULT

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.outcome = QLabel()
        self.outcome.setObjectName("resultText")
        self.outcome.setWordWrap(True)
        self.outcome.setTextFormat(Qt.TextFormat.RichText)
        self.case = label(name="subtitle")
        self.print_status = label(name="subtitle")
        self.print_status.setObjectName("resultPrintStatus")
        self.done = BigButton()
        self.done.setObjectName("resultDone")
        self.done.clicked.connect(facade.finish_result)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.outcome)
        self.layout_.addWidget(self.case)
        self.layout_.addWidget(self.print_status)
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.done, 0, Qt.AlignmentFlag.AlignRight)
        facade.printed.connect(self.on_printed)

    def enter(self) -> None:
        view = self.facade.view
        self.title.setText(tr("result.title"))
        self.done.setText(tr("common.done"))
        if view.decision is not None:
            self.outcome.setText(decision_html(view.decision, ()))
        submitted = view.submitted
        ack = (
            tr("result.acknowledged")
            if submitted is not None and submitted.acknowledged
            else tr("result.queued")
        )
        case_id = submitted.case_id if submitted is not None else None
        self.case.setText(f"{tr('result.case_id')}：{case_id}<br>{ack}")
        self.print_status.setText(tr("result.printing"))
        self.done.setEnabled(False)

    def on_printed(self, result: PrintedView) -> None:
        lines = [tr("result.printed") if result.receipt_printed else tr("result.print_failed")]
        if result.certificate_printed:
            lines.append(tr("result.certificate_printed"))
        if result.queue_number:
            lines.append(tr("result.queue_ticket", n=result.queue_number))
        if result.delivery == "express":
            lines.append(tr("result.express"))
        self.print_status.setText("<br>".join(lines))
        self.done.setEnabled(True)


class RatingScreen(Screen):
    step = Step.RATING
    RATINGS = ("very_good", "good", "fair", "bad", "very_bad")

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        row = QHBoxLayout()
        self.buttons: dict[str, BigButton] = {}
        for r in self.RATINGS:
            b = BigButton(role="secondary" if r not in {"very_good", "good"} else "primary")
            b.setObjectName(f"rate:{r}")
            b.clicked.connect(lambda _c=False, v=r: facade.rate(v))
            row.addWidget(b)
            self.buttons[r] = b
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.title)
        self.layout_.addLayout(row)
        self.layout_.addStretch(2)

    def enter(self) -> None:
        self.title.setText(tr("rating.title"))
        for r, b in self.buttons.items():
            b.setText(tr(f"rating.{r}"))
