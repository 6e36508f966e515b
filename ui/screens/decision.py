"""Review, confirm and sign, submit and result."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from kiosk.i18n import bilingual, tr
from ui.applicant import applicant_text
from ui.delivery import DeliveryPanel
from ui.facade import KioskFacade
from ui.facade_citizen import CommitmentView
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


def decision_html(decision: DecisionView, warnings: tuple[WarningView, ...], *, sms: bool = True) -> str:
    """The outcome, its reasons and the warnings; ``sms`` False: nothing promised by SMS (no phone
    number known)."""
    outcome = decision.outcome
    colour = {"approve": "#1b7340", "reject": "#b03426", "manual": "#8a5a0a"}[outcome]  # ≥ 4.5:1
    detail = (
        "citizen.outcome.manual.detail" if outcome == "manual" and not sms else f"outcome.{outcome}.detail"
    )
    parts = [
        f'<p style="font-size:44px; font-weight:bold; color:{colour}">{tr("outcome." + outcome)}</p>',
        f"<p>{tr(detail)}</p>",
    ]
    reasons = [bilingual(zh, en) for zh, en in decision.reasons]
    if reasons:
        parts.append("<ul>" + "".join(f"<li>{r}</li>" for r in reasons) + "</ul>")
    for hit in warnings:
        concerns = f"{bilingual(*hit.concerns)}<br>" if hit.concerns is not None else ""
        parts.append(
            f'<p style="background:#fff4e0; padding:8px"><b>{tr("review.warning_title")}</b>：'
            f"{bilingual(*hit.description)}<br>{concerns}"
            f"{bilingual(*hit.what_follows)}<br>"
            f"{bilingual(*hit.whom_to_ask)}</p>"
        )
    return "".join(parts)


def commitment_html(commitment: CommitmentView) -> str:
    """The 告知承诺书 as the printed A4 form has it, to read before signing."""
    text = bilingual(*commitment.text).replace("\n", "<br>")
    parts = [
        f"<p><b>{bilingual(*commitment.title)}</b></p>",
        f"<p>{tr('citizen.sign.commitment_hint')}</p>",
        f'<p style="background:#f4f6fa; padding:8px">{text}</p>',
    ]
    if commitment.originals:
        items = "".join(f"<li>{bilingual(*o)}</li>" for o in commitment.originals)
        parts.append(
            f"<p>{tr('citizen.sign.commitment_deadline', n=commitment.deadline_days)}</p><ol>{items}</ol>"
        )
    return "".join(parts)


def printed_lines(result: PrintedView, outcome: str | None, sms: bool) -> list[str]:
    """The result screen's account: everything printed, the one next step, and how progress is
    followed (an SMS promised only when a phone number is known)."""
    printed: list[str] = []
    if result.receipt_printed:
        printed.append(tr("citizen.result.receipt"))
    if result.certificate_printed:
        printed.append(tr("citizen.result.certificate"))
    if result.commitment_job:
        printed.append(tr("citizen.result.commitment"))
    if "pickup" in result.slips_printed:
        printed.append(tr("citizen.result.pickup_slip"))
    if "queue" in result.slips_printed and result.queue_number:
        printed.append(tr("citizen.result.queue_slip", n=result.queue_number))
    lines = [
        tr("citizen.result.printed_list") + tr("common.list_separator").join(printed)
        if printed
        else tr("citizen.result.nothing_printed")
    ]
    if not result.receipt_printed:
        lines.append(tr("citizen.next.collect_receipt"))
    elif result.queue_number:
        lines.append(tr("citizen.next.queue", n=result.queue_number))
    elif result.delivery == "express":
        lines.append(tr("citizen.next.express"))
    elif result.delivery == "window":
        lines.append(tr("citizen.next.window"))
    elif outcome == "approve" and result.certificate_printed:
        lines.append(tr("citizen.next.certificate"))
    elif outcome == "reject":
        lines.append(tr("citizen.next.reject"))
    elif outcome == "approve":
        lines.append(tr("citizen.next.window"))
    else:
        lines.append(tr("citizen.next.manual"))
    lines.append(tr("citizen.result.sms" if sms else "citizen.result.track"))
    return lines


class ConfirmSignScreen(Screen):
    step = Step.CONFIRM_SIGN

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.decision = QLabel()
        self.decision.setObjectName("decisionText")
        self.decision.setWordWrap(True)
        self.decision.setTextFormat(Qt.TextFormat.RichText)
        self.commitment = QLabel()  # the 告知承诺书 the signature makes, as printed on the A4 form
        self.commitment.setObjectName("commitmentText")
        self.commitment.setWordWrap(True)
        self.commitment.setTextFormat(Qt.TextFormat.RichText)
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
        top_layout.addWidget(self.commitment)
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
        sms = self.facade.citizen.phone_known()
        if view.decision is not None:
            self.decision.setText(decision_html(view.decision, view.decision.warnings, sms=sms))
        commitment = self.facade.citizen.commitment()
        self.commitment.setVisible(commitment is not None)
        self.commitment.setText(commitment_html(commitment) if commitment is not None else "")
        self.delivery.load()
        self._update()

    def _update(self) -> None:
        self.submit.setEnabled(not self.pad.is_empty())

    def _submit(self) -> None:
        if self.pad.is_empty():
            self.hint.setText(tr("sign.empty"))
            self.facade.voice.say_key("voice.error.sign_empty")
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
        self._sms = self.facade.citizen.phone_known()
        if view.decision is not None:
            self.outcome.setText(decision_html(view.decision, (), sms=self._sms))
        submitted = view.submitted
        ack = (
            tr("result.acknowledged")
            if submitted is not None and submitted.acknowledged
            else tr("result.queued")
        )
        number = (submitted.case_number or submitted.case_id) if submitted is not None else ""
        self.case.setText(f"{tr('result.case_id')}：{number}<br>{ack}")
        if view.printed is not None:  # shown again (language switched): keep the account
            self.on_printed(view.printed)
        else:
            self.print_status.setText(tr("result.printing"))
            self.done.setEnabled(False)

    _sms = False

    def on_printed(self, result: PrintedView) -> None:
        decision = self.facade.view.decision
        outcome = decision.outcome if decision is not None else None
        self.print_status.setText("<br>".join(printed_lines(result, outcome, self._sms)))
        self.done.setEnabled(True)
