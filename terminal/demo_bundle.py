"""The demo's life event applied for as one application (一件事一次办): 张桂兰 retires and applies
for 退休一件事 (her pension, her housing fund and the senior citizen card) in one session: the
card and face once, one form, the bank card once, one signature, one receipt listing each item with
its decision; the platform files one case per item under one application id."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QApplication

from kiosk.session.machine import Step
from terminal.demo_profile import DemoCitizen
from ui.screens.catalogue import CatalogueScreen

if TYPE_CHECKING:
    from terminal.demo import DemoDriver

#: The retiring citizen: the senior's card and face, what she types, the bank card she lays down.
RETIREE = DemoCitizen(
    "senior",
    "retirement",
    ("obama_live1.jpg", "obama_live2.jpg"),
    form={"bank_account": "6228480402564890018", "phone": "13905340001"},
)


@dataclass
class BundleRecord:
    life_event: str
    items: list[str] = field(default_factory=list)
    decision: str = ""
    reasons: list[str] = field(default_factory=list)
    case_id: str = ""
    receipt_text: str = ""
    screenshots: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return dict(self.__dict__)


def run_life_event(
    driver: DemoDriver, event_id: str = "retirement", citizen: DemoCitizen = RETIREE
) -> BundleRecord:
    """From the welcome screen: the life event chosen in the catalogue's life-event tab, applied for
    to the end; the receipt decoded from the printer simulator's bytes."""
    rec = BundleRecord(event_id)

    def shot(what: str) -> None:
        QApplication.processEvents()
        name = f"life-event-{event_id}-{len(rec.screenshots) + 1:02d}-{what}.png"
        driver.window.grab().save(str(driver.out / name))
        rec.screenshots.append(name)
        rec.steps.append(driver.window.current_step().value)

    printer = driver.bench.printer
    receipts_before = len(printer.receipts)
    driver.wait_step(Step.ATTRACT)
    driver.click("start")
    driver.wait_step(Step.CHOOSE_ITEM)
    screen = driver.window.findChild(CatalogueScreen)
    if screen is None:
        raise RuntimeError("the window has no catalogue screen")
    screen.show_tab("life_event", event_id)
    shot("choose")
    driver.click("startLifeEvent")
    driver.wait_step(Step.READ_CARD)
    bundle = driver.terminal.session.data.bundle
    if bundle is None:
        raise RuntimeError("the life event did not start as one application")
    rec.items = list(bundle.item_ids)
    driver.present(citizen)
    step = driver.wait_step(Step.FORM, Step.STAFF_ASSIST, Step.DEVICE_PROBLEM, timeout=90.0)
    if step is not Step.FORM:
        shot(step.value)
        raise RuntimeError(f"identity ended in {step.value}")
    driver.fill_form(citizen)
    shot("form")
    driver.click("formNext")
    if driver.wait_step(Step.MATERIALS, Step.REVIEW, Step.CONFIRM_SIGN) is Step.MATERIALS:
        for material in bundle.materials:
            driver.capture_page(material.type)
            driver.confirm_material(material.type)
        shot("materials")
        driver.click("materialsNext")
    driver.wait_step(Step.CONFIRM_SIGN, timeout=150.0)
    driver.sign()
    shot("confirm_sign")
    driver.click("signSubmit")
    driver.wait_step(Step.RESULT, timeout=60.0)
    receipts = printer.wait_for_receipts(receipts_before + 1, timeout=30.0)
    shot("result")
    receipt = receipts[receipts_before]
    rec.receipt_text = receipt.text
    (driver.out / f"life-event-{event_id}-receipt.txt").write_text(receipt.text, encoding="utf-8")
    (driver.out / f"life-event-{event_id}-receipt.png").write_bytes(printer.render_png(receipt))
    data = driver.terminal.session.data
    decision = data.application.require_decision()
    rec.decision, rec.reasons = decision.outcome.value, [t.en for t in decision.reason_texts]
    rec.case_id = data.case.case_id or ""
    driver.bench.idcard.remove()
    driver.click("resultDone")
    driver.wait_step(Step.RATING)
    driver.click("rate:very_good")
    driver.wait_step(Step.ATTRACT)
    return rec
