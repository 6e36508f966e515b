"""ESC/POS decoder: the byte stream a printer receives, back into a structured receipt.

Used by :mod:`devices.printer.simulator`; kept separate so it can be tested (and
reused to inspect captured traffic) without a socket.  Streaming: feed it
whatever ``recv`` returned, commands split across reads are completed later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

_ESC, _GS, _FS, _DLE = 0x1B, 0x1D, 0x1C, 0x10
_ALIGN = {0: "left", 48: "left", 1: "center", 49: "center", 2: "right", 50: "right"}
_QR_EC = {48: "L", 49: "M", 50: "Q", 51: "H"}


@dataclass(frozen=True)
class DecodedLine:
    """One printed line: ``kind`` is "text", "qr", "feed" or "image"."""

    kind: str
    text: str = ""  # the text, or the QR payload
    bold: bool = False
    align: str = "left"
    double: bool = False
    qr_module: int = 3  # QR module size in dots
    qr_ec: str = "L"
    image_width_bytes: int = 0  # raster image (GS v 0): bytes per row
    image_height: int = 0
    image_data: bytes = b""  # rows, MSB = leftmost dot, 1 = black


@dataclass(frozen=True)
class DecodedReceipt:
    lines: tuple[DecodedLine, ...]
    complete: bool  # True when it ended with a cut; False when paper ran out or the link dropped

    @property
    def text(self) -> str:
        """Plain text, one line per printed text line."""
        return "\n".join(line.text for line in self.lines if line.kind == "text")

    @property
    def qr_payloads(self) -> list[str]:
        return [line.text for line in self.lines if line.kind == "qr"]

    def __repr__(self) -> str:  # receipts carry personal data
        return f"DecodedReceipt(lines={len(self.lines)}, complete={self.complete})"


@dataclass
class _Style:
    bold: bool = False
    align: str = "left"
    width: int = 1
    height: int = 1
    chinese: bool = False


@dataclass
class _Qr:
    module: int = 3
    ec: str = "L"
    payload: bytes = b""


@dataclass
class DecoderHooks:
    """How the decoder asks its printer about paper.  Defaults: endless paper."""

    #: Answer byte for ``DLE EOT n``.
    status: Callable[[int], int] = lambda n: 0x12
    #: Called before each printed line; ``False`` means no paper: the line is lost.
    take_line: Callable[[], bool] = lambda: True
    #: Called with each finished receipt (on cut, or on abort).
    finished: Callable[[DecodedReceipt], None] = lambda receipt: None


@dataclass
class EscPosDecoder:
    hooks: DecoderHooks = field(default_factory=DecoderHooks)
    unknown: list[str] = field(default_factory=list)
    _buf: bytearray = field(default_factory=bytearray)
    _line: bytearray = field(default_factory=bytearray)
    _line_style: _Style | None = None
    _style: _Style = field(default_factory=_Style)
    _qr: _Qr = field(default_factory=_Qr)
    _lines: list[DecodedLine] = field(default_factory=list)
    _lost: bool = False  # a line was lost for lack of paper in this receipt

    # ------------------------------------------------------------------ API
    def feed(self, data: bytes) -> bytes:
        """Consume bytes; returns what the printer answers (status bytes)."""
        self._buf += data
        answers = bytearray()
        i = 0
        buf = self._buf
        while i < len(buf):
            b = buf[i]
            if b == 0x0A:
                self._flush_line(force=True)
                i += 1
            elif b in (_ESC, _GS, _FS, _DLE):
                used = self._command(buf, i, answers)
                if used == 0:
                    break  # incomplete command: wait for more bytes
                i += used
            elif b < 0x20:
                i += 1  # CR and other controls print nothing
            else:
                j = i
                while j < len(buf) and buf[j] >= 0x20:
                    j += 1
                if self._line_style is None:
                    self._line_style = _Style(**vars(self._style))
                self._line += buf[i:j]
                i = j
        del buf[:i]
        return bytes(answers)

    def abort(self) -> None:
        """The link dropped: whatever was started is an incomplete receipt."""
        self._flush_line(force=False)
        if self._lines:
            self._finish(complete=False)
        self._buf.clear()

    # ------------------------------------------------------------ internals
    def _emit(self, line: DecodedLine) -> None:
        if self.hooks.take_line():
            self._lines.append(line)
        else:
            self._lost = True

    def _flush_line(self, *, force: bool) -> None:
        if not self._line and not force:
            return
        style = self._line_style or self._style
        encoding = "gb18030" if style.chinese else "cp437"
        text = bytes(self._line).decode(encoding, errors="replace")
        self._emit(
            DecodedLine("text", text, style.bold, style.align, double=style.width > 1 or style.height > 1)
        )
        self._line.clear()
        self._line_style = None

    def _finish(self, *, complete: bool) -> None:
        receipt = DecodedReceipt(tuple(self._lines), complete=complete and not self._lost)
        self._lines = []
        self._lost = False
        self.hooks.finished(receipt)

    def _cut(self) -> None:
        self._flush_line(force=False)
        if self._lines or self._lost:
            self._finish(complete=True)

    def _command(self, buf: bytearray, i: int, answers: bytearray) -> int:
        """Handle the command at ``buf[i]``; returns bytes used, 0 if incomplete."""
        avail = len(buf) - i
        if avail < 2:
            return 0
        prefix, cmd = buf[i], buf[i + 1]

        def arg(k: int) -> int:
            return buf[i + 1 + k]

        def need(n: int) -> bool:
            return avail >= n

        st = self._style
        if prefix == _ESC:
            if cmd == ord("@"):
                self._flush_line(force=False)
                self._style = _Style()
                return 2
            if cmd in b"!EadJtM-G{V3=":
                if not need(3):
                    return 0
                n = arg(1)
                if cmd == ord("!"):
                    st.bold = bool(n & 0x08)
                    st.height = 2 if n & 0x10 else 1
                    st.width = 2 if n & 0x20 else 1
                elif cmd == ord("E"):
                    st.bold = bool(n & 1)
                elif cmd == ord("a"):
                    st.align = _ALIGN.get(n, "left")
                elif cmd == ord("d"):
                    self._flush_line(force=False)
                    for _ in range(n):
                        self._emit(DecodedLine("feed"))
                elif cmd == ord("J"):
                    self._flush_line(force=False)
                return 3
            if cmd == ord("2"):
                return 2
            if cmd == ord("p"):
                return 5 if need(5) else 0
            if cmd == ord("c"):
                return 4 if need(4) else 0
        elif prefix == _GS:
            if cmd == ord("!"):
                if not need(3):
                    return 0
                n = arg(1)
                st.width, st.height = ((n >> 4) & 7) + 1, (n & 7) + 1
                return 3
            if cmd == ord("V"):
                if not need(3):
                    return 0
                if arg(1) in (65, 66):
                    if not need(4):
                        return 0
                    self._cut()
                    return 4
                self._cut()
                return 3
            if cmd == ord("("):
                if not need(5):
                    return 0
                size = arg(2) | (arg(3) << 8)
                if not need(5 + size):
                    return 0
                if arg(1) == ord("k"):
                    self._symbol(bytes(buf[i + 5 : i + 5 + size]))
                return 5 + size
            if cmd == ord("v"):  # GS v 0 m xL xH yL yH d...
                if not need(8):
                    return 0
                total = 8 + (arg(3) | arg(4) << 8) * (arg(5) | arg(6) << 8)
                if not need(total):
                    return 0
                self._flush_line(force=False)
                self._emit(
                    DecodedLine(
                        "image",
                        align=self._style.align,
                        image_width_bytes=arg(3) | arg(4) << 8,
                        image_height=arg(5) | arg(6) << 8,
                        image_data=bytes(buf[i + 8 : i + total]),
                    )
                )
                return total
            if cmd in b"BhwHfr":
                return 3 if need(3) else 0
            if cmd in b"LW":
                return 4 if need(4) else 0
        elif prefix == _FS:
            if cmd == ord("&"):
                st.chinese = True
                return 2
            if cmd == ord("."):
                st.chinese = False
                return 2
            if cmd in b"!W-C":
                if not need(3):
                    return 0
                if cmd == ord("W"):
                    st.width = st.height = 2 if arg(1) & 1 else 1
                return 3
            if cmd in b"Sp":
                return 4 if need(4) else 0
        elif prefix == _DLE:
            if cmd in (0x04, 0x05):  # DLE EOT n / DLE ENQ n
                if not need(3):
                    return 0
                if cmd == 0x04:
                    answers.append(self.hooks.status(arg(1)))
                return 3
            if cmd == 0x14:
                return 5 if need(5) else 0
        name = {_ESC: "ESC", _GS: "GS", _FS: "FS", _DLE: "DLE"}[prefix]
        self.unknown.append(f"{name} 0x{cmd:02x}")
        logger.warning("unknown ESC/POS command %s 0x%02x", name, cmd)
        return 2

    def _symbol(self, data: bytes) -> None:
        """``GS ( k`` payload (cn fn params...); only QR (cn = '1') is understood."""
        if len(data) < 2 or data[0] != ord("1"):
            self.unknown.append("GS ( k non-QR")
            return
        fn = data[1]
        if fn == 67 and len(data) >= 3:
            self._qr.module = data[2]
        elif fn == 69 and len(data) >= 3:
            self._qr.ec = _QR_EC.get(data[2], "L")
        elif fn == 80:
            self._qr.payload = data[3:]
        elif fn == 81:
            self._flush_line(force=False)
            style = self._style
            payload = self._qr.payload.decode("utf-8", errors="replace")
            self._emit(
                DecodedLine("qr", payload, align=style.align, qr_module=self._qr.module, qr_ec=self._qr.ec)
            )
