"""A foreigner's permanent residence card through the whole terminal: read over the real pty
from the GA/T 467 simulator, face check against its photo, the form prefilled from it (the
missing address left for the citizen), the confirm screen naming the holder in English, and
the case on the sandbox platform recording the document kind."""

from __future__ import annotations

import json
import logging

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QLineEdit

from devices.interfaces import DocumentKind, ForeignerIdCardText
from kiosk.session.machine import Step
from terminal.runtime import DemoCitizen
from tests.conftest import Factory
from ui.screens import ConfirmSignScreen
from ui.widgets import SignaturePad

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# the foreigner card's photo is the business citizen's (biden_card.jpg): the same live image matches
FOREIGNER = DemoCitizen("foreigner", "resident-pension", ("biden_live.jpg",))
ADDRESS = "山东省德州市德城区湖滨北路1号"


def test_foreigner_card_reaches_form_review_and_case(
    kiosk: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    terminal, ui, driver = kiosk()
    caplog.set_level(logging.DEBUG)
    driver.begin(FOREIGNER.item_id)
    driver.present(FOREIGNER)
    driver.wait_step(Step.FACE_CHECK, Step.FORM, timeout=15)
    assert driver.wait_step(Step.FORM, Step.STAFF_ASSIST, Step.DEVICE_PROBLEM, timeout=60) is Step.FORM

    data = terminal.session.data
    assert isinstance(data.identity.card.text, ForeignerIdCardText)
    assert data.identity.face is not None and data.identity.face.matched  # against the card's own photo block
    name = driver.find("field:name", QLineEdit)
    number = driver.find("field:id_number", QLineEdit)
    address = driver.find("field:address", QLineEdit)
    assert name.text() == "史密斯" and name.isReadOnly()
    assert number.text() == "CAN371480010112" and number.isReadOnly()
    assert address.text() == "" and not address.isReadOnly()  # no address on this card: typed in
    known = terminal.session.form.known_values()
    assert known["idcard.nationality"] == "CAN"
    assert known["idcard.english_name"] == "SMITH, JOHN ALEXANDER"

    address.setFocus()
    address.insert(ADDRESS)  # what an input method commits
    driver.click("formNext")
    driver.wait_step(Step.CONFIRM_SIGN, timeout=60)
    decision = data.application.decision
    assert decision is not None and decision.outcome.value == "approve", decision.reasons
    confirm = ui.window.findChild(ConfirmSignScreen)
    assert confirm is not None
    shown = confirm.applicant.text()
    assert "SMITH, JOHN ALEXANDER" in shown and "CAN" in shown and "外国人永久居留身份证" in shown

    pad = driver.find("signaturePad", SignaturePad)
    pad.add_stroke([QPoint(60 + 12 * i, 120 + (25 if i % 2 else -25)) for i in range(30)])
    driver.click("signSubmit")
    driver.wait_step(Step.RESULT, timeout=30)
    case_id = data.case.case_id
    driver.wait_until(
        lambda: any(c["case_id"] == case_id for c in terminal.client.sandbox.received_cases()),
        20.0,
        "case upload",
    )
    payload = json.loads(
        terminal.client.sandbox.opened_case(case_id)
    )  # the platform's reading of the sealed case
    applicant = payload["applicant"]
    assert applicant["document_kind"] == DocumentKind.FOREIGNER_PERMANENT_RESIDENCE.value
    assert applicant["nationality"] == "CAN"
    assert applicant["english_name"] == "SMITH, JOHN ALEXANDER"
    assert applicant["id_number"] == "CAN371480010112" and applicant["name"] == "史密斯"
    assert payload["form"]["address"] == ADDRESS
    assert payload["decision"]["outcome"] == "approve"

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "tx find_card" in logged and "rx read_text_photo" in logged  # the reads were logged...
    for secret in ("SMITH", "史密斯", "CAN371480010112", ADDRESS):
        assert secret not in logged  # ...without the holder's data
