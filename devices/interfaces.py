"""The device interfaces the kiosk core programs against.

One ``Protocol`` per device kind.  Drivers implement them on top of a codec and
a transport; the same driver runs against hardware or against the simulator
of its kind (which is a transport, never a fake of this interface).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeAlias, runtime_checkable

from devices.base import DeviceStatus

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from devices.smartcard.pcsc import CardEvent, PcscCardConnection
    from devices.smartcard.ssc import SocialSecurityCardInfo

    Frame = npt.NDArray[np.uint8]


# --------------------------------------------------------------------- ID card
class DocumentKind(enum.Enum):
    """Which identity card a GA/T 467 reader returned.  Values are stable identifiers."""

    RESIDENT_ID = "resident_id"  # 居民身份证
    FOREIGNER_PERMANENT_RESIDENCE = "foreigner_permanent_residence"  # 外国人永久居留身份证


@dataclass(frozen=True)
class IdCardText:
    """The parsed 256-byte text block of a resident ID card (GA/T 467)."""

    kind: ClassVar[DocumentKind] = DocumentKind.RESIDENT_ID

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

    @property
    def nationality(self) -> str:
        """ISO 3166-1 alpha-3 nationality: a resident ID card holder is a Chinese citizen."""
        return "CHN"


@dataclass(frozen=True)
class ForeignerIdCardText:
    """The parsed text block of a foreigner's permanent residence ID card (外国人永久居留身份证,
    2017 layout; card type "I").  It has no address and no GB/T 3304 nation."""

    kind: ClassVar[DocumentKind] = DocumentKind.FOREIGNER_PERMANENT_RESIDENCE

    english_name: str
    sex: str  # GB/T 2261.1 code
    id_number: str  # 15 characters (2017 cards)
    nationality: str  # ISO 3166-1 alpha-3
    chinese_name: str  # may be empty
    valid_from: dt.date
    valid_until: dt.date | None  # None = 长期
    birth_date: dt.date
    card_version: str
    authority_code: str
    card_type: str = "I"

    def __repr__(self) -> str:  # never print personal data by accident
        return "ForeignerIdCardText(<redacted>)"

    @property
    def name(self) -> str:
        """The name to show: the Chinese name when the card has one, else the English name."""
        return self.chinese_name or self.english_name


#: What an ID card reader's text block parses into.  Both kinds have ``kind``, ``name``,
#: ``sex``, ``birth_date``, ``id_number``, ``nationality``, ``valid_from`` and ``valid_until``;
#: narrow with ``isinstance`` for the rest (only a resident card has ``address``).
AnyIdCardText: TypeAlias = IdCardText | ForeignerIdCardText


@dataclass(frozen=True)
class IdCardRead:
    """One complete read of a card: text block, raw photo block and when it happened."""

    text: AnyIdCardText
    photo_raw: bytes = field(repr=False)  # 1024-byte WLT block (vendor format)
    read_at: dt.datetime

    def __repr__(self) -> str:
        return f"IdCardRead({self.text.kind.value}, read_at={self.read_at.isoformat()})"


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


# ---------------------------------------------------------------- document scanner
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


# ---------------------------------------------------------------- smart card readers (staff card)
@runtime_checkable
class SmartCardReaders(Protocol):
    """PC/SC readers as the staff card watcher uses them: card events and connections."""

    def status(self) -> DeviceStatus: ...

    def wait_for_event(self, timeout: float, reader: str | None = None) -> CardEvent | None:
        """The next card inserted/removed event on ``reader`` (any reader: ``None``)."""
        ...

    def connect(self, reader: str) -> PcscCardConnection: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SmartCardReader:
    """Where the staff put their card: ``open`` gives the PC/SC readers (opened again after a
    failure), ``reader`` names the one to watch (``None``: any reader)."""

    kind: ClassVar[str] = "staff_card"

    open: Callable[[], SmartCardReaders]
    reader: str | None


@runtime_checkable
class SocialSecurityCardReader(Protocol):
    """The citizen-facing PC/SC reader of social security cards (devices.ssccard.reader)."""

    kind: str

    def status(self) -> DeviceStatus: ...

    def read_card(self, timeout: float) -> SocialSecurityCardInfo | None:
        """The basic info of a card placed within ``timeout`` s; ``None`` without one.  Another
        card raises ``NotSocialSecurityCardError`` (a ``DeviceError``)."""
        ...

    def close(self) -> None: ...
