"""A GA/T 467 ID card reader simulator on a pseudo-terminal.

The simulator owns the master end of a pty pair and answers SAM commands there
in a background thread; the driver opens the slave path (:attr:`IdCardSimulator.port`)
exactly as it would open ``/dev/ttyUSB0``.  Fault injection covers what real readers
do: corrupted checksums, truncated frames, a card pulled between select and read,
a silent reader, and an unplugged cable (:meth:`IdCardSimulator.unplug`).

The port the driver opens is a by-id style symlink to the pty's slave in a private
directory, as udev makes ``/dev/serial/by-id/...`` for a USB reader: it vanishes on
unplug, and no other reader ever gets the same name.  The kernel hands a freed
``/dev/pts/N`` number to the next pty opened anywhere on the machine, so a raw pty name
could start answering (or staying silent) for another process's device after unplug.

Run standalone: ``python -m devices.idcard.simulator --card senior`` prints the port.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
import tty
from dataclasses import dataclass
from pathlib import Path

from devices.base import ProtocolError
from devices.idcard import codec
from devices.idcard.codec import Command, SamCode
from devices.idcard.sim_cards import SimCard, sim_card

logger = logging.getLogger(__name__)

_PACE_CHUNK = 32  # bytes written per paced step (about 2.8 ms at 115200 baud)


@dataclass
class SimulatorFaults:
    """Fault switches; flip them at any time, they apply to the next responses."""

    bad_checksum: bool = False  # every response goes out with a wrong CHK
    truncate: bool = False  # every response is cut in half (and nothing follows)
    remove_after_select: bool = False  # the card is taken away right after a select
    silent: bool = False  # commands are read but never answered
    self_test_failed: bool = False  # the SAM answers every command with SW3 60 (self-test failed)
    delay: float = 0.0  # slow module: seconds before every response
    #: one-shot SW3 answers: the next command of that kind gets the first code of its list
    #: instead of its normal answer (e.g. ``{Command.READ_TEXT_PHOTO: [0x31]}``)
    sw3: dict[Command, list[int]] = dataclasses.field(default_factory=dict)


class IdCardSimulator:
    """Serves the SAM protocol on a pty.  Use as a context manager or call :meth:`start`/:meth:`stop`."""

    def __init__(
        self,
        card: str | SimCard | None = None,
        *,
        faults: SimulatorFaults | None = None,
        read_delay: float = 0.0,
        baudrate: int | None = None,
        sam_id: tuple[int, int, int, int, int] = (5, 1, 20101117, 123456, 654321),
    ) -> None:
        """``baudrate`` paces the simulator's writes like a serial line at that rate
        (ptys deliver bytes instantly); ``None`` writes without pacing.  A 60 0x baud
        command changes the pacing rate."""
        self.faults = faults if faults is not None else SimulatorFaults()
        self.read_delay = read_delay
        self.baudrate = baudrate
        self.sam_id = sam_id
        self.resets = 0
        self._lock = threading.Lock()
        self._card: SimCard | None = None
        self._blocks: tuple[bytes, bytes] | None = None
        self._master: int | None = None
        self._slave: int | None = None
        self._port = ""
        self._pty = ""
        self._link_dir: Path | None = None
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = -1, -1
        self._stopping = threading.Event()
        self.commands: list[Command | None] = []  # what the host sent, in order (None = unknown)
        if card is not None:
            self.insert(card)

    # ----------------------------------------------------------- lifecycle
    @property
    def port(self) -> str:
        """Path the driver opens (set by :meth:`start`): a by-id style symlink to the pty's
        slave end, e.g. ``/tmp/idcard-sim-x1/usb-KIOSK_SIM_SAM-if00-port0``; gone after unplug."""
        if not self._port:
            raise RuntimeError("simulator not started")
        return self._port

    @property
    def pty_name(self) -> str:
        """The kernel's name of the slave end (e.g. ``/dev/pts/7``); may be reused after stop."""
        if not self._pty:
            raise RuntimeError("simulator not started")
        return self._pty

    def start(self) -> IdCardSimulator:
        if self._thread is not None:
            raise RuntimeError("simulator already started")
        master, slave = os.openpty()
        tty.setraw(slave)
        self._master, self._slave = master, slave
        self._pty = os.ttyname(slave)
        self._link_dir = Path(tempfile.mkdtemp(prefix="idcard-sim-"))
        link = self._link_dir / "usb-KIOSK_SIM_SAM-if00-port0"
        link.symlink_to(self._pty)
        self._port = str(link)
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, name="idcard-simulator", daemon=True)
        self._thread.start()
        logger.info("ID card simulator serving on %s", self._port)
        return self

    def __enter__(self) -> IdCardSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def unplug(self) -> None:
        """Pull the cable: the pty master closes, the driver sees EIO and must report DeviceNotFound."""
        self._shutdown()
        logger.info("ID card simulator unplugged")

    def stop(self) -> None:
        """Stop serving and release the pty (same effect on the driver as :meth:`unplug`)."""
        self._shutdown()

    def _shutdown(self) -> None:
        if self._link_dir is not None:  # the name goes first, like udev's by-id link on unplug
            shutil.rmtree(self._link_dir, ignore_errors=True)
            self._link_dir = None
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            os.write(self._wake_w, b"x")
            thread.join(timeout=5)
            for fd in (self._wake_r, self._wake_w):
                os.close(fd)
            self._wake_r = self._wake_w = -1

    # ----------------------------------------------------------- card handling
    def insert(self, card: str | SimCard) -> None:
        """Put a card on the reader: a key of :data:`SIM_CARDS` or a :class:`SimCard`."""
        sim = sim_card(card) if isinstance(card, str) else card
        blocks = (sim.text_block(), sim.photo_block())  # fail here, not in the serving thread
        with self._lock:
            self._card, self._blocks = sim, blocks

    def remove(self) -> None:
        """Take the card away."""
        with self._lock:
            self._card, self._blocks = None, None

    @property
    def card(self) -> SimCard | None:
        with self._lock:
            return self._card

    # ----------------------------------------------------------- serving
    def _serve(self) -> None:
        assert self._master is not None
        master = self._master
        parser = codec.FrameParser(kind="command")
        poller = select.poll()  # not select(): it refuses descriptors numbered 1024 and above
        poller.register(master, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        try:
            while not self._stopping.is_set():
                ready = {fd for fd, _ in poller.poll(500)}
                if self._wake_r in ready or master not in ready:
                    continue
                try:
                    data = os.read(master, 4096)
                except OSError as err:  # no slave open right now (EIO): wait for the next one
                    logger.debug("simulator read: %s", err)
                    time.sleep(0.05)
                    continue
                try:
                    payloads = parser.feed(data)
                except codec.FrameChecksumError:
                    self._send(master, codec.encode_response(SamCode.CHECKSUM_ERROR))
                    payloads = parser.take()
                except ProtocolError:
                    self._send(master, codec.encode_response(SamCode.LENGTH_ERROR))
                    payloads = parser.take()
                for payload in payloads:
                    baud = self.baudrate
                    if baud is not None:  # the command's own time on the wire (the pty was instant)
                        time.sleep((len(payload) + len(codec.PREAMBLE) + 3) * 10 / baud)
                    frame = codec.decode_command(payload)
                    response = self._handle(frame)
                    if response is not None:
                        if self.faults.delay:
                            time.sleep(self.faults.delay)
                        self._send(master, response)
                    if frame.command is Command.SET_BAUD and self.baudrate is not None:
                        self.baudrate = codec.BAUD_BY_PARA.get(frame.para, self.baudrate)
        finally:
            for fd in (self._master, self._slave):
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None

    def _send(self, master: int, frame: bytes) -> None:
        if self.faults.silent:
            return
        if self.faults.bad_checksum:
            frame = frame[:-1] + bytes([frame[-1] ^ 0xFF])
        if self.faults.truncate:
            frame = frame[: max(len(codec.PREAMBLE) + 3, len(frame) // 2)]
        try:
            baud = self.baudrate
            if baud is None:
                os.write(master, frame)
                return
            # pace like a UART: 10 bits per byte (8N1), in small chunks
            start = time.perf_counter()
            for offset in range(0, len(frame), _PACE_CHUNK):
                chunk = frame[offset : offset + _PACE_CHUNK]
                due = start + (offset + len(chunk)) * 10 / baud
                os.write(master, chunk)
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
        except OSError as err:
            logger.debug("simulator write: %s", err)

    def _handle(self, frame: codec.CommandFrame) -> bytes | None:
        command = frame.command
        self.commands.append(command)
        with self._lock:
            card, blocks = self._card, self._blocks
            queued = self.faults.sw3.get(command) if command is not None else None
            forced = queued.pop(0) if queued else None
        if command is Command.RESET_SAM:
            self.resets += 1
        if forced is not None:
            return codec.encode_response(forced)
        if self.faults.self_test_failed and command is not Command.RESET_SAM:
            return codec.encode_response(SamCode.SAM_SELF_TEST_FAILED)
        if command is Command.RESET_SAM:
            return codec.encode_response(SamCode.SUCCESS)
        if command is Command.SAM_STATUS:
            return codec.encode_response(SamCode.SUCCESS)
        if command is Command.SAM_ID:
            return codec.encode_response(SamCode.SUCCESS, codec.encode_sam_id(*self.sam_id))
        if command is Command.SET_BAUD:
            return codec.encode_response(SamCode.SUCCESS)
        if command is Command.FIND_CARD:
            if card is None:
                return codec.encode_response(SamCode.FIND_FAILED)
            return codec.encode_response(SamCode.FIND_OK, bytes(4))
        if command is Command.SELECT_CARD:
            if card is None:
                return codec.encode_response(SamCode.SELECT_FAILED)
            if self.faults.remove_after_select:
                self.remove()
            return codec.encode_response(SamCode.SUCCESS, bytes(8))
        if command is Command.READ_TEXT_PHOTO:
            if self.read_delay:
                time.sleep(self.read_delay)
            if blocks is None or self.card is None:
                return codec.encode_response(SamCode.READ_FAILED)
            text, photo = blocks
            return codec.encode_response(SamCode.SUCCESS, codec.encode_read_payload(text, photo))
        if command is Command.READ_TEXT_PHOTO_FINGERPRINT:
            if self.read_delay:
                time.sleep(self.read_delay)
            if blocks is None or card is None or self.card is None:
                return codec.encode_response(SamCode.READ_FAILED)
            text, photo = blocks
            data = codec.encode_read_fp_payload(text, photo, card.fingerprint)
            return codec.encode_response(SamCode.SUCCESS, data)
        if command is Command.READ_APPENDED_ADDRESS:
            if card is None or self.card is None:
                return codec.encode_response(SamCode.READ_FAILED)
            if card.appended_address is None:
                return codec.encode_response(SamCode.NO_CONTENT)
            raw = card.appended_address.encode("utf-16-le")
            raw += " ".encode("utf-16-le") * ((codec.APPENDED_ADDRESS_SIZE - len(raw)) // 2)
            return codec.encode_response(SamCode.SUCCESS, raw)
        return codec.encode_response(SamCode.COMMAND_ERROR)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="GA/T 467 ID card reader simulator on a pty")
    parser.add_argument("--card", help="card on the reader at start: senior, business or expired")
    parser.add_argument("--photo", help="image file for the card photo instead of devices/camera/media/")
    parser.add_argument("--read-delay", type=float, default=0.0, help="seconds a read takes")
    parser.add_argument("--baud", type=int, default=None, help="pace writes at this baud rate")
    args = parser.parse_args(argv)
    card: SimCard | None = sim_card(args.card) if args.card else None
    if card is not None and args.photo:
        card = dataclasses.replace(card, photo_path=Path(args.photo))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with IdCardSimulator(card, read_delay=args.read_delay, baudrate=args.baud) as sim:
        print(sim.port, flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
