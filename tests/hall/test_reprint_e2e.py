"""证照打印/补打 and 进度查询 by ID card + face, end to end through the welcome screen's hall panel
in the terminal's window (real widgets, Qt offscreen) on a whole demo terminal: the ID card simulator, the simulated face
camera with the case flow's face check and liveness, the sandbox platform on 127.0.0.1, the ESC/POS
printer simulator and a private cupsd with cups-pdf (packaging/cups/start-test-cupsd.sh)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QPushButton

from kiosk.config import DevicesConfig, DocumentPrinterConfig, TerminalConfig, UiConfig
from terminal.app import KioskUi, make_app
from terminal.demo_profile import DEMO_CITIZENS
from terminal.runtime import Terminal, build_terminal
from tests.cupsd import private_cupsd
from tests.qt_wait import wait_for
from ui.screens.hall import HallPanel

pytestmark = pytest.mark.slow

QUEUE = f"kiosk-reprint-t{os.getpid()}"
SENIOR = DEMO_CITIZENS[0]  # 张桂兰: the sandbox's seeded certificate and cases are hers
BASE = "https://dz.zwfw.example.gov.cn/jd/"
WAIT_S = 60.0


@pytest.fixture(scope="module")
def cupsd() -> Iterator[tuple[str, Path]]:
    with private_cupsd(QUEUE, "kiosk-cupsd-rp-") as server:
        yield server


@pytest.fixture
def terminal(cupsd: tuple[str, Path], tmp_path: Path, face_verifier: Any) -> Iterator[Terminal]:
    server, _ = cupsd
    config = TerminalConfig(
        data_dir=str(tmp_path),
        devices=DevicesConfig(document_printer=DocumentPrinterConfig(cups_server=server, cups_queue=QUEUE)),
        ui=UiConfig(progress_url_base=BASE),
    )
    t = build_terminal(config, tmp_path / "work", face=face_verifier)
    try:
        wait_for(lambda: bool(t.client.lookup_key), "enrolment", timeout=WAIT_S)
        yield t
    finally:
        t.close()


def _tap(panel: HallPanel, name: str) -> None:
    def ready() -> bool:
        b = panel.findChild(QPushButton, name)
        return b is not None and b.isVisible() and b.isEnabled()

    wait_for(ready, f"{name} to be tappable", timeout=10)
    QTest.mouseClick(panel.findChild(QPushButton, name), Qt.MouseButton.LeftButton)


def _text(panel: HallPanel, name: str) -> str:
    found = panel.findChild(QLabel, name)
    assert found is not None
    return found.text()


def _identify(terminal: Terminal) -> None:
    bench = terminal.bench
    assert bench is not None
    bench.idcard.remove()
    bench.present_face(SENIOR.live_images)
    bench.idcard.insert(SENIOR.key)


def test_reprint_and_progress_after_card_and_face(terminal: Terminal, cupsd: tuple[str, Path]) -> None:
    server, pdf_dir = cupsd
    bench = terminal.bench
    assert bench is not None
    sandbox = terminal.sandbox.url
    ui = KioskUi(make_app(), terminal, fullscreen=False)
    ui.window.resize(1280, 800)
    ui.window.show()
    found = ui.window.findChild(HallPanel)
    assert found is not None
    panel: HallPanel = found
    try:
        # 进度查询 by ID card + face
        _identify(terminal)
        _tap(panel, "hall:progress")
        _tap(panel, "hall:card")
        wait_for(lambda: "SBXD0000102" in _text(panel, "hallResult"), "the progress listed", timeout=WAIT_S)
        assert "待领取" in _text(panel, "hallResult")
        _tap(panel, "hall:back")

        # 证照打印: the citizen's documents after card + face
        _identify(terminal)
        _tap(panel, "hall:reprint")
        _tap(panel, "hall:card")
        wait_for(
            lambda: panel.findChild(QPushButton, "hall:doc:0") is not None,
            "the documents listed",
            timeout=WAIT_S,
        )
        first = panel.findChild(QPushButton, "hall:doc:0")
        assert first is not None and "SD-LNYD-2026-000101" in first.text()
        receipt_button = panel.findChild(QPushButton, "hall:doc:2")
        assert receipt_button is not None and "SBXD0000102" in receipt_button.text()

        # The CUPS queue stopped: a clear message, nothing printed, nothing recorded, the list stays.
        subprocess.run(["cupsdisable", "-h", server, QUEUE], check=True)
        _tap(panel, "hall:doc:0")
        wait_for(
            lambda: "打印机暂时无法打印" in _text(panel, "hallReprintStatus"),
            "the printer fault shown",
            timeout=WAIT_S,
        )
        assert requests.get(f"{sandbox}/_sandbox/reprints", timeout=5).json() == []
        assert not list(pdf_dir.glob("*.pdf"))

        # Fixed by staff: the same tap prints the certificate through CUPS and records it.
        subprocess.run(["cupsenable", "-h", server, QUEUE], check=True)
        _tap(panel, "hall:doc:0")
        wait_for(
            lambda: "第1次补打" in _text(panel, "hallReprintStatus"),
            "the certificate reprinted",
            timeout=WAIT_S,
        )
        wait_for(lambda: bool(list(pdf_dir.glob("*.pdf"))), "the cups-pdf output", timeout=30)
        [pdf] = list(pdf_dir.glob("*.pdf"))

        def pdf_text() -> str:  # cups-pdf writes the file while the job runs
            done = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True)
            return done.stdout if done.returncode == 0 else ""

        wait_for(lambda: "SD-LNYD-2026-000101" in pdf_text(), "the certificate number in the printed PDF", 30)

        # The receipt of a case: a 受理回执（补打）on the receipt printer with the verifiable QR.
        before = len(bench.printer.receipts)
        _tap(panel, "hall:doc:2")
        wait_for(
            lambda: "SBXD0000102" in _text(panel, "hallReprintStatus"),
            "the receipt reprinted",
            timeout=WAIT_S,
        )
        printed = bench.printer.wait_for_receipts(before + 1)[before]
        assert "受理回执（补打）" in printed.text and "SBXD0000102" in printed.text
        [qr] = printed.qr_payloads
        assert qr.startswith(f"{BASE}SBXD0000102?t=")
        services = panel.hall.services  # type: ignore[union-attr]
        assert [c.case_ref for c in services.progress_by_qr(qr)] == ["SBXD0000102"]  # verified

        records = requests.get(f"{sandbox}/_sandbox/reprints", timeout=5).json()
        assert [(r["kind"], r["ref"], r["count"]) for r in records] == [
            ("certificate", "CERT-SD-LNYD-0000101", 1),
            ("receipt", "SBXD0000102", 1),
        ]
        audit = [r for r in terminal.store.audit_trail.records() if r.event.startswith("hall_")]
        outcomes = [(r.event, r.details.get("outcome")) for r in audit]
        assert outcomes == [
            ("hall_identity", "matched"),
            ("hall_identity", "matched"),
            ("hall_reprint", "printer_fault"),
            ("hall_reprint", "printed"),
            ("hall_reprint", "printed"),
        ]
        assert all("371402195203140022" not in str(r.details) for r in audit)
        _tap(panel, "hall:back")  # the citizen is forgotten
        assert panel.hall is not None and panel.hall._holder is None
    finally:
        ui.close()
