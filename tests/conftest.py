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
# the on-screen keyboard (ui/keyboard.py) is chosen before any QApplication exists
os.environ.setdefault("QT_IM_MODULE", "qtvirtualkeyboard")
# the window hosts the keys; never the plugin's own keyboard window (ui/keyboard.py), also when a
# test module makes the QApplication itself at import
os.environ.setdefault("QT_VIRTUALKEYBOARD_DESKTOP_DISABLE", "1")
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


# ------------------------------------------------------------------ test lanes
# `make test` runs everything; `make test-fast` leaves out the markers below (README "Tests").
# Whole directories and fixtures mark themselves, so a new test lands in the right lane.
_LANE_DIRECTORIES = {"e2e": "e2e", "crash": "crash", "ui": "terminal"}
_MODEL_FIXTURES = frozenset({"face_verifier", "ocr_engine"})
_TERMINAL_FIXTURES = frozenset({"kiosk"})


def _builds_a_terminal(item: pytest.Item) -> bool:
    """The test or one of its fixtures calls ``build_terminal`` (a whole terminal: simulators,
    sandbox platform, store, background threads)."""
    functions = [getattr(item, "function", None)]
    info = getattr(item, "_fixtureinfo", None)
    if info is not None:
        functions += [d.func for defs in info.name2fixturedefs.values() for d in defs]
    codes = [getattr(f, "__code__", None) for f in functions]
    return any(code is not None and "build_terminal" in code.co_names for code in codes)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests_dir = Path(__file__).resolve().parent
    for item in items:
        parts = Path(item.path).resolve().relative_to(tests_dir).parts
        lane = _LANE_DIRECTORIES.get(parts[0]) if len(parts) > 1 else None
        if lane is not None:
            item.add_marker(lane)
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & _MODEL_FIXTURES:
            item.add_marker("models")
        if fixtures & _TERMINAL_FIXTURES or _builds_a_terminal(item):
            item.add_marker("terminal")
