"""The demo profile's hardware: every device kind's simulator, started from the registry.

Each kind of :data:`devices.registry.KINDS` starts its simulator in a directory of its own;
the bench keeps them and offers the handles a script or a test drives (put a card on the
reader, a person in front of the camera, a page under the document camera, a staff card on
the staff reader).  The drivers talk to them over the devices' real wire protocols.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from devices.barcode.kind import BARCODE
from devices.barcode.simulator import BarcodeScannerSimulator
from devices.camera.kind import CAMERA, DOCUMENT_CAMERA, blank_page
from devices.camera.simulator import SimulatedCamera, document_source, media_path
from devices.docprinter.kind import DOCUMENT_PRINTER
from devices.idcard.kind import IDCARD, IdCardStation
from devices.idcard.simulator import IdCardSimulator
from devices.printer.kind import RECEIPT_PRINTER
from devices.printer.simulator import ReceiptPrinterSimulator
from devices.registry import KINDS
from devices.smartcard.inprocess import InProcessReaders
from devices.smartcard.kind import STAFF_CARD
from kiosk.maintenance.staff_card import Role
from terminal.demo_profile import DEMO_STAFF_ID
from terminal.docgen import render_lease
from terminal.staff_issuer import StaffHall

log = logging.getLogger(__name__)


class SimulatorBench:
    """The demo profile's simulated hardware, with the handles a script or test needs."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._sims: dict[str, Any] = {}
        try:
            for kind in KINDS:
                self._sims[kind.name] = kind.simulate(workdir / kind.name)
        except BaseException:
            self.stop()
            raise
        # The demo hall: its staff card issuer CA and staff registry live only in this process.
        self.staff_hall = StaffHall("DEMO-HALL", {DEMO_STAFF_ID: Role.TECHNICIAN})
        # Simulates the IR/binocular face camera's OWN liveness result (what such a camera reports
        # through ExternalLivenessCheck), not a liveness check of the played photos: True = it sees
        # a live person, False = it reports an attack, None = no verdict yet.
        self.ir_liveness: bool | None = True

    @property
    def simulators(self) -> Mapping[str, Any]:
        """Kind name -> its running simulator (what the registry's ``attach`` takes)."""
        return self._sims

    # ------------------------------------------------------------------ the handles
    @property
    def idcard(self) -> IdCardSimulator:
        """The ID card reader's simulator (``insert(key)``, ``remove()``, ``unplug()``)."""
        station: IdCardStation = self._sims[IDCARD.name]
        return station.simulator

    @property
    def idcard_port(self) -> Path:
        """The reader's stable name (like /dev/serial/by-id): it follows a re-plug."""
        station: IdCardStation = self._sims[IDCARD.name]
        return station.port

    @property
    def printer(self) -> ReceiptPrinterSimulator:
        printer: ReceiptPrinterSimulator = self._sims[RECEIPT_PRINTER.name]
        return printer

    @property
    def scanner(self) -> BarcodeScannerSimulator:
        """The QR/barcode scanner on a pty (e-ID QR codes: ``scanner.scan(token)``)."""
        scanner: BarcodeScannerSimulator = self._sims[BARCODE.name]
        return scanner

    @property
    def camera(self) -> SimulatedCamera:
        camera: SimulatedCamera = self._sims[CAMERA.name]
        return camera

    @property
    def spool_dir(self) -> Path:
        """Where the demo's document printer puts its PDFs."""
        spool: Path = self._sims[DOCUMENT_PRINTER.name]
        return spool

    @property
    def staff_reader(self) -> InProcessReaders:
        readers: InProcessReaders = self._sims[STAFF_CARD.name]
        return readers

    # ------------------------------------------------------------------ what happens in front of it
    def present_staff_card(
        self, staff_id: str = DEMO_STAFF_ID, *, pin: str | None = None, clone: bool = False, retries: int = 3
    ) -> None:
        """Put a PIV staff card of the demo hall on the staff reader (``pin``: a card that wants its
        PIN; ``clone``: the certificate on a card without its key)."""
        self.staff_reader.insert(self.staff_hall.card(staff_id, pin=pin, clone=clone, retries=retries))

    def remove_staff_card(self) -> None:
        self.staff_reader.remove()

    def ir_liveness_verdict(self) -> bool | None:
        """The simulated IR camera's verdict (the demo's ``face.liveness = "external"`` source)."""
        return self.ir_liveness

    def replug_idcard(self) -> None:
        """The reader comes back (after ``idcard.unplug()``): a new module behind the same name."""
        station: IdCardStation = self._sims[IDCARD.name]
        station.replug()

    def present_face(self, images: Sequence[str]) -> None:
        """Put a person in front of the face camera (media file names or paths)."""
        paths = [Path(p) if Path(p).is_absolute() else media_path(p) for p in images]
        shutil.rmtree(self.camera.frames_dir, ignore_errors=True)
        self._sims[CAMERA.name] = SimulatedCamera(self.workdir / CAMERA.name, paths)

    def place_document(self, page_bgr: Any) -> Path:
        page: Path = self._sims[DOCUMENT_CAMERA.name]
        return document_source(page_bgr, page.parent, page.name)

    def place_lease(self, **fields: Any) -> Path:
        return self.place_document(render_lease(**fields))

    def place_blank_page(self) -> Path:
        return self.place_document(blank_page())

    def stop(self) -> None:
        for kind in KINDS:
            sim = self._sims.get(kind.name)
            if sim is None:
                continue
            try:
                kind.release(sim)
            except Exception:
                log.exception("stopping the %s simulator failed", kind.name)
