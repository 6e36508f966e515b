"""The device interfaces the kiosk core programs against.

One ``Protocol`` per device kind.  Drivers implement them on top of a codec and
a transport; the same driver runs against hardware or against the simulator
of its kind (which is a transport, never a fake of this interface).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from devices.base import DeviceStatus

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Frame = npt.NDArray[np.uint8]


# --------------------------------------------------------------------- ID card
@dataclass(frozen=True)
class IdCardText:
    """The parsed 256-byte text block of a resident ID card (GA/T 467)."""

    name: str
    sex: str  # GB/T 2261.1 code: "1" male, "2" female, "0" unknown, "9" unspecified
    nation: str  # GB/T 3304 two-digit code, e.g. "01" Han
    birth_date: dt.date
    address: str
    id_number: str
    authority: str
    valid_from: dt.date
    valid_until: dt.date | None  # None = 长期 (long-term)

    def __repr__(self) -> str:  # never print personal data by accident
        return "IdCardText(<redacted>)"


@dataclass(frozen=True)
class IdCardRead:
    """One complete read of a card: text block, raw photo block and when it happened."""

    text: IdCardText
    photo_raw: bytes = field(repr=False)  # 1024-byte WLT block (vendor format)
    read_at: dt.datetime

    def __repr__(self) -> str:
        return f"IdCardRead(read_at={self.read_at.isoformat()})"


@runtime_checkable
class IdCardReader(Protocol):
    kind: str

    def status(self) -> DeviceStatus: ...

    def open(self) -> None:
        """Open the port and check the module answers.  Raises a ``DeviceError`` subclass."""
        ...

    def read_card(self, timeout: float) -> IdCardRead | None:
        """Poll for a card and read it.  ``None`` when no card appeared in ``timeout`` s.

        Raises a ``DeviceError`` subclass on failures (card pulled mid-read,
        garbled frames, silent reader)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class PhotoDecoder(Protocol):
    """Turns the card's photo block into an image (BGR numpy array) or ``None``."""

    def decode(self, photo_raw: bytes) -> Frame | None: ...


# ---------------------------------------------------------------- cameras
@runtime_checkable
class Camera(Protocol):
    """Live camera (face) or document camera: frames as BGR uint8 arrays."""

    kind: str

    def status(self) -> DeviceStatus: ...

    def open(self) -> None: ...

    def read_frame(self, timeout: float) -> Frame:
        """The next frame.  Raises ``DeviceTimeout``/``DeviceNotFound`` when none comes."""
        ...

    def close(self) -> None: ...


# ---------------------------------------------------------------- printers
@dataclass(frozen=True)
class ReceiptLine:
    """One element of a receipt.  ``kind`` is "text", "qr", "feed" or "cut"."""

    kind: str
    text: str = ""
    bold: bool = False
    align: str = "left"  # left | center | right
    double: bool = False  # double width and height


@dataclass(frozen=True)
class ReceiptDoc:
    lines: tuple[ReceiptLine, ...]


@runtime_checkable
class ReceiptPrinter(Protocol):
    kind: str

    def status(self) -> DeviceStatus: ...

    def print_receipt(self, doc: ReceiptDoc) -> None:
        """Render to the printer's command language and send; raises ``DeviceError``."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class DocumentPrinter(Protocol):
    kind: str

    def status(self) -> DeviceStatus: ...

    def print_pdf(self, pdf: bytes, title: str) -> str:
        """Print a PDF document; returns a job id.  Raises ``DeviceError``."""
        ...

    def close(self) -> None: ...


# ---------------------------------------------------------------- barcode
@runtime_checkable
class BarcodeReader(Protocol):
    kind: str

    def status(self) -> DeviceStatus: ...

    def read_code(self, timeout: float) -> str | None:
        """The next scanned code as text, or ``None`` after ``timeout`` s."""
        ...

    def close(self) -> None: ...


# ---------------------------------------------------------------- document scanner (f-ocr)
class ScanSource(enum.Enum):
    """Where the scanner takes the paper from.  Values are stable identifiers."""

    FLATBED = "flatbed"
    ADF = "adf"  # automatic document feeder: every sheet in the tray


@runtime_checkable
class DocumentScanner(Protocol):
    """A flatbed or sheet-fed scanner (SANE): an optional capture source for materials,
    next to the document camera."""

    kind: str

    def status(self) -> DeviceStatus: ...

    def scan(self, source: ScanSource = ScanSource.FLATBED, resolution_dpi: int = 200) -> list[Frame]:
        """The scanned pages as BGR images (one for the flatbed, every sheet for the feeder).

        Raises a ``DeviceError`` subclass carrying the required action: scanner missing,
        paper jam, feeder empty, cover open, busy, time-out."""
        ...

    def close(self) -> None: ...
