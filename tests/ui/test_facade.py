"""The facade alone (Qt offscreen, no window, no terminal): a session coordinator over simulated
devices and a real store, the facade's view-models and signals.  What one citizen's session
showed never reaches the next one's view, and a device problem reaches the screens as a view."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from devices.camera.simulator import SimulatedCamera, document_camera, document_source, media_path
from devices.docprinter.spool import PdfSpoolPrinter
from devices.idcard.driver import SerialIdCardReader
from devices.idcard.photo import SimulatorPhotoDecoder
from devices.idcard.simulator import IdCardSimulator
from devices.printer.escpos_printer import EscPosReceiptPrinter
from devices.printer.simulator import ReceiptPrinterSimulator
from kiosk.cases.platform_client import PlatformClient
from kiosk.config import TerminalConfig
from kiosk.documents.ocr import RapidOcrEngine
from kiosk.identity.face import FaceVerifier
from kiosk.session.assembly import build_session
from kiosk.session.values import Devices
from offline_cache.store import Store
from terminal.app import make_app
from tests.kiosk.steps.helpers import stock
from tests.qt_wait import wait_for
from ui.facade import KioskFacade
from ui.viewmodels import ApplicantView, ItemView, SessionView, Step


@dataclasses.dataclass
class Rig:
    facade: KioskFacade
    idcard: IdCardSimulator


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    make_app()
    sim = IdCardSimulator().start()
    printer = ReceiptPrinterSimulator().start()
    store = Store(tmp_path / "terminal.db")
    stock(store)
    page = document_source(np.full((2048, 1536, 3), 250, np.uint8), tmp_path / "doc", "page.png")
    devices = Devices(
        idcard=SerialIdCardReader(sim.port, 115200, poll_interval=0.05),
        camera=SimulatedCamera(tmp_path / "camera", [media_path("obama_live1.jpg")]).camera(),
        document_camera=document_camera(page),
        receipt_printer=EscPosReceiptPrinter("127.0.0.1", printer.port),
        document_printer=PdfSpoolPrinter(tmp_path / "spool"),
        photo_decoder=SimulatorPhotoDecoder(),
    )
    client = PlatformClient("http://127.0.0.1:9", "T-TEST-0001", timeout=0.5)
    # models are never loaded here: no step that needs them runs
    session = build_session(TerminalConfig(), devices, store, client, FaceVerifier(), RapidOcrEngine())
    facade = KioskFacade(session)
    yield Rig(facade, sim)
    facade.shutdown()
    session.close()
    devices.idcard.close()
    client.close()
    sim.stop()
    printer.stop()
    store.close()


def test_the_view_follows_the_session_and_starts_empty_for_the_next(rig: Rig) -> None:
    facade = rig.facade
    steps: list[Step] = []
    applicants: list[ApplicantView] = []
    facade.stepChanged.connect(steps.append)
    facade.cardRead.connect(applicants.append)
    first = facade.view
    assert first.step is Step.ATTRACT and first.applicant is None

    facade.start()
    assert facade.view.step is Step.CHOOSE_ITEM and steps == [Step.CHOOSE_ITEM]
    items = facade.items()
    assert {"business-registration", "resident-pension", "senior-card"} <= {i.id for i in items}
    assert len(items) == len(rig.facade.catalogue.rows()) >= 30
    birth = rig.facade.catalogue.rows(life_event="birth")
    assert {r.id for r in birth} == {"birth-registration", "newborn-medical-insurance", "maternity-allowance"}
    assert all(isinstance(i, ItemView) for i in items)
    assert [i.id for i in facade.items("老年")] == ["senior-card"]
    facade.choose_item("senior-card")
    view = facade.view
    assert view.step is Step.READ_CARD and view.item is not None and view.item.id == "senior-card"

    rig.idcard.insert("senior")
    facade.on_step_entered(Step.READ_CARD)  # what the window does when the card screen is shown
    wait_for(lambda: facade.view.step is Step.FACE_CHECK, "the card read", 10.0)
    applicant = facade.view.applicant
    assert applicant is not None and applicant.name == "张桂兰" and applicants == [applicant]
    with pytest.raises(dataclasses.FrozenInstanceError):
        applicant.name = "someone else"  # type: ignore[misc]

    old_session = facade.view.session_id
    facade.cancel()  # the rating is offered (GB/T 39734 一次一评), with nothing of the citizen kept
    wait_for(lambda: facade.view.step is Step.RATING, "the cancel", 10.0)
    assert facade.view.session_id != old_session and facade.view.applicant is None
    facade.rating.finish()  # skipped
    wait_for(lambda: facade.view.step is Step.ATTRACT, "the end of the session", 10.0)
    fresh = facade.view
    assert fresh.session_id != old_session
    assert fresh == SessionView(session_id=fresh.session_id)  # nothing of the last citizen


def test_a_reader_that_fails_is_shown_as_a_problem_view(rig: Rig) -> None:
    facade = rig.facade
    problems: list[object] = []
    facade.problem.connect(problems.append)
    facade.start()
    facade.choose_item("senior-card")
    rig.idcard.unplug()
    facade.on_step_entered(Step.READ_CARD)
    wait_for(lambda: facade.view.step in {Step.DEVICE_PROBLEM, Step.OUT_OF_SERVICE}, "the problem", 15.0)
    problem = facade.view.problem
    assert problem is not None and problems == [problem]
    assert problem.title_key == "problem.idcard" and problem.action_key.startswith("action.")
