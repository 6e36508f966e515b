"""Shared fixtures: the models load once per test run (they are read-only after loading)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from devices.smartcard.testbed import PcscdTestbed
from kiosk.config import SessionConfig, TerminalConfig
from terminal.app import KioskUi, make_app
from terminal.demo import DemoDriver
from terminal.runtime import Terminal, build_terminal

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# a text key no catalogue holds fails the test instead of showing the key (kiosk/i18n.py)
os.environ.setdefault("KIOSK_I18N_STRICT", "1")


@pytest.fixture(scope="session")
def face_verifier():  # type: ignore[no-untyped-def]
    from kiosk.identity.face import FaceVerifier

    verifier = FaceVerifier()
    verifier.load()
    return verifier


@pytest.fixture(scope="session")
def ocr_engine():  # type: ignore[no-untyped-def]
    from kiosk.documents.ocr import RapidOcrEngine

    engine = RapidOcrEngine()
    engine.load()
    return engine


Factory = Callable[..., tuple[Terminal, KioskUi, DemoDriver]]


@pytest.fixture
def kiosk(tmp_path: Path, face_verifier: Any, ocr_engine: Any) -> Iterator[Factory]:
    started: list[tuple[Terminal, KioskUi]] = []

    def start(**session: Any) -> tuple[Terminal, KioskUi, DemoDriver]:
        config = TerminalConfig(data_dir=str(tmp_path), session=SessionConfig(**session))
        app = make_app()
        terminal = build_terminal(config, tmp_path / "work", face=face_verifier, ocr=ocr_engine)
        ui = KioskUi(app, terminal, fullscreen=False)
        started.append((terminal, ui))
        out = tmp_path / "shots"
        out.mkdir(exist_ok=True)
        return terminal, ui, DemoDriver(ui, terminal, out)

    yield start
    for terminal, ui in started:
        ui.close()
        terminal.close()
    QApplication.processEvents()


@pytest.fixture(scope="module")
def pcscd() -> Iterator[PcscdTestbed]:
    """The real pcscd with a vsmartcard-vpcd reader in a loopback-only namespace (packaging/pcsc),
    one per test module that asks for it."""
    bed = PcscdTestbed()
    bed.start()
    try:
        yield bed
    finally:
        pid = bed.pid
        bed.stop()
        assert not Path(f"/proc/{pid}").exists(), "pcscd survived stop-test-pcscd.sh"
