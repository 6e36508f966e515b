"""ESC/POS codec: :class:`ReceiptDoc` to bytes, and real-time status answers to :class:`DeviceStatus`.

python-escpos's :class:`escpos.printer.Dummy` builds the commands (init, alignment,
bold, character size, native QR as ``GS ( k``, cut).  Text is written as raw
GB18030 bytes after putting the printer in Chinese character mode (``FS &``):
python-escpos's own text path goes through code pages and would mangle CJK
punctuation.  Control characters are stripped from text so that data (a name,
a reason) can never inject printer commands.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

from devices.base import DeviceStatus, RequiredAction
from devices.interfaces import ReceiptDoc, ReceiptLine
from devices.printer.profiles import PrinterProfile

if TYPE_CHECKING:
    from escpos.printer import Dummy

ESC = b"\x1b"
GS = b"\x1d"
FS = b"\x1c"
DLE = b"\x10"
EOT = b"\x04"
LF = b"\n"

INIT = ESC + b"@"
CHINESE_MODE_ON = FS + b"&"
CHINESE_MODE_OFF = FS + b"."

#: QR module size in dots (1-16).
QR_MODULE_DOTS = 6
#: Raster text: font size in dots for normal and double size (font A is 24 dots high).
RASTER_FONT_DOTS = 24


@dataclass(frozen=True)
class RasterImage:
    """A 1-bit image as ``GS v 0`` carries it: rows of ``width_bytes`` bytes, MSB left, 1 = black."""

    width_bytes: int
    height: int
    data: bytes

    def to_pil(self) -> Image.Image:
        img = Image.frombytes("1", (self.width_bytes * 8, self.height), self.data)
        return Image.eval(img.convert("L"), lambda v: 255 - v)

    def command(self) -> bytes:
        """``GS v 0 0 xL xH yL yH d1...dk``."""
        w, h = self.width_bytes, self.height
        return GS + b"v0\x00" + bytes([w & 0xFF, w >> 8, h & 0xFF, h >> 8]) + self.data


_fonts: dict[int, ImageFont.FreeTypeFont] = {}


def _raster_font(size: int) -> ImageFont.FreeTypeFont:
    if size not in _fonts:
        from devices.printer.simulator import (
            _load_font,
            find_cjk_font,
        )  # lazy: only raster profiles need fonts

        _fonts[size] = _load_font(find_cjk_font(), size)
    return _fonts[size]


def render_text_raster(
    text: str, *, width_dots: int, bold: bool = False, double: bool = False
) -> RasterImage:
    """``text`` drawn with the CJK font, thresholded to 1 bit, width a multiple of 8 dots."""
    font = _raster_font(RASTER_FONT_DOTS * (2 if double else 1))
    height = int(font.size * 1.25)
    _, _, right, _ = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), text or " ", font=font)
    width = min(max(8, (int(right) + 2 + 7) // 8 * 8), width_dots // 8 * 8)
    img = Image.new("L", (width, height), 255)
    ImageDraw.Draw(img).text((0, 0), text, font=font, fill=0, stroke_width=1 if bold else 0, stroke_fill=0)
    mono = img.point(lambda v: 255 if v < 128 else 0).convert("1")  # 1 bit set = black dot
    return RasterImage(width // 8, height, mono.tobytes())


class StatusKind(enum.IntEnum):
    """``n`` of ``DLE EOT n`` (transmit real-time status)."""

    PRINTER = 1
    OFFLINE_CAUSE = 2
    ERROR_CAUSE = 3
    PAPER_SENSOR = 4
    #: Presenter (paper exit) sensor of kiosk printers that have one.  Model specific: the
    #: profile's ``presenter_sensor`` says whether to ask.  Bit 0x04 set: a receipt sits in the exit.
    PRESENTER = 5


def status_query(kind: StatusKind) -> bytes:
    """``DLE EOT n``: the printer answers with one status byte."""
    return DLE + EOT + bytes([int(kind)])


# Bits of the status bytes (Epson ESC/POS, DLE EOT).  Bits 1 and 4 are always 1, bits 0 and 7 always 0.
FIXED_MASK = 0x93
FIXED_VALUE = 0x12
PRINTER_OFFLINE = 0x08
OFFLINE_COVER_OPEN = 0x04
OFFLINE_PAPER_END_STOP = 0x20
OFFLINE_ERROR = 0x40
PAPER_NEAR_END = 0x0C
PAPER_END = 0x60
PRESENTER_PAPER = 0x04


def status_byte_valid(value: int) -> bool:
    return value & FIXED_MASK == FIXED_VALUE


@dataclass(frozen=True)
class PrinterState:
    """What the status bytes say, reduced to what the kiosk acts on."""

    status: DeviceStatus
    action: RequiredAction
    reason: str  # stable identifier: ok, paper_end, paper_near_end, cover_open, error, offline


def interpret_status(printer: int, offline_cause: int, paper: int) -> PrinterState:
    """Map the answers to ``DLE EOT 1``, ``2`` and ``4`` onto one state."""
    if paper & PAPER_END or offline_cause & OFFLINE_PAPER_END_STOP:
        return PrinterState(DeviceStatus.NO_MEDIA, RequiredAction.CLEAR_BY_STAFF, "paper_end")
    if offline_cause & OFFLINE_COVER_OPEN:
        return PrinterState(DeviceStatus.HARDWARE_ERROR, RequiredAction.CLEAR_BY_STAFF, "cover_open")
    if offline_cause & OFFLINE_ERROR:
        return PrinterState(DeviceStatus.HARDWARE_ERROR, RequiredAction.MAINTENANCE, "error")
    if printer & PRINTER_OFFLINE:
        return PrinterState(DeviceStatus.OFFLINE, RequiredAction.WAIT, "offline")
    if paper & PAPER_NEAR_END:
        return PrinterState(DeviceStatus.MEDIA_LOW, RequiredAction.NONE, "paper_near_end")
    return PrinterState(DeviceStatus.READY, RequiredAction.NONE, "ok")


def display_width(text: str) -> int:
    """Columns of font A: full-width (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def wrap(text: str, columns: int) -> list[str]:
    """Break ``text`` into pieces no wider than ``columns`` (CJK aware, no hyphenation).

    CJK text breaks between any two characters; a Latin word is not split when a space
    before it on the line allows breaking there (English receipts)."""
    if columns < 2:
        raise ValueError("columns must be >= 2")
    pieces: list[str] = []
    current = ""
    width = 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if width + w > columns:
            space = current.rfind(" ")
            if ch != " " and ch.isascii() and space > 0 and current[space + 1 :].isascii():
                pieces.append(current[:space])
                current = current[space + 1 :]
            else:
                pieces.append(current)
                current = ""
            width = display_width(current)
            if ch == " " and not current:
                continue  # a break at a space: the space is not carried to the next line
        current += ch
        width += w
    pieces.append(current)
    return pieces


def _clean(text: str) -> str:
    """Drop control characters (no command injection through data)."""
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")


class EscPosCodec:
    """Turns a :class:`ReceiptDoc` into the bytes one job sends to the printer."""

    def __init__(self, profile: PrinterProfile) -> None:
        self.profile = profile

    def encode(self, doc: ReceiptDoc) -> bytes:
        """The whole job: init, Chinese mode, lines, and a cut (added if the doc has none)."""
        # python-escpos loads its printer capability database on import (~0.5 s): not at start-up
        from escpos.printer import Dummy

        out = Dummy()
        out.hw("INIT")
        if self.profile.text_mode == "native":
            out._raw(CHINESE_MODE_ON)
        lines = list(doc.lines)
        if not lines or lines[-1].kind != "cut":
            lines.append(ReceiptLine(kind="cut"))
        for line in lines:
            self._encode_line(out, line)
        data: bytes = out.output
        return data

    def _encode_line(self, out: Dummy, line: ReceiptLine) -> None:
        if line.align not in ("left", "center", "right"):
            raise ValueError(f"bad alignment {line.align!r}")
        if line.kind == "text":
            out.set(align=line.align, bold=line.bold)
            size = 2 if line.double else 1
            out.set(custom_size=True, width=size, height=size)
            columns = self.profile.width_chars // size
            for paragraph in _clean(line.text).split("\n"):
                for piece in wrap(paragraph, columns):
                    if self.profile.text_mode == "raster":
                        raster = render_text_raster(
                            piece, width_dots=self.profile.width_dots, bold=line.bold, double=line.double
                        )
                        out._raw(raster.command())
                    else:
                        out._raw(piece.encode(self.profile.encoding) + LF)
        elif line.kind == "qr":
            if not line.text:
                raise ValueError("QR line without content")
            from escpos.constants import QR_ECLEVEL_M

            out.set(align=line.align, bold=False)
            out.qr(_clean(line.text), ec=QR_ECLEVEL_M, size=QR_MODULE_DOTS, native=True)
        elif line.kind == "feed":
            out.print_and_feed(1)
        elif line.kind == "cut":
            if self.profile.cutter:
                out.cut()
            else:
                out.print_and_feed(6)
        else:
            raise ValueError(f"unknown receipt line kind {line.kind!r}")
