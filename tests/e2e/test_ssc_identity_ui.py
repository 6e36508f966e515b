"""The social security card as an identity carrier, through the UI (offscreen Qt): the whole
terminal on the demo simulators and the sandbox platform, its social security card reader the
pyscard driver on the real pcscd with a vsmartcard-vpcd virtual card (packaging/pcsc).

异地就医备案 accepts the card (``identity.carriers``): the card step reads it on the PC/SC reader,
the face check compares with the platform's reference photo (the card has no readable photo), the
address is typed, and the platform lookup decides the item.  An item that does not accept the card
ignores it."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit

from devices.smartcard.piv_applet import PivApplet
from devices.smartcard.ssc_applet import SocialSecurityCardApplet, SscCardData
from devices.smartcard.testbed import PcscdTestbed
from devices.smartcard.vcard import VirtualCard, _atr
from devices.ssccard.kind import SscCardConfig
from kiosk.config import DevicesConfig, SessionConfig, TerminalConfig
from kiosk.i18n import set_language, tr
from kiosk.session.machine import Step
from terminal.app import KioskUi, make_app
from terminal.demo import DemoDriver
from terminal.runtime import Terminal, build_terminal

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

READER0 = "Virtual PCD 00 00"
SSC_ATR = _atr(b"SSCARD01")
ITEM = "out-of-area-medical-filing"
#: 李建国's social security card (the sandbox has his reference photo and register values).
LI_SSC = SscCardData(
    card_number="D37140002",
    id_number="37140219880721003X",
    name="李建国",
    sex="1",
    nation="01",
    birth_place="371402",
    birth_date=dt.date(1988, 7, 21),
    issue_date=dt.date(2020, 5, 1),
    expiry_date=dt.date(2030, 5, 1),
)


@pytest.fixture
def kiosk(
    tmp_path: Path, pcscd: PcscdTestbed, face_verifier: Any, ocr_engine: Any
) -> Iterator[tuple[Terminal, DemoDriver]]:
    set_language("zh")
    config = TerminalConfig(
        data_dir=str(tmp_path),
        devices=DevicesConfig(ssc_card=SscCardConfig(driver="pcsc", reader=READER0)),
        session=SessionConfig(card_timeout_s=10.0),
    )
    app = make_app()
    terminal = build_terminal(config, tmp_path / "work", face=face_verifier, ocr=ocr_engine)
    ui = KioskUi(app, terminal, fullscreen=False)
    out = tmp_path / "shots"
    out.mkdir()
    cards: list[VirtualCard] = []
    driver = DemoDriver(ui, terminal, out)
    driver.cards = cards  # type: ignore[attr-defined]
    try:
        yield terminal, driver
    finally:
        for card in cards:
            card.remove()
        ui.close()
        terminal.close()
        QApplication.processEvents()
        time.sleep(0.3)  # pcscd sees the card gone before the next test


def _insert(pcscd: PcscdTestbed, driver: DemoDriver, applet: Any) -> None:
    card = VirtualCard(applet, atr=SSC_ATR)
    card.insert(netns=pcscd.netns)
    driver.cards.append(card)  # type: ignore[attr-defined]


def _audit(terminal: Terminal, event: str) -> list[dict[str, object]]:
    return [dict(r.details) for r in terminal.store.audit_trail.records() if r.event == event]


def test_the_social_security_card_identifies_where_the_item_accepts_it(
    kiosk: tuple[Terminal, DemoDriver], pcscd: PcscdTestbed
) -> None:
    terminal, driver = kiosk
    driver.begin(ITEM)
    assert driver.find("sscAccepted").text() == tr("card.ssc_accepted")
    driver.bench.present_face(("biden_live.jpg",))
    _insert(pcscd, driver, SocialSecurityCardApplet(LI_SSC))
    driver.wait_step(Step.FACE_CHECK, timeout=20.0)
    driver.wait_step(Step.FORM, timeout=60.0)
    identity = terminal.session.data.identity
    assert identity.identity_source == "ssc" and identity.face_reference == "platform_reference"
    assert identity.card is not None and identity.card.text.id_number == LI_SSC.id_number
    assert identity.face is not None and identity.face.matched
    read = _audit(terminal, "card_read")[-1]
    assert read["source"] == "ssc" and LI_SSC.id_number not in str(read)

    assert driver.find("field:name", QLineEdit).text() == "李建国"
    address = driver.find("field:address", QLineEdit)
    assert not address.isReadOnly()  # the card carries no address: the citizen types it
    address.setFocus()
    address.insert("山东省德州市德城区新华路26号")
    driver.click("option:filing_kind:resident")
    destination = driver.find("field:destination", QLineEdit)
    destination.setFocus()
    destination.insert("青岛市")
    phone = driver.find("field:phone", QLineEdit)
    phone.setFocus()
    QTest.keyClicks(phone, "13905340000")
    driver.click("formNext")
    driver.wait_step(Step.CONFIRM_SIGN, timeout=60.0)
    decision = terminal.session.data.application.decision
    assert decision is not None and decision.outcome.value == "approve"
    driver.sign()
    driver.click("signSubmit")
    driver.wait_step(Step.RESULT, timeout=60.0)
    case_id = terminal.session.data.case.case_id
    assert case_id
    stored = terminal.store.cases.get(case_id)
    assert stored is not None
    assert json.loads(stored.payload)["identity_evidence"]["identity_source"] == "ssc"


def test_an_item_that_does_not_accept_it_ignores_the_card_and_another_card_is_refused(
    kiosk: tuple[Terminal, DemoDriver], pcscd: PcscdTestbed
) -> None:
    terminal, driver = kiosk
    driver.begin("senior-card")  # no identity.carriers: ID card and e-ID QR code only
    assert not driver.window.findChild(QLabel, "sscAccepted").isVisible()
    assert not terminal.session.card.ssc_accepted
    _insert(pcscd, driver, SocialSecurityCardApplet(LI_SSC))
    time.sleep(2.0)
    QApplication.processEvents()
    assert driver.window.current_step() is Step.READ_CARD
    assert not [r for r in _audit(terminal, "card_read") if r.get("source") == "ssc"]
    driver.cards.pop().remove()  # type: ignore[attr-defined]
    time.sleep(0.5)

    driver.click("cancel")
    driver.click("cancelConfirm")
    driver.wait_step(Step.RATING)
    driver.click("rateSkip")
    driver.wait_step(Step.ATTRACT)
    driver.begin(ITEM)
    _insert(pcscd, driver, PivApplet())  # a staff (PIV) card, not a social security card
    refusal = driver.window.findChild(QLabel, "cardRefused")
    driver.wait_until(lambda: refusal.isVisible(), 10.0, "refusal")
    assert tr("citizen.card.ssc_unreadable", "zh") in driver.find("cardRefused").text()
    assert driver.window.current_step() is Step.READ_CARD
    refused = [r for r in _audit(terminal, "card_read") if str(r.get("refused", "")).startswith("ssc:")]
    assert len(refused) == 1  # once per placement, not on every poll
