"""The materials screen as a citizen meets it (offscreen, real terminal, real OCR): pages with
thumbnails, retake and delete, a flagged field corrected next to its crop before the review,
and an e-licence used instead of a scan."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRegularExpression
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QWidget

from kiosk.documents.elicence import ELicence
from kiosk.i18n import set_language
from kiosk.session.machine import Step
from terminal.demo import DemoDriver
from terminal.runtime import DEMO_CITIZENS
from tests.conftest import Factory
from tests.kiosk.lease_pages import LESSEE, PREMISES, lease_page_one, lease_page_two
from tests.kiosk.test_material_capture import MemoryELicences

pytestmark = pytest.mark.slow
BUSINESS = DEMO_CITIZENS[1]


@pytest.fixture(autouse=True)
def chinese() -> None:
    set_language("zh")
    yield
    set_language("zh")


def _to_materials(driver: DemoDriver) -> None:
    driver.begin(BUSINESS.item_id)
    driver.present(BUSINESS)
    driver.wait_step(Step.FORM, timeout=60)
    driver.fill_form(BUSINESS)
    driver.click("formNext")
    driver.wait_step(Step.MATERIALS)


def _thumbs(driver: DemoDriver) -> list[QLabel]:
    found = driver.window.findChildren(QLabel, QRegularExpression("^thumb:lease:"))
    return sorted(found, key=lambda w: w.objectName())


def test_two_pages_retake_delete_and_a_flagged_field_corrected_on_screen(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk()
    assert terminal.bench is not None
    bench = terminal.bench
    _to_materials(driver)
    nxt = driver.find("materialsNext", QPushButton)
    assert not nxt.isEnabled()

    bench.place_document(lease_page_one())
    driver.capture_page("lease")
    bench.place_document(lease_page_two("2025年1月1日至2027年13月31日"))
    driver.capture_page("lease")  # "add a page"
    assert [t.objectName() for t in _thumbs(driver)] == ["thumb:lease:0", "thumb:lease:1"]
    assert all(not t.pixmap().isNull() and t.pixmap().height() <= 200 for t in _thumbs(driver))

    # the impossible date is asked about, next to the crop of where it was read
    edit = driver.find("fieldEdit:lease:term_end", QLineEdit)
    assert edit.text() == "2027-13-31"
    crop = driver.find("crop:lease:term_end", QLabel)
    assert not crop.pixmap().isNull() and crop.pixmap().width() > 3 * crop.pixmap().height()
    assert "待确认" in driver.find("extracted:lease", QLabel).text()
    assert not nxt.isEnabled()
    assert driver.find("materialsPending", QLabel).text()

    # retake page 2 with a good one: nothing to ask any more; delete it: the term is missing again
    bench.place_document(lease_page_two())
    driver.click("retake:lease:1")
    driver.wait_until(
        lambda: driver.window.findChild(QLineEdit, "fieldEdit:lease:term_end") is None,
        90.0,
        "retaken page read",
    )
    assert len(_thumbs(driver)) == 2
    driver.click("delete:lease:1")
    assert len(_thumbs(driver)) == 1
    assert driver.find("fieldEdit:lease:term_end", QLineEdit).text() == ""

    # the page with the bad date again, and the citizen corrects it
    bench.place_document(lease_page_two("2025年1月1日至2027年13月31日"))
    driver.capture_page("lease")
    edit = driver.find("fieldEdit:lease:term_end", QLineEdit)
    edit.setText("2027年14月1日")
    driver.click("confirmField:lease:term_end")
    assert driver.find("fieldEdit:lease:term_end", QLineEdit) is edit  # refused in place
    assert edit.parent().findChild(QLabel, "fieldError").text() == "格式不正确"
    edit.setText("2027年12月31日")
    driver.click("confirmField:lease:term_end")
    assert driver.window.findChild(QLineEdit, "fieldEdit:lease:term_end") is None
    summary = driver.find("extracted:lease", QLabel).text()
    assert "2027-12-31" in summary and "已更正" in summary
    assert not nxt.isEnabled()  # the pages are not confirmed yet
    driver.click("confirmPages:lease")
    assert nxt.isEnabled() and driver.find("materialsPending", QLabel).text() == ""

    driver.click("materialsNext")
    driver.wait_step(Step.CONFIRM_SIGN, timeout=120)
    lease = terminal.session.data.application.materials["lease"]
    assert lease.values() == {"lessee": LESSEE, "premises_address": PREMISES, "term_end": "2027-12-31"}
    assert [(c.field, c.original, c.corrected) for c in lease.corrections] == [
        ("term_end", "2027-13-31", "2027-12-31")
    ]
    ui.window.grab().save(str(driver.out / "materials-after.png"))


def test_e_licence_offered_before_the_scan_and_used(kiosk: Factory) -> None:
    terminal, _ui, driver = kiosk()
    licence = ELicence(
        "EL-LEASE-0001",
        "lease",
        "房屋租赁登记备案证明",
        "Registered house lease",
        "2025-01-05",
        {"lessee": LESSEE, "premises_address": PREMISES, "term_end": "2027-12-31"},
    )
    terminal.session.materials.elicences = MemoryELicences({"37140219880721003X": [licence]})
    _to_materials(driver)
    driver.wait_until(
        lambda: driver.window.findChild(QPushButton, "elicence:lease:EL-LEASE-0001") is not None,
        10.0,
        "e-licence offer",
    )
    offer = driver.find("elicence:lease:EL-LEASE-0001", QPushButton)
    assert offer.text().startswith("使用电子证照") and "房屋租赁登记备案证明" in offer.text()
    assert driver.find("capture:lease", QPushButton).text() == "扫描纸质材料"
    driver.click("elicence:lease:EL-LEASE-0001")
    driver.wait_until(
        lambda: driver.window.findChild(QWidget, "elicenceUsed:lease") is not None, 10.0, "e-licence used"
    )
    assert driver.window.findChildren(QLabel, QRegularExpression("^thumb:lease:")) == []
    assert driver.window.findChildren(QLineEdit, QRegularExpression("^fieldEdit:")) == []
    driver.click("materialsNext")
    driver.wait_step(Step.CONFIRM_SIGN, timeout=120)
    lease = terminal.session.data.application.materials["lease"]
    assert lease.licence_id == "EL-LEASE-0001" and lease.pages == ()
    assert all(c.match for c in lease.checks)


def test_platform_e_licence_offered_from_the_sandbox(kiosk: Factory) -> None:
    """The terminal's own source: signed licences from the sandbox platform, verified here."""
    terminal, _ui, driver = kiosk()
    assert terminal.session.materials.elicences is not None
    _to_materials(driver)
    name = "elicence:lease:LF-371402-2025-000318"
    driver.wait_until(lambda: driver.window.findChild(QPushButton, name) is not None, 20.0, "offer")
    driver.click(name)
    driver.wait_until(
        lambda: driver.window.findChild(QWidget, "elicenceUsed:lease") is not None, 10.0, "e-licence used"
    )
    lease = terminal.session.data.application.materials["lease"]
    assert lease.licence_id == "LF-371402-2025-000318" and lease.pages == ()


def test_no_offer_without_an_e_licence_source(kiosk: Factory) -> None:
    terminal, _ui, driver = kiosk()
    terminal.session.materials.elicences = None
    _to_materials(driver)
    driver.wait_until(lambda: driver.facade.bg.active() == 0, 10.0, "lookup done")
    assert driver.window.findChildren(QPushButton, QRegularExpression("^elicence:")) == []
    assert driver.find("capture:lease", QPushButton).text() == "拍摄材料"
