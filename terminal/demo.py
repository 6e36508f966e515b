"""Scripted citizen sessions through the real UI on the simulators (``make demo``).

Runs headless (Qt offscreen), clicks the same buttons a citizen would, plays
the citizen's card, face and documents on the simulators, and writes into the
output directory: one PNG per screen visited, each receipt as decoded from the
ESC/POS bytes (text + PNG), the certificate's first page as PNG, and
``summary.json``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QRegularExpression, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPushButton, QWidget

from kiosk import logsetup
from kiosk.cases.platform_client import PlatformRejected
from kiosk.config import TerminalConfig
from kiosk.session.machine import Step
from offline_cache.store import OutboxState
from terminal import demo_touch
from terminal.app import KioskUi, make_app
from terminal.catalogue_demo import catalogue_shots, tap_item
from terminal.demo_applicants import run_applicants_demo
from terminal.demo_assist import run_assist_demo
from terminal.demo_bundle import run_life_event
from terminal.demo_consult import run_consult_demo
from terminal.demo_hall import run_hall_demo
from terminal.demo_profile import DEMO_CITIZENS, DemoCitizen
from terminal.runtime import Terminal, build_terminal
from ui.widgets import SignaturePad

log = logging.getLogger(__name__)


class DemoError(Exception):
    """The scripted session did not reach where it should have."""


@dataclass
class SessionRecord:
    item: str
    citizen: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    decision: str = ""
    reasons: list[str] = field(default_factory=list)
    case_id: str = ""
    acknowledged: bool = False
    screenshots: list[str] = field(default_factory=list)
    receipt_text: str = ""
    certificate: str | None = None
    receipt_printed: bool = False
    result_text: str = ""
    delivery: str | None = None  # kiosk.outputs.delivery.DeliveryMethod value; None: the item offers none
    queue_number: str | None = None
    slips: list[str] = field(default_factory=list)  # decoded texts of the pick-up slip / queue ticket
    commitment: str | None = None  # exported commitment form PDF
    case_number: str = ""  # the short readable number on screen and receipt (case_id: the UUID)
    keyboard_typed_chars: int = 0  # form text typed by tapping the on-screen keyboard's keys

    def summary(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "citizen": self.citizen,
            "steps": self.steps,
            "decision": self.decision,
            "reasons": self.reasons,
            "case_id": self.case_id,
            "acknowledged": self.acknowledged,
            "receipt_text": self.receipt_text,
            "certificate": self.certificate,
            "screenshots": self.screenshots,
            "delivery": self.delivery,
            "queue_number": self.queue_number,
            "slips": self.slips,
            "commitment": self.commitment,
            "case_number": self.case_number,
            "keyboard_typed_chars": self.keyboard_typed_chars,
        }


class DemoDriver:
    """Drives a :class:`KioskUi` like a citizen at the screen."""

    def __init__(self, ui: KioskUi, terminal: Terminal, out: Path) -> None:
        if terminal.bench is None:
            raise DemoError("the demo needs the demo profile (simulated devices)")
        self.ui = ui
        self.terminal = terminal
        self.bench = terminal.bench
        self.out = out
        self.window = ui.window
        self.facade = ui.facade
        self._entered: list[tuple[Step, float]] = []
        self._decision: Any = None
        self._submitted: Any = None
        self._printed: Any = None
        self.facade.stepChanged.connect(lambda s: self._entered.append((s, time.perf_counter())))
        self.facade.decision.connect(lambda d: setattr(self, "_decision", d))
        self.facade.submitted.connect(lambda r: setattr(self, "_submitted", r))
        self.facade.printed.connect(lambda r: setattr(self, "_printed", r))
        self._refused: Any = None  # the card step refused the card (expired, ...): no case
        self.facade.citizen.cardRefused.connect(lambda r: setattr(self, "_refused", r))

    # ------------------------------------------------------------------ helpers
    def wait_until(self, cond: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            QApplication.processEvents()
            if cond():
                return
            time.sleep(0.01)
        QApplication.processEvents()
        if not cond():
            raise DemoError(f"timed out waiting for {what} (step {self.window.current_step().value})")

    def wait_step(self, *steps: Step, timeout: float = 30.0) -> Step:
        self.wait_until(
            lambda: self.window.current_step() in steps, timeout, "/".join(s.value for s in steps)
        )
        return self.window.current_step()

    def find(self, name: str, cls: type[QWidget] = QWidget) -> Any:
        QApplication.processEvents()  # widgets added to a shown screen appear on the next loop turn
        w = self.window.findChild(cls, name)
        if w is None or not w.isVisible():
            raise DemoError(f"no visible widget {name!r} on {self.window.current_step().value}")
        return w

    def click(self, name: str) -> None:
        def ready() -> bool:  # a screen that rebuilt shows its new buttons on the next loop turn
            w = self.window.findChild(QPushButton, name)
            return w is not None and w.isVisible() and w.isEnabled()

        if self.window.findChild(QPushButton, name) is None:
            self.find(name, QPushButton)  # fails at once, naming the step, when there is no such button
        self.wait_until(ready, 10.0, f"{name} enabled")
        button = self.window.findChild(QPushButton, name)
        demo_touch.scroll_into_view(button)  # a finger cannot tap what is scrolled away
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)
        QApplication.processEvents()

    def shot(self, rec: SessionRecord, label: str) -> None:
        QApplication.processEvents()
        n = len(rec.screenshots) + 1
        name = f"{rec.citizen}-{n:02d}-{label}.png"
        self.window.grab().save(str(self.out / name))
        rec.screenshots.append(name)

    def begin(self, item_id: str) -> None:
        """From the attract screen to the ID card step of ``item_id``, as a citizen taps it."""
        self.click("start")
        self.wait_step(Step.CHOOSE_ITEM)
        tap_item(self, item_id)
        self.click("startItem")
        self.wait_step(Step.READ_CARD)

    def present(self, citizen: DemoCitizen) -> None:
        """The citizen stands in front of the camera and puts the card on the reader."""
        self.bench.present_face(citizen.live_images)
        self.bench.idcard.insert(citizen.key)

    def fill_form(self, citizen: DemoCitizen) -> int:
        """Type what the citizen types into the empty, editable form fields: on the on-screen
        keyboard's keys where the text's spelling is known; returns the characters so typed."""
        typed = 0
        for key, value in citizen.form.items():
            edit = self.find(f"field:{key}", QLineEdit)
            if not edit.isReadOnly() and not edit.text():
                by_keys = demo_touch.type_on_keyboard(self.ui, edit, value)
                typed += by_keys
                if by_keys:
                    continue
                edit.setFocus()
                if value.isascii():
                    QTest.keyClicks(edit, value)
                else:  # QTest cannot synthesise CJK key events; an input method commits text like this
                    edit.insert(value)
        return typed

    def capture_page(self, material: str, timeout: float = 90.0) -> None:
        """Tap capture / add a page and wait until the new page's thumbnail is on screen."""
        n = len(self.window.findChildren(QLabel, QRegularExpression(f"^thumb:{material}:")))
        self.click(f"capture:{material}")
        self.wait_until(
            lambda: self.window.findChild(QLabel, f"thumb:{material}:{n}") is not None, timeout, "OCR result"
        )

    def confirm_material(self, material: str) -> None:
        """Confirm the pages, then every field the terminal asks about, keeping what it read."""
        self.click(f"confirmPages:{material}")
        self.wait_until(
            lambda: self.window.findChild(QWidget, f"pagesConfirmed:{material}") is not None, 10.0, "pages"
        )
        while edits := self.window.findChildren(QLineEdit, QRegularExpression(f"^fieldEdit:{material}:")):
            key = edits[0].objectName().rsplit(":", 1)[1]
            self.click(f"confirmField:{material}:{key}")
            self.wait_until(
                lambda k=key: self.window.findChild(QLineEdit, f"fieldEdit:{material}:{k}") is None,
                10.0,
                f"{key} confirmed",
            )

    # ------------------------------------------------------------------ one citizen
    def choose_delivery(self, method: str, express: dict[str, str] | None = None) -> None:
        """On the confirm/sign screen: tap a delivery method and type the express fields given."""
        self.click(f"delivery:{method}")
        for key, value in (express or {}).items():
            edit = self.find(f"express:{key}", QLineEdit)
            edit.clear()
            edit.setFocus()
            if value.isascii():
                QTest.keyClicks(edit, value)
            else:  # as an input method commits CJK text
                edit.insert(value)

    def sign(self) -> None:
        pad = self.find("signaturePad", SignaturePad)
        pad.add_stroke([QPoint(60 + 12 * i, 120 + (25 if i % 2 else -25)) for i in range(30)])

    def run_citizen(
        self,
        citizen: DemoCitizen,
        hooks: dict[str, Callable[[], None]] | None = None,
        *,
        delivery: str | None = None,
        express: dict[str, str] | None = None,
    ) -> SessionRecord:
        """One whole session.  ``hooks`` run at named points ("before_submit") for fault injection.

        ``delivery`` taps that delivery method on the confirm screen (else the item's default
        stays selected); ``express`` types the express address fields."""
        hooks = hooks or {}
        rec = SessionRecord(item=citizen.item_id, citizen=citizen.key)
        self._entered.clear()
        self._decision = self._submitted = self._printed = self._refused = None
        receipts_before = len(self.bench.printer.receipts)
        self.wait_step(Step.ATTRACT)
        self._entered.append((Step.ATTRACT, time.perf_counter()))
        self.shot(rec, "attract")
        self.click("start")
        self.wait_step(Step.CHOOSE_ITEM)
        tap_item(self, citizen.item_id)
        self.shot(rec, "choose_item")
        self.click("startItem")
        self.wait_step(Step.READ_CARD)
        self.shot(rec, "read_card")

        self.present(citizen)
        self.wait_until(
            lambda: self._refused is not None or self.window.current_step() is not Step.READ_CARD, 30, "card"
        )
        if self._refused is not None:
            return self._card_refused(rec)
        self.wait_step(Step.FACE_CHECK)
        self.wait_until(lambda: not self.find("facePreview").pixmap().isNull(), 10.0, "camera preview")
        self.shot(rec, "face_check")
        step = self.wait_step(Step.FORM, Step.STAFF_ASSIST, Step.DEVICE_PROBLEM, timeout=60.0)
        if step is not Step.FORM:
            self.shot(rec, step.value)
            raise DemoError(f"face check ended in {step.value}")

        rec.keyboard_typed_chars = self.fill_form(citizen)
        self.shot(rec, "form")
        self.click("formNext")
        step = self.wait_step(Step.MATERIALS, Step.REVIEW, Step.CONFIRM_SIGN)
        if step is Step.MATERIALS:
            if citizen.lease is not None:
                self.bench.place_lease(**citizen.lease)
            self.capture_page("lease")
            self.shot(rec, "materials")
            self.confirm_material("lease")
            self.click("materialsNext")
        self.wait_step(Step.CONFIRM_SIGN, timeout=150.0)
        if delivery is not None:
            self.choose_delivery(delivery, express)
        self.sign()
        self.shot(rec, "confirm_sign")
        if "before_submit" in hooks:
            hooks["before_submit"]()
        self.click("signSubmit")
        self.wait_step(Step.RESULT, Step.DEVICE_PROBLEM, Step.OUT_OF_SERVICE)
        self.wait_until(lambda: self._printed is not None, 30.0, "printing")
        self.shot(rec, "result")
        rec.result_text = self.find("resultPrintStatus").text()
        self.bench.idcard.remove()
        self.click("resultDone")
        self.wait_step(Step.RATING)
        self.shot(rec, "rating")
        self.click("rate:very_good")
        self.wait_step(Step.ATTRACT)
        self._entered.append((Step.ATTRACT, time.perf_counter()))

        rec.steps = [
            {"step": s.value, "ms": round((t2 - t1) * 1000.0, 1)}
            for (s, t1), (_s2, t2) in zip(self._entered, self._entered[1:], strict=False)
        ]
        if self._decision is not None:
            rec.decision = self._decision.outcome
            rec.reasons = [en for _zh, en in self._decision.reasons]
        if self._submitted is not None:
            rec.case_id, rec.case_number = self._submitted.case_id, self._submitted.case_number
        rec.receipt_printed = bool(self._printed is not None and self._printed.receipt_printed)
        printed = self._printed
        if printed is not None:
            rec.delivery = printed.delivery
            rec.queue_number = printed.queue_number
        if rec.receipt_printed:
            slips = len(printed.slips_printed) if printed is not None else 0
            receipts = self.bench.printer.wait_for_receipts(receipts_before + 1 + slips, timeout=10.0)
            receipt = receipts[receipts_before]
            rec.receipt_text = receipt.text
            stem = f"{citizen.key}-receipt"
            (self.out / f"{stem}.txt").write_text(receipt.text, encoding="utf-8")
            (self.out / f"{stem}.png").write_bytes(self.bench.printer.render_png(receipt))
            for n, slip in enumerate(receipts[receipts_before + 1 : receipts_before + 1 + slips], start=1):
                rec.slips.append(slip.text)
                (self.out / f"{citizen.key}-slip{n}.txt").write_text(slip.text, encoding="utf-8")
                (self.out / f"{citizen.key}-slip{n}.png").write_bytes(self.bench.printer.render_png(slip))
        if printed is not None and printed.certificate_job:
            rec.certificate = self._export_pdf(citizen.key, "certificate", printed.certificate_job)
        if printed is not None and printed.commitment_job:
            rec.commitment = self._export_pdf(citizen.key, "commitment", printed.commitment_job)
        return rec

    def _card_refused(self, rec: SessionRecord) -> SessionRecord:
        """The card step refused the card and said what to do: the citizen takes it and cancels."""
        self.shot(rec, "card_refused")
        rec.decision, rec.reasons = "refused_at_card", [self._refused.message[1]]
        rec.result_text = self.find("cardRefused").text()
        self.bench.idcard.remove()
        self.click("cancel")
        self.click("cancelConfirm")
        self.wait_step(Step.RATING)  # the rating is offered after a cancel too
        self.click("rateSkip")
        self.wait_step(Step.ATTRACT)
        self._entered.append((Step.ATTRACT, time.perf_counter()))
        rec.steps = [
            {"step": s.value, "ms": round((t2 - t1) * 1000.0, 1)}
            for (s, t1), (_s2, t2) in zip(self._entered, self._entered[1:], strict=False)
        ]
        return rec

    def _export_pdf(self, key: str, kind: str, job_id: str) -> str | None:
        """Copy the spooled job ``job_id`` (PdfSpoolPrinter names it ``<job id>.pdf``) and render
        its first page as PNG."""
        source = self.bench.spool_dir / f"{job_id}.pdf"
        if not source.is_file():
            return None
        target = self.out / f"{key}-{kind}.pdf"
        shutil.copyfile(source, target)
        if shutil.which("pdftoppm"):
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "80",
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-singlefile",
                    str(target),
                    str(self.out / f"{key}-{kind}"),
                ],
                check=False,
                timeout=60,
            )
        return target.name

    def mark_acknowledged(self, records: list[SessionRecord], timeout: float = 20.0) -> None:
        """Ask the sandbox platform which cases it acknowledged (waiting for the outbox to drain)."""
        wanted = {r.case_id for r in records if r.case_id}
        deadline = time.monotonic() + timeout
        received: set[str] = set()
        while time.monotonic() < deadline:
            received = {c["case_id"] for c in self.terminal.client.sandbox.received_cases()}
            if wanted <= received:
                break
            self.terminal.drainer.kick()
            time.sleep(0.2)
        for r in records:
            r.acknowledged = r.case_id in received


def run_demo(
    out: Path,
    citizens: tuple[DemoCitizen, ...] = DEMO_CITIZENS,
    workdir: Path | None = None,
    config: TerminalConfig | None = None,
    *,
    face: Any = None,
    ocr: Any = None,
    collect_platform: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Run the scripted sessions; returns the summary (also written to ``out/summary.json``)."""
    out.mkdir(parents=True, exist_ok=True)
    owned = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="kiosk-demo-"))
    config = config or TerminalConfig(data_dir=str(workdir))
    app = make_app()
    terminal = build_terminal(config, workdir, face=face, ocr=ocr)
    ui = KioskUi(app, terminal, fullscreen=False)
    ui.window.resize(1280, 800)
    try:
        terminal.warm_up().join(timeout=120)
        driver = DemoDriver(ui, terminal, out)
        records = [driver.run_citizen(c) for c in citizens]
        driver.mark_acknowledged(records)
        summary: dict[str, Any] = {"sessions": [r.summary() for r in records]}
        summary["catalogue"] = catalogue_shots(driver, out)
        summary["consultation"] = run_consult_demo(driver)  # 智能咨询 (terminal/demo_consult.py)
        summary["life_event"] = run_life_event(driver).summary()  # 一件事 (terminal/demo_bundle.py)
        summary["assist"] = run_assist_demo(driver, out)  # 远程帮办 (terminal/demo_assist.py)
        summary["hall"] = run_hall_demo(driver, next((r.case_id for r in records if r.acknowledged), None))
        summary["applicants"] = run_applicants_demo(driver)  # 代办 and 法人 (terminal/demo_applicants.py)
        summary["accessibility"] = demo_touch.accessibility_report(ui, terminal, out)
        if collect_platform is not None:
            collect_platform.extend(_platform_view(terminal))
        (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
        return summary
    finally:
        ui.close()
        terminal.close()
        QApplication.processEvents()
        if owned:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Scripted citizen sessions, headless")
    parser.add_argument("--out", default="demo-out", help="output directory")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    out = Path(args.out)
    logsetup.configure(out / "logs")
    try:
        summary = run_demo(out)
    except DemoError as err:
        print(f"demo failed: {err}", file=sys.stderr)
        return 1
    for s in summary["sessions"]:
        print(
            f"{s['item']:<24} {s['decision']:<8} case {s['case_id']} acknowledged={s['acknowledged']}"
            f" delivery={s['delivery'] or '-'} queue={s['queue_number'] or '-'}"
        )
    print(f"wrote {out}/summary.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())


def _platform_view(terminal: Terminal, timeout: float = 20.0) -> list[dict[str, Any]]:
    """The cases as the sandbox received them, with what the platform read after opening
    the sealed fields (``opened_payload_b64``) and the publicity records it publishes for each
    (``published``), once the outbox's other jobs (publicity, certificate) are delivered."""
    deadline = time.monotonic() + timeout
    while terminal.store.outbox.counts(cases=False)[OutboxState.PENDING] and time.monotonic() < deadline:
        terminal.drainer.kick()
        time.sleep(0.2)
    client = terminal.client
    published = client.published_records()
    cases = client.sandbox.received_cases()
    for c in cases:
        if c.get("encryption"):
            c["opened_payload_b64"] = base64.b64encode(client.sandbox.opened_case(c["case_id"])).decode(
                "ascii"
            )
        c["published"] = [p for p in published if p["record"].get("case_id") == c["case_id"]]
        try:
            c["certificate_sha256"] = hashlib.sha256(client.certificate(c["case_id"])).hexdigest()
        except PlatformRejected:  # 404: no certificate for this case
            c["certificate_sha256"] = None
    return cases
