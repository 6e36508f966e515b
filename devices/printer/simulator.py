"""A network ESC/POS receipt printer on 127.0.0.1, for tests, the demo and development.

It speaks the same bytes as a real printer on port 9100: decodes what it
receives into :class:`DecodedReceipt` objects (complete on cut), answers
``DLE EOT`` real-time status queries from its paper state, and takes faults:
paper low, paper out (now or after N more lines: mid-job), unplugged.

    python -m devices.printer.simulator --port 9100 --out /tmp/receipts
"""

from __future__ import annotations

import argparse
import io
import logging
import socket
import subprocess
import threading
import time
from pathlib import Path

import qrcode
import qrcode.constants
from PIL import Image, ImageDraw, ImageFont

from devices.printer.codec import (
    FIXED_VALUE,
    OFFLINE_PAPER_END_STOP,
    PAPER_END,
    PAPER_NEAR_END,
    PRESENTER_PAPER,
    PRINTER_OFFLINE,
)
from devices.printer.decoder import DecodedLine, DecodedReceipt, DecoderHooks, EscPosDecoder
from devices.printer.profiles import PrinterProfile, get_profile

logger = logging.getLogger(__name__)
wire = logging.getLogger("devices.printer.wire")

#: Where a CJK font is usually found (Debian/Ubuntu fonts-noto-cjk, fonts-wqy, Droid fallback).
KNOWN_CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
_QR_EC = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
_BASE_DOTS = 24  # font A: 12x24, CJK 24x24


def find_cjk_font() -> str:
    """Path of a font that has Chinese glyphs: ``fc-match`` first, then known paths."""
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", "Noto Sans CJK SC:lang=zh-cn"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        found = ""
    candidates = ([found] if found else []) + list(KNOWN_CJK_FONTS)
    for path in candidates:
        if path and Path(path).is_file() and any(k in path for k in ("CJK", "wqy", "Droid")):
            return path
    raise FileNotFoundError("no CJK font found (install fonts-noto-cjk)")


def _load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """The Simplified Chinese face of a collection when there is one."""
    if path.endswith(".ttc"):
        for index in range(10):
            try:
                font = ImageFont.truetype(path, size, index=index)
            except OSError:
                break
            family = font.getname()[0]
            if family is not None and family.endswith(" SC"):
                return font
    return ImageFont.truetype(path, size)


def render_receipt(
    receipt: DecodedReceipt, width_dots: int = 576, font_path: str | None = None
) -> Image.Image:
    """Draw a decoded receipt as the paper would look (white, black print, real QR symbols)."""
    path = font_path or find_cjk_font()
    fonts = {size: _load_font(path, size) for size in (_BASE_DOTS, 2 * _BASE_DOTS)}
    parts: list[tuple[Image.Image, str]] = []
    for line in receipt.lines:
        parts.append((_render_line(line, width_dots, fonts), line.align))
    height = sum(img.height for img, _ in parts) + 2 * _BASE_DOTS
    page = Image.new("L", (width_dots, max(height, 1)), 255)
    y = _BASE_DOTS
    for img, align in parts:
        x = {"left": 0, "center": (width_dots - img.width) // 2, "right": width_dots - img.width}[align]
        page.paste(img, (max(x, 0), y))
        y += img.height
    return page


def _render_line(line: DecodedLine, width_dots: int, fonts: dict[int, ImageFont.FreeTypeFont]) -> Image.Image:
    if line.kind == "qr":
        code = qrcode.QRCode(box_size=max(line.qr_module, 1), border=4, error_correction=_QR_EC[line.qr_ec])
        code.add_data(line.text)
        code.make(fit=True)
        matrix = code.get_matrix()  # includes the quiet zone
        side = len(matrix) * code.box_size
        img = Image.new("L", (side, side), 255)
        draw = ImageDraw.Draw(img)
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark:
                    x, y = c * code.box_size, r * code.box_size
                    draw.rectangle((x, y, x + code.box_size - 1, y + code.box_size - 1), fill=0)
        return img
    if line.kind == "image" and line.image_width_bytes and line.image_height:
        bits = Image.frombytes("1", (line.image_width_bytes * 8, line.image_height), line.image_data)
        return Image.eval(bits.convert("L"), lambda v: 255 - v)
    if line.kind in ("feed", "image") or not line.text:
        return Image.new("L", (1, _BASE_DOTS + 6), 255)
    font = fonts[2 * _BASE_DOTS if line.double else _BASE_DOTS]
    _, _, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), line.text, font=font)
    height = max(int(bottom) + 4, int(font.size * 1.25))
    img = Image.new("L", (min(max(int(right) + 2, 1), width_dots), height), 255)
    ImageDraw.Draw(img).text(
        (0, 0), line.text, font=font, fill=0, stroke_width=1 if line.bold else 0, stroke_fill=0
    )
    return img


def render_png(receipt: DecodedReceipt, width_dots: int = 576, font_path: str | None = None) -> bytes:
    out = io.BytesIO()
    render_receipt(receipt, width_dots, font_path).save(out, format="PNG")
    return out.getvalue()


class ReceiptPrinterSimulator:
    """A TCP ESC/POS printer in a background thread.  One connection at a time, like port 9100."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, profile: str = "generic-80mm") -> None:
        self.host = host
        self.profile: PrinterProfile = get_profile(profile)
        self._requested_port = port
        self._port = 0
        self._lock = threading.Lock()
        self._receipts: list[DecodedReceipt] = []
        self._aborted: list[DecodedReceipt] = []
        self._paper = "ok"  # ok | low | out
        self._lines_left: int | None = None
        self._in_exit = False  # presenter sensor: a cut receipt waits to be taken
        self._decoder = EscPosDecoder(DecoderHooks(self._status_byte, self._take_line, self._finished))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: socket.socket | None = None
        self._conn: socket.socket | None = None
        self.connections = 0

    # ------------------------------------------------------------ lifecycle
    @property
    def port(self) -> int:
        return self._port

    def start(self) -> ReceiptPrinterSimulator:
        if self._thread is not None:
            return self
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self._port or self._requested_port))
        listener.listen(4)
        listener.settimeout(0.05)
        self._listener = listener
        self._port = listener.getsockname()[1]
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name=f"escpos-sim:{self._port}", daemon=True)
        self._thread.start()
        logger.info("receipt printer simulator listening on %s:%d", self.host, self._port)
        return self

    def stop(self) -> None:
        """Stop serving and close every socket (what pulling the network cable looks like)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        conn = self._conn
        if conn is not None:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already gone
        thread.join(timeout=5)
        with self._lock:
            self._decoder.abort()

    def __enter__(self) -> ReceiptPrinterSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ faults
    def unplug(self) -> None:
        """Connections refused and the open one closed, until :meth:`plug_in`."""
        self.stop()

    go_offline = unplug

    def plug_in(self) -> None:
        """Serve again on the same port."""
        self.start()

    def paper_out(self) -> None:
        with self._lock:
            self._paper, self._lines_left = "out", None

    def paper_low(self) -> None:
        with self._lock:
            self._paper, self._lines_left = "low", None

    def refill(self) -> None:
        with self._lock:
            self._paper, self._lines_left = "ok", None

    def paper_out_after(self, lines: int) -> None:
        """Paper runs out after ``lines`` more printed lines (out of paper mid-job)."""
        with self._lock:
            self._lines_left = lines

    def take_receipt(self) -> None:
        """The citizen pulls the receipt out of the presenter."""
        with self._lock:
            self._in_exit = False

    @property
    def receipt_in_exit(self) -> bool:
        with self._lock:
            return self._in_exit

    # ------------------------------------------------------------ results
    @property
    def receipts(self) -> list[DecodedReceipt]:
        """Receipts printed to the end (cut)."""
        with self._lock:
            return list(self._receipts)

    @property
    def aborted(self) -> list[DecodedReceipt]:
        """Receipts cut short (paper out mid-job, link dropped)."""
        with self._lock:
            return list(self._aborted)

    def collect(self) -> list[DecodedReceipt]:
        """Take the printed receipts (whole and cut short) out of the tray: the simulator keeps
        them until then, which a bench printing thousands must not let pile up."""
        with self._lock:
            taken = [*self._receipts, *self._aborted]
            self._receipts.clear()
            self._aborted.clear()
            return taken

    @property
    def unknown_commands(self) -> list[str]:
        with self._lock:
            return list(self._decoder.unknown)

    def wait_for_receipts(self, count: int, timeout: float = 5.0) -> list[DecodedReceipt]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.receipts
            if len(got) >= count:
                return got
            time.sleep(0.01)
        raise TimeoutError(f"expected {count} receipts, have {len(self.receipts)}")

    def render_png(self, receipt: DecodedReceipt) -> bytes:
        return render_png(receipt, self.profile.width_dots)

    # ------------------------------------------------------------ decoder hooks (lock held)
    def _status_byte(self, n: int) -> int:
        out = self._paper == "out"
        if n == 1:
            return FIXED_VALUE | (PRINTER_OFFLINE if out else 0)
        if n == 2:
            return FIXED_VALUE | (OFFLINE_PAPER_END_STOP if out else 0)
        if n == 4:
            if out:
                return FIXED_VALUE | PAPER_END | PAPER_NEAR_END
            return FIXED_VALUE | (PAPER_NEAR_END if self._paper == "low" else 0)
        if n == 5:
            return FIXED_VALUE | (PRESENTER_PAPER if self._in_exit else 0)
        return FIXED_VALUE

    def _take_line(self) -> bool:
        if self._paper == "out":
            return False
        if self._lines_left is not None:
            if self._lines_left <= 0:
                self._paper, self._lines_left = "out", None
                return False
            self._lines_left -= 1
        return True

    def _finished(self, receipt: DecodedReceipt) -> None:
        (self._receipts if receipt.complete else self._aborted).append(receipt)
        self._in_exit = True  # cut (or torn off at paper end): the slip sits in the exit
        logger.info("receipt %s: %d lines", "printed" if receipt.complete else "aborted", len(receipt.lines))

    # ------------------------------------------------------------ server thread
    def _serve(self) -> None:
        listener = self._listener
        assert listener is not None
        try:
            while not self._stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                self.connections += 1
                self._conn = conn
                try:
                    self._handle(conn)
                finally:
                    self._conn = None
                    conn.close()
        finally:
            listener.close()
            self._listener = None

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        while not self._stop.is_set():
            try:
                data = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            wire.debug("sim rx %d bytes", len(data))
            with self._lock:
                answer = self._decoder.feed(data)
            if answer:
                try:
                    conn.sendall(answer)
                except OSError:
                    return
                wire.debug("sim tx %d bytes", len(answer))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ESC/POS receipt printer simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--profile", default="generic-80mm")
    parser.add_argument("--out", type=Path, help="write each receipt as PNG and TXT into this directory")
    parser.add_argument("--paper", choices=("ok", "low", "out"), default="ok")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    sim = ReceiptPrinterSimulator(args.host, args.port, args.profile)
    {"ok": sim.refill, "low": sim.paper_low, "out": sim.paper_out}[args.paper]()
    sim.start()
    print(f"receipt printer simulator on {args.host}:{sim.port} (Ctrl-C to stop)", flush=True)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    seen = 0
    try:
        while True:
            receipts = sim.receipts
            for receipt in receipts[seen:]:
                seen += 1
                if args.out:
                    (args.out / f"receipt-{seen:04d}.txt").write_text(receipt.text + "\n", encoding="utf-8")
                    (args.out / f"receipt-{seen:04d}.png").write_bytes(sim.render_png(receipt))
                print(
                    f"receipt {seen}: {len(receipt.lines)} lines, {len(receipt.qr_payloads)} QR", flush=True
                )
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
