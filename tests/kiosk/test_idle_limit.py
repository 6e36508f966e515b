"""The idle limit in the core (kiosk/session/idle.py): without a window, the coordinator's idle watch
ends a session that waits at the card step (the card step has no deadline of its own), offers the
rating, and elderly mode doubles the limit.  Real ID card reader against the simulated module, real
store; the session machine's clock is the test's."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devices.camera.simulator import SimulatedCamera, media_path
from devices.docprinter.spool import PdfSpoolPrinter
from devices.idcard.driver import SerialIdCardReader
from devices.idcard.photo import SimulatorPhotoDecoder
from devices.idcard.simulator import IdCardSimulator
from devices.printer.escpos_printer import EscPosReceiptPrinter
from devices.printer.simulator import ReceiptPrinterSimulator
from kiosk.cases.platform_client import PlatformClient
from kiosk.config import SessionConfig, TerminalConfig
from kiosk.documents.ocr import RapidOcrEngine
from kiosk.identity.face import FaceVerifier
from kiosk.session.assembly import build_session
from kiosk.session.coordinator import SessionCoordinator
from kiosk.session.events import SessionEnded
from kiosk.session.machine import Step
from kiosk.session.values import Devices
from offline_cache.store import Store
from tests.kiosk.steps.helpers import stock
from tests.kiosk.test_session import FakeClock

TIMEOUT, WARNING = 90.0, 20.0


def _until(cond: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.01)
    return cond()


@pytest.fixture
def sim() -> Iterator[IdCardSimulator]:
    s = IdCardSimulator().start()
    yield s
    s.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def session(tmp_path: Path, sim: IdCardSimulator, clock: FakeClock) -> Iterator[SessionCoordinator]:
    printer = ReceiptPrinterSimulator().start()
    store = Store(tmp_path / "terminal.db")
    stock(store)
    devices = Devices(
        idcard=SerialIdCardReader(sim.port, 115200, poll_interval=0.05),
        camera=SimulatedCamera(tmp_path / "camera", [media_path("obama_live1.jpg")]).camera(),
        document_camera=SimulatedCamera(tmp_path / "doc", [media_path("obama_live1.jpg")]).camera(),
        receipt_printer=EscPosReceiptPrinter("127.0.0.1", printer.port),
        document_printer=PdfSpoolPrinter(tmp_path / "spool"),
        photo_decoder=SimulatorPhotoDecoder(),
    )
    client = PlatformClient("http://127.0.0.1:9", "T-TEST-0001", timeout=0.5)
    config = TerminalConfig(session=SessionConfig(idle_timeout_s=TIMEOUT, idle_warning_s=WARNING))
    s = build_session(config, devices, store, client, FaceVerifier(), RapidOcrEngine(), monotonic=clock)
    yield s
    s.close()
    devices.idcard.close()
    client.close()
    printer.stop()
    store.close()


def _waiting_for_a_card(session: SessionCoordinator) -> tuple[threading.Thread, list[object]]:
    session.start()
    session.choose_item("senior-card")
    got: list[object] = []
    worker = threading.Thread(target=lambda: got.append(session.card.read()), daemon=True)
    worker.start()
    return worker, got


def test_the_idle_watch_ends_a_session_waiting_for_a_card(
    session: SessionCoordinator, clock: FakeClock
) -> None:
    ended: list[SessionEnded] = []
    session.subscribe(lambda e: ended.append(e) if isinstance(e, SessionEnded) else None)
    session.watch_idle(0.02)
    worker, got = _waiting_for_a_card(session)
    clock.advance(TIMEOUT - WARNING + 1)
    state = session.idle.state()
    assert state.warn and not state.expired and state.left_s == pytest.approx(WARNING - 1)
    time.sleep(0.2)
    assert session.step is Step.READ_CARD and worker.is_alive()  # still listening in the warning
    clock.advance(WARNING)
    worker.join(timeout=5.0)
    assert not worker.is_alive() and got == [None]  # the card step returned at once
    assert _until(lambda: session.step is Step.RATING)  # the service began: its rating is offered
    assert session.rating.ended() == "idle_timeout"
    clock.advance(TIMEOUT)  # nobody rates either
    assert _until(lambda: session.step is Step.ATTRACT)
    assert [e.reason for e in ended] == ["idle_timeout"]  # one session, ended once


def test_elderly_mode_doubles_the_idle_limit(session: SessionCoordinator, clock: FakeClock) -> None:
    session.idle.elderly = True
    assert (session.idle.timeout_s, session.idle.warning_s) == (2 * TIMEOUT, 2 * WARNING)
    session.watch_idle(0.02)
    worker, got = _waiting_for_a_card(session)
    clock.advance(TIMEOUT + 1)
    time.sleep(0.2)
    assert session.step is Step.READ_CARD and worker.is_alive()  # the normal limit has passed
    clock.advance(TIMEOUT)
    worker.join(timeout=5.0)
    assert got == [None] and _until(lambda: session.step is Step.RATING)


def test_no_idle_limit_outside_a_citizen_session(session: SessionCoordinator, clock: FakeClock) -> None:
    watch = session.watch_idle(0.02)
    clock.advance(10 * TIMEOUT)
    assert not session.idle.state().expired and not watch.check()
    assert session.step is Step.ATTRACT
