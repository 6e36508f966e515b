"""One screen per session step.  Screens are passive: they show what the facade
says and call facade methods; the facade starts the work each step needs."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import bilingual, tr
from kiosk.session.machine import Step
from ui.applicant import applicant_text
from ui.delivery import DeliveryPanel
from ui.facade import KioskFacade
from ui.materials import material_panels
from ui.widgets import BigButton, SignaturePad, Title


def _label(text: str = "", name: str = "subtitle", wrap: bool = True) -> QLabel:
    lab = QLabel(text)
    lab.setObjectName(name)
    lab.setWordWrap(wrap)
    lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return lab


def _clear_layout(layout: QVBoxLayout) -> None:
    """Remove every widget of ``layout`` now (not at the next event loop turn)."""
    while layout.count():
        w = layout.takeAt(0).widget()
        if w is not None:
            w.hide()
            w.setParent(None)  # type: ignore[call-overload]
            w.deleteLater()


class Screen(QWidget):
    step: Step

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__()
        self.facade = facade
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(48, 24, 48, 24)
        self.layout_.setSpacing(18)

    def enter(self) -> None:
        """Called each time the step is shown: refresh from the core."""

    def retranslate(self) -> None:
        """Called when the language changes."""
        self.enter()


class AttractScreen(Screen):
    step = Step.ATTRACT

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.hint = _label(name="hint")
        self.start = BigButton()
        self.start.setObjectName("start")
        self.start.setMinimumHeight(120)
        self.start.clicked.connect(facade.start)
        self.layout_.addStretch(2)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.hint)
        self.layout_.addSpacing(40)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.start, 2)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self.layout_.addStretch(3)

    def enter(self) -> None:
        self.title.setText(tr("attract.welcome"))
        self.hint.setText(tr("attract.hint"))
        self.start.setText(tr("attract.touch"))


class ChooseItemScreen(Screen):
    step = Step.CHOOSE_ITEM

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.search = QLineEdit()
        self.search.setObjectName("itemSearch")
        self.search.textChanged.connect(lambda _t: self._fill())
        body = QHBoxLayout()
        self.list_box = QVBoxLayout()
        self.list_box.setSpacing(12)
        left = QWidget()
        left.setLayout(self.list_box)
        self.detail = QLabel()
        self.detail.setObjectName("card")
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.setMargin(20)
        self.go = BigButton()
        self.go.setObjectName("startItem")
        self.go.clicked.connect(self._go)
        right = QVBoxLayout()
        right.addWidget(self.detail, 1)
        right.addWidget(self.go)
        body.addWidget(left, 1)
        body.addLayout(right, 1)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.search)
        self.layout_.addLayout(body, 1)
        self.selected: str | None = None

    def enter(self) -> None:
        self.title.setText(tr("items.title"))
        self.search.setPlaceholderText(tr("items.search"))
        self.go.setText(tr("items.start"))
        self._fill()

    def _fill(self) -> None:
        _clear_layout(self.list_box)
        svc = self.facade.service
        items = svc.catalogue.search(self.search.text()) if self.search.text() else svc.catalogue.items()
        for pkg in items:
            b = BigButton(bilingual(pkg.name_zh, pkg.name_en), role="item")
            b.setObjectName(f"item:{pkg.id}")
            b.clicked.connect(lambda _c=False, i=pkg.id: self.select(i))
            self.list_box.addWidget(b)
        self.list_box.addStretch(1)
        if self.selected not in {p.id for p in items}:
            self.selected = items[0].id if items else None
        self._show_detail()

    def select(self, item_id: str) -> None:
        self.selected = item_id
        self._show_detail()

    def _show_detail(self) -> None:
        self.go.setEnabled(self.selected is not None)
        if self.selected is None:
            self.detail.setText("")
            return
        pkg = self.facade.service.catalogue.package(self.selected)
        days = pkg.catalogue.time_limit_days
        limit = tr("items.on_the_spot") if days == 0 else tr("items.days", n=days)
        mats = "、".join(bilingual(m.name.zh, m.name.en) for m in pkg.materials) or tr("items.no_materials")
        self.detail.setText(
            f"<h2>{bilingual(pkg.name_zh, pkg.name_en)}</h2>"
            f"<p><b>{tr('items.conditions')}</b>：{'；'.join(bilingual(c.zh, c.en) for c in pkg.catalogue.conditions)}</p>"
            f"<p><b>{tr('items.materials')}</b>：{mats}</p>"
            f"<p><b>{tr('items.time_limit')}</b>：{limit}</p>"
        )

    def _go(self) -> None:
        if self.selected:
            self.facade.choose_item(self.selected)


class ReadCardScreen(Screen):
    step = Step.READ_CARD

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.icon = _label("🪪", name="big")
        self.hint = _label(name="hint")
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.icon)
        self.layout_.addWidget(self.hint)
        # a-platform: identity by e-ID QR code, when a scanner is there
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
        self.qr.setVisible(self.facade.service.card.qr_available)
        self.qr.setEnabled(True)

    def _use_qr(self) -> None:
        self.qr.setEnabled(False)
        self.hint.setText(tr("card.qr_hint"))
        self.facade.identify_by_qr()

    def _not_lifted(self) -> None:
        self.hint.setText(tr("card.lift_and_place"))

    def _qr_refused(self, verification: Any) -> None:
        zh, en = verification.message()
        self.hint.setText(bilingual(zh, en))
        self.qr.setEnabled(True)


class FaceScreen(Screen):
    step = Step.FACE_CHECK

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.preview = QLabel()
        self.preview.setObjectName("facePreview")
        self.preview.setFixedSize(640, 480)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background: #20242c; border-radius: 16px;")
        self.status = _label(name="subtitle")
        # e-face: the liveness challenge asked now ("请眨眨眼") and the live quality feedback
        self.challenge = _label(name="faceChallenge")
        self.challenge.setStyleSheet("font-size: 44px; font-weight: bold; color: #0b5cad;")
        self.quality = _label(name="faceQuality")
        self.quality.setStyleSheet("font-size: 26px; color: #3b4a63;")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.preview)
        row.addStretch(1)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.challenge)
        self.layout_.addLayout(row)
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
        face = self.facade.service.data.face
        self.status.setText(tr("face.not_matched") if face is not None and not face.matched else "")
        if face is not None and face.reason.value == "liveness_failed":
            self.status.setText(tr("face.liveness_failed"))

    def show_prompt(self, prompt: Any) -> None:
        """A :class:`kiosk.identity.face_prompts.FacePrompt`: the challenge big above the preview, the
        quality feedback under it."""
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
        self.detail = _label()
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
        self.detail.setText(tr(self.facade.service.data.staff_assist_reason or "face.staff"))
        self.ok.setText(tr("reason.staff_identity"))


class FormScreen(Screen):
    step = Step.FORM

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.next = BigButton()
        self.next.setObjectName("formNext")
        self.next.clicked.connect(self._submit)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.scroll, 1)
        self.layout_.addWidget(self.next, 0, Qt.AlignmentFlag.AlignRight)
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}

    def enter(self) -> None:
        self.title.setText(tr("form.title"))
        self.next.setText(tr("common.next"))
        holder = QWidget()
        form = QFormLayout(holder)
        form.setVerticalSpacing(14)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.edits.clear()
        self.errors.clear()
        for f in self.facade.form_fields():
            edit = QLineEdit(f.value)
            edit.setObjectName(f"field:{f.key}")
            edit.setReadOnly(f.readonly)
            edit.textEdited.connect(lambda _t: self.facade.touch())
            if f.prefilled:
                edit.setToolTip(tr("form.prefilled"))
            err = QLabel("")
            err.setObjectName("fieldError")
            cell = QVBoxLayout()
            cell.setSpacing(2)
            cell.addWidget(edit)
            cell.addWidget(err)
            label = bilingual(*f.label) + (" *" if f.required else "")
            form.addRow(label, cell)
            self.edits[f.key] = edit
            self.errors[f.key] = err
        self.scroll.setWidget(holder)

    def _submit(self) -> None:
        values = {k: e.text().strip() for k, e in self.edits.items()}
        errors = self.facade.submit_form(values)
        for key, lab in self.errors.items():
            lab.setText(tr(errors[key]) if key in errors else "")
            self.edits[key].setProperty("error", key in errors)
            self.edits[key].style().unpolish(self.edits[key])
            self.edits[key].style().polish(self.edits[key])


class MaterialsScreen(Screen):
    step = Step.MATERIALS

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        inner = QWidget()
        self.body = QVBoxLayout(inner)
        self.body.setSpacing(16)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        self.pending = _label(name="hint")
        self.pending.setObjectName("materialsPending")
        self.next = BigButton()
        self.next.setObjectName("materialsNext")
        self.next.clicked.connect(facade.finish_materials)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(scroll, 1)
        self.layout_.addWidget(self.pending)
        self.layout_.addWidget(self.next, 0, Qt.AlignmentFlag.AlignRight)
        self._offers: tuple[str, dict[str, Any]] = ("", {})  # (session id, type -> e-licences)
        facade.material.connect(lambda _m: self.enter())
        facade.elicences.connect(self._on_elicences)

    def _on_elicences(self, session_id: str, offers: dict[str, Any]) -> None:
        self._offers = (session_id, offers)
        if offers and self.isVisible():
            self.enter()

    def enter(self) -> None:
        self.title.setText(tr("materials.title"))
        self.next.setText(tr("common.next"))
        _clear_layout(self.body)
        svc = self.facade.service
        if svc.data.item_id is None:
            return
        pkg = svc.catalogue.package(svc.data.item_id)
        offers = self._offers[1] if self._offers[0] == svc.data.session_id else {}
        panels, complete = material_panels(self.facade, pkg.materials, svc.data.materials, offers)
        for panel in panels:
            self.body.addWidget(panel)
        self.body.addStretch(1)
        self.pending.setText("" if complete or not svc.data.materials else tr("materials.pending"))
        self.next.setEnabled(complete)


class BusyScreen(Screen):
    """Review and submit: the terminal works, the citizen waits."""

    def __init__(self, facade: KioskFacade, step: Step, key: str) -> None:
        super().__init__(facade)
        self.step = step
        self.key = key
        self.title = Title()
        self.detail = _label(name="big")
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.detail)
        self.layout_.addStretch(2)

    def enter(self) -> None:
        self.title.setText(tr(f"step.{self.step.value}"))
        self.detail.setText(tr(self.key))


def _decision_html(decision: Any, warnings: list[Any]) -> str:
    outcome = decision.outcome.value
    colour = {"approve": "#1e8449", "reject": "#c0392b", "manual": "#b9770e"}[outcome]
    parts = [
        f'<p style="font-size:44px; font-weight:bold; color:{colour}">{tr("outcome." + outcome)}</p>',
        f"<p>{tr('outcome.' + outcome + '.detail')}</p>",
    ]
    reasons = [
        bilingual(zh, en) for zh, en in zip(decision.reason_texts_zh, decision.reason_texts_en, strict=False)
    ]
    if reasons:
        parts.append("<ul>" + "".join(f"<li>{r}</li>" for r in reasons) + "</ul>")
    for hit in warnings:
        if hit.matched:
            parts.append(
                f'<p style="background:#fff4e0; padding:8px"><b>{tr("review.warning_title")}</b>：'
                f"{bilingual(hit.description.zh, hit.description.en)}<br>"
                f"{bilingual(hit.what_follows.zh, hit.what_follows.en)}<br>"
                f"{bilingual(hit.whom_to_ask.zh, hit.whom_to_ask.en)}</p>"
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
        self.applicant = _label(name="subtitle")  # c-idcard: who applies, with which document
        self.applicant.setTextFormat(Qt.TextFormat.PlainText)
        self.hint = _label(name="hint")
        self.delivery = DeliveryPanel(facade)  # h-outputs: how the result reaches the citizen
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
        row = QHBoxLayout()
        row.addWidget(self.back)
        row.addWidget(self.clear)
        row.addStretch(1)
        row.addWidget(self.submit)
        # h-outputs: decision and delivery choice scroll when the express form needs the room
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
        self.layout_.addLayout(row)

    def enter(self) -> None:
        self.title.setText(tr("sign.title"))
        self.hint.setText(tr("sign.hint"))
        self.clear.setText(tr("sign.clear"))
        self.back.setText(tr("common.back"))
        self.submit.setText(tr("sign.submit"))
        data = self.facade.service.data
        self.applicant.setText(applicant_text(data.card))
        if data.decision is not None:
            self.decision.setText(_decision_html(data.decision, data.warnings))
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
        self.case = _label(name="subtitle")
        self.print_status = _label(name="subtitle")
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
        data = self.facade.service.data
        self.title.setText(tr("result.title"))
        self.done.setText(tr("common.done"))
        if data.decision is not None:
            self.outcome.setText(_decision_html(data.decision, []))
        ack = tr("result.acknowledged") if data.acknowledged else tr("result.queued")
        self.case.setText(f"{tr('result.case_id')}：{data.case_id}<br>{ack}")
        self.print_status.setText(tr("result.printing"))
        self.done.setEnabled(False)

    def on_printed(self, result: Any) -> None:
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


class DeviceProblemScreen(Screen):
    step = Step.DEVICE_PROBLEM

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.detail = _label()
        self.action = _label(name="hint")
        self.retry = BigButton()
        self.retry.setObjectName("problemRetry")
        self.retry.clicked.connect(facade.retry)
        self.manual = BigButton(role="secondary")
        self.manual.setObjectName("problemManual")
        self.manual.clicked.connect(facade.continue_to_manual)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.manual)
        row.addWidget(self.retry)
        row.addStretch(1)
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.detail)
        self.layout_.addWidget(self.action)
        self.layout_.addLayout(row)
        self.layout_.addStretch(2)

    def enter(self) -> None:
        problem = self.facade.service.data.problem
        self.title.setText(tr("problem.title"))
        self.retry.setText(tr("common.retry"))
        self.manual.setText(tr("problem.to_manual"))
        if problem is None:
            return
        self.detail.setText(tr(problem.detail_key))
        self.action.setText(tr(f"action.{problem.action.value}"))
        self.retry.setVisible(problem.retry_step is not None)
        self.manual.setVisible(problem.allow_manual)


class OutOfServiceScreen(Screen):
    step = Step.OUT_OF_SERVICE

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.detail = _label()
        self.action = _label(name="hint")
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.detail)
        self.layout_.addWidget(self.action)
        self.layout_.addStretch(2)

    def enter(self) -> None:
        problem = self.facade.service.data.problem
        self.title.setText(tr("oos.title"))
        self.detail.setText(tr("oos.detail"))
        if problem is not None:
            self.action.setText(f"{tr(problem.title_key)}：{tr(f'action.{problem.action.value}')}")


def all_screens(facade: KioskFacade) -> list[Screen]:
    from ui.maintenance import MaintenanceScreen  # d-maint; imports this module

    return [
        AttractScreen(facade),
        ChooseItemScreen(facade),
        ReadCardScreen(facade),
        FaceScreen(facade),
        StaffAssistScreen(facade),
        FormScreen(facade),
        MaterialsScreen(facade),
        BusyScreen(facade, Step.REVIEW, "review.running"),
        ConfirmSignScreen(facade),
        BusyScreen(facade, Step.SUBMIT, "submit.running"),
        ResultScreen(facade),
        RatingScreen(facade),
        DeviceProblemScreen(facade),
        OutOfServiceScreen(facade),
        MaintenanceScreen(facade),
    ]
