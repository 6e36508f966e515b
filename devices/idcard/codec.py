"""GA/T 467 SAM frame codec: command and response frames, incremental parser, status words.

Command frame (host -> SAM)::

    AA AA AA 96 69 | Len(2, big endian) | CMD | PARA | data ... | CHK

Response frame (SAM -> host)::

    AA AA AA 96 69 | Len(2, big endian) | SW1 | SW2 | SW3 | data ... | CHK

``Len`` counts the bytes after the length field, checksum included.  ``CHK``
is the XOR of the two length bytes and every following byte before ``CHK``.
SW1 SW2 are ``00 00``; SW3 is the status (0x90 success, 0x9F find-card
success, 0x80 no card, ...), see :class:`SamCode`.

This module only turns bytes into values and back; it does no I/O.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field

from devices.base import (
    DeviceError,
    DeviceStatus,
    MediaError,
    ProtocolError,
    RequiredAction,
)

logger = logging.getLogger(__name__)

DEVICE_KIND = "idcard"

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
#: Largest Len we accept.  A text+photo read is 0x0508 (1288); with fingerprint data
#: (30 10) real readers send up to 0x0D08.  Anything beyond is line noise.
MAX_LENGTH = 0x1000
MIN_COMMAND_LENGTH = 3  # CMD PARA CHK
MIN_RESPONSE_LENGTH = 4  # SW1 SW2 SW3 CHK

TEXT_BLOCK_SIZE = 256
PHOTO_BLOCK_SIZE = 1024


class Command(enum.Enum):
    """Commands of the SAM (CMD, PARA).  Values are stable identifiers."""

    FIND_CARD = "find_card"  # 20 01
    SELECT_CARD = "select_card"  # 20 02
    READ_TEXT_PHOTO = "read_text_photo"  # 30 01
    READ_TEXT_PHOTO_FINGERPRINT = "read_text_photo_fingerprint"  # 30 10
    READ_APPENDED_ADDRESS = "read_appended_address"  # 30 03
    RESET_SAM = "reset_sam"  # 10 FF
    SAM_STATUS = "sam_status"  # 11 FF
    SAM_ID = "sam_id"  # 12 FF
    SET_BAUD = "set_baud"  # 60 0x (PARA selects the rate, see BAUD_PARAS)

    @property
    def code(self) -> tuple[int, int]:
        """``(CMD, PARA)`` bytes of the command."""
        return _COMMAND_CODES[self]

    @classmethod
    def from_code(cls, cmd: int, para: int) -> Command | None:
        """The command for ``(cmd, para)`` or ``None`` when it is not one we know."""
        return _COMMANDS_BY_CODE.get((cmd, para))


_COMMAND_CODES: dict[Command, tuple[int, int]] = {
    Command.FIND_CARD: (0x20, 0x01),
    Command.SELECT_CARD: (0x20, 0x02),
    Command.READ_TEXT_PHOTO: (0x30, 0x01),
    Command.READ_TEXT_PHOTO_FINGERPRINT: (0x30, 0x10),
    Command.READ_APPENDED_ADDRESS: (0x30, 0x03),
    Command.RESET_SAM: (0x10, 0xFF),
    Command.SAM_STATUS: (0x11, 0xFF),
    Command.SAM_ID: (0x12, 0xFF),
    Command.SET_BAUD: (0x60, 0x00),
}
#: PARA of the baud rate command (60 PARA) for each rate the SAM supports.
BAUD_PARAS: dict[int, int] = {115200: 0x00, 57600: 0x01, 38400: 0x02, 19200: 0x03, 9600: 0x04}
BAUD_BY_PARA: dict[int, int] = {para: baud for baud, para in BAUD_PARAS.items()}
_COMMANDS_BY_CODE = {code: command for command, code in _COMMAND_CODES.items()}
_COMMANDS_BY_CODE.update({(0x60, para): Command.SET_BAUD for para in BAUD_BY_PARA})


class SamCode(enum.IntEnum):
    """SW3 status codes of GA/T 467."""

    SUCCESS = 0x90
    NO_CONTENT = 0x91  # success, but the requested item is absent (e.g. no fingerprint)
    FIND_OK = 0x9F
    CHECKSUM_ERROR = 0x10  # the SAM received a frame with a wrong checksum
    LENGTH_ERROR = 0x11  # the SAM received a frame with a wrong length
    COMMAND_ERROR = 0x21  # unknown command
    UNAUTHORISED_OPERATION = 0x23
    UNKNOWN_ERROR = 0x24
    CARD_AUTH_SAM_FAILED = 0x31  # the card did not accept the SAM
    SAM_AUTH_CARD_FAILED = 0x32  # the SAM did not accept the card
    VERIFY_FAILED = 0x33  # information verification failed
    UNKNOWN_CARD_TYPE = 0x40
    READ_FAILED = 0x41
    RANDOM_FAILED = 0x47
    SAM_SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORISED = 0x66
    FIND_FAILED = 0x80  # no card on the reader
    SELECT_FAILED = 0x81


class Outcome(enum.Enum):
    """Which family a status belongs to; decides the exception the driver raises."""

    OK = "ok"
    NO_CARD = "no_card"
    CARD = "card"  # something about the card or how it was presented
    LINK = "link"  # the line between host and SAM garbled a frame
    DEVICE = "device"  # the SAM or reader itself is at fault


@dataclass(frozen=True)
class SamStatus:
    """A typed SW3: what it means and what clears it."""

    code: int
    name: str
    outcome: Outcome
    action: RequiredAction
    device_status: DeviceStatus
    description: str

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


def _status(
    code: SamCode, outcome: Outcome, action: RequiredAction, dev: DeviceStatus, text: str
) -> SamStatus:
    return SamStatus(int(code), code.name.lower(), outcome, action, dev, text)


_A = RequiredAction
_S = DeviceStatus
_STATUS_TABLE: dict[int, SamStatus] = {
    s.code: s
    for s in (
        _status(SamCode.SUCCESS, Outcome.OK, _A.NONE, _S.READY, "success"),
        _status(SamCode.NO_CONTENT, Outcome.OK, _A.NONE, _S.READY, "success, no content"),
        _status(SamCode.FIND_OK, Outcome.OK, _A.NONE, _S.READY, "card found"),
        _status(SamCode.FIND_FAILED, Outcome.NO_CARD, _A.RETRY, _S.NO_MEDIA, "no card"),
        _status(SamCode.SELECT_FAILED, Outcome.CARD, _A.RETRY, _S.USER_ERROR, "select card failed"),
        _status(SamCode.READ_FAILED, Outcome.CARD, _A.RETRY, _S.USER_ERROR, "read card failed"),
        _status(SamCode.UNKNOWN_CARD_TYPE, Outcome.CARD, _A.RETRY, _S.USER_ERROR, "unknown card type"),
        _status(SamCode.CARD_AUTH_SAM_FAILED, Outcome.CARD, _A.RETRY, _S.USER_ERROR, "card rejected the SAM"),
        _status(SamCode.SAM_AUTH_CARD_FAILED, Outcome.CARD, _A.RETRY, _S.USER_ERROR, "SAM rejected the card"),
        _status(SamCode.VERIFY_FAILED, Outcome.CARD, _A.RETRY, _S.USER_ERROR, "verification failed"),
        _status(SamCode.RANDOM_FAILED, Outcome.CARD, _A.RETRY, _S.USER_ERROR, "get random failed"),
        _status(SamCode.CHECKSUM_ERROR, Outcome.LINK, _A.RETRY, _S.READY, "SAM received bad checksum"),
        _status(SamCode.LENGTH_ERROR, Outcome.LINK, _A.RETRY, _S.READY, "SAM received bad length"),
        # 21: the SAM did not recognise the frame; on a noisy line that is a garbled command
        _status(SamCode.COMMAND_ERROR, Outcome.LINK, _A.RETRY, _S.READY, "SAM received unknown command"),
        _status(
            SamCode.UNAUTHORISED_OPERATION,
            Outcome.DEVICE,
            _A.MAINTENANCE,
            _S.HARDWARE_ERROR,
            "operation not authorised",
        ),
        _status(SamCode.UNKNOWN_ERROR, Outcome.DEVICE, _A.RESET, _S.HARDWARE_ERROR, "unrecognised error"),
        _status(
            SamCode.SAM_SELF_TEST_FAILED,
            Outcome.DEVICE,
            _A.MAINTENANCE,
            _S.HARDWARE_ERROR,
            "SAM self-test failed",
        ),
        _status(
            SamCode.SAM_NOT_AUTHORISED,
            Outcome.DEVICE,
            _A.MAINTENANCE,
            _S.HARDWARE_ERROR,
            "SAM not authorised",
        ),
    )
}


def interpret_sw3(sw3: int) -> SamStatus:
    """The typed meaning of an SW3 byte; unknown codes are device faults needing a reset."""
    known = _STATUS_TABLE.get(sw3)
    if known is not None:
        return known
    return SamStatus(
        sw3, f"unknown_0x{sw3:02x}", Outcome.DEVICE, _A.RESET, _S.HARDWARE_ERROR, "unknown status"
    )


class CardError(MediaError):
    """The card was pulled, badly placed, unreadable or not genuine.  The citizen retries."""

    default_action = RequiredAction.RETRY
    default_status = DeviceStatus.USER_ERROR

    def __init__(self, message: str, *, sam_status: SamStatus | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.sam_status = sam_status


class SamFault(DeviceError):
    """The SAM module reported a fault of its own (self-test, authorisation, unknown command)."""

    def __init__(self, message: str, *, sam_status: SamStatus | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.sam_status = sam_status


class SamLinkError(ProtocolError):
    """The SAM says the frame it received was garbled (checksum/length)."""

    def __init__(self, message: str, *, sam_status: SamStatus | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.sam_status = sam_status


def error_for(status: SamStatus, command: Command) -> DeviceError:
    """The typed exception for a non-OK status (the caller raises it)."""
    message = f"{command.value}: SW3=0x{status.code:02x} {status.description}"
    common = {"device": DEVICE_KIND, "action": status.action, "status": status.device_status}
    if status.outcome in (Outcome.CARD, Outcome.NO_CARD):
        return CardError(message, sam_status=status, **common)
    if status.outcome is Outcome.LINK:
        return SamLinkError(message, sam_status=status, **common)
    return SamFault(message, sam_status=status, **common)


# ----------------------------------------------------------------- encoding
def checksum(body_with_length: bytes) -> int:
    """XOR of all bytes given (the length field and everything after it up to ``CHK``)."""
    chk = 0
    for byte in body_with_length:
        chk ^= byte
    return chk


def _frame(payload: bytes) -> bytes:
    length = len(payload) + 1
    if length > MAX_LENGTH:
        raise ValueError(f"frame payload too long: {len(payload)} bytes")
    head = length.to_bytes(2, "big") + payload
    return PREAMBLE + head + bytes([checksum(head)])


def encode_command(cmd: int, para: int, data: bytes = b"") -> bytes:
    """A complete command frame, e.g. ``encode_command(0x20, 0x01)`` -> ``AA AA AA 96 69 00 03 20 01 22``."""
    if not (0 <= cmd <= 0xFF and 0 <= para <= 0xFF):
        raise ValueError("cmd and para are single bytes")
    return _frame(bytes([cmd, para]) + data)


def encode(command: Command, data: bytes = b"") -> bytes:
    """:func:`encode_command` for a known :class:`Command`."""
    cmd, para = command.code
    return encode_command(cmd, para, data)


def encode_set_baud(baudrate: int) -> bytes:
    """The 60 0x frame switching the SAM to ``baudrate`` (one of :data:`BAUD_PARAS`)."""
    try:
        para = BAUD_PARAS[baudrate]
    except KeyError as err:
        raise ValueError(f"unsupported baud rate {baudrate}; supported: {sorted(BAUD_PARAS)}") from err
    return encode_command(0x60, para)


def encode_response(sw3: int, data: bytes = b"", sw1: int = 0x00, sw2: int = 0x00) -> bytes:
    """A complete response frame (used by the simulator and by tests)."""
    return _frame(bytes([sw1, sw2, sw3]) + data)


def encode_read_payload(text: bytes, photo: bytes) -> bytes:
    """Data of a successful 30 01 response: text length, photo length (BE), text, photo."""
    return len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo


def encode_read_fp_payload(text: bytes, photo: bytes, fingerprint: bytes) -> bytes:
    """Data of a successful 30 10 response: three BE lengths, then text, photo, fingerprint."""
    lengths = b"".join(len(block).to_bytes(2, "big") for block in (text, photo, fingerprint))
    return lengths + text + photo + fingerprint


#: SAM id data: two 16-bit and three 32-bit little-endian numbers (16 bytes), printed by
#: vendor SDKs as ``05.01-20101117-0000123456-0000654321`` style strings.
SAM_ID_SIZE = 16
#: The appended-address block (30 03): UCS-2LE, space padded, 70 bytes per the card layout.
APPENDED_ADDRESS_SIZE = 70


def encode_sam_id(a: int, b: int, c: int, d: int, e: int) -> bytes:
    """SAM id data bytes for the numbers printed by :func:`format_sam_id`."""
    return (
        a.to_bytes(2, "little")
        + b.to_bytes(2, "little")
        + c.to_bytes(4, "little")
        + d.to_bytes(4, "little")
        + e.to_bytes(4, "little")
    )


def format_sam_id(data: bytes) -> str:
    """The SAM id string (``AA.BB-CCCCCCCC-DDDDDDDDDD-EEEEEEEEEE``) of 12 FF response data."""
    if len(data) < SAM_ID_SIZE:
        raise ProtocolError(f"SAM id data is {len(data)} bytes, expected {SAM_ID_SIZE}", device=DEVICE_KIND)
    a = int.from_bytes(data[0:2], "little")
    b = int.from_bytes(data[2:4], "little")
    c = int.from_bytes(data[4:8], "little")
    d = int.from_bytes(data[8:12], "little")
    e = int.from_bytes(data[12:16], "little")
    return f"{a:02d}.{b:02d}-{c:08d}-{d:010d}-{e:010d}"


def decode_appended_address(data: bytes) -> str:
    """The appended address text of 30 03 response data (stripped of padding)."""
    try:
        return data.decode("utf-16-le").rstrip(" \x00").strip()
    except UnicodeDecodeError as err:
        raise ProtocolError("appended address is not UCS-2LE", device=DEVICE_KIND) from err


# ----------------------------------------------------------------- decoding
@dataclass(frozen=True)
class CommandFrame:
    cmd: int
    para: int
    data: bytes = field(default=b"", repr=False)

    @property
    def command(self) -> Command | None:
        return Command.from_code(self.cmd, self.para)


@dataclass(frozen=True)
class ResponseFrame:
    sw1: int
    sw2: int
    sw3: int
    data: bytes = field(default=b"", repr=False)  # may hold personal data: never in repr

    @property
    def status(self) -> SamStatus:
        return interpret_sw3(self.sw3)


def decode_command(payload: bytes) -> CommandFrame:
    """A command from a frame payload (bytes between the length field and ``CHK``)."""
    if len(payload) < MIN_COMMAND_LENGTH - 1:
        raise ProtocolError(f"command frame too short ({len(payload)} bytes)", device=DEVICE_KIND)
    return CommandFrame(payload[0], payload[1], payload[2:])


def decode_response(payload: bytes) -> ResponseFrame:
    """A response from a frame payload (bytes between the length field and ``CHK``)."""
    if len(payload) < MIN_RESPONSE_LENGTH - 1:
        raise ProtocolError(f"response frame too short ({len(payload)} bytes)", device=DEVICE_KIND)
    return ResponseFrame(payload[0], payload[1], payload[2], payload[3:])


@dataclass(frozen=True)
class ReadPayload:
    """The data of a successful read text+photo response."""

    text: bytes = field(repr=False)
    photo: bytes = field(repr=False)


def decode_read_payload(data: bytes) -> ReadPayload:
    """Split 30 01 response data into the 256-byte text and 1024-byte photo blocks."""
    if len(data) < 4:
        raise ProtocolError("read response without length header", device=DEVICE_KIND)
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    if text_len != TEXT_BLOCK_SIZE or photo_len != PHOTO_BLOCK_SIZE:
        raise ProtocolError(f"unexpected block sizes text={text_len} photo={photo_len}", device=DEVICE_KIND)
    if len(data) < 4 + text_len + photo_len:
        raise ProtocolError(
            f"read response shorter than announced ({len(data)} < {4 + text_len + photo_len})",
            device=DEVICE_KIND,
        )
    text = data[4 : 4 + text_len]
    photo = data[4 + text_len : 4 + text_len + photo_len]
    return ReadPayload(text=text, photo=photo)


@dataclass(frozen=True)
class ReadFpPayload:
    """The data of a successful read text+photo+fingerprint response (30 10)."""

    text: bytes = field(repr=False)
    photo: bytes = field(repr=False)
    fingerprint: bytes = field(repr=False)  # empty when the card holds none


def decode_read_fp_payload(data: bytes) -> ReadFpPayload:
    """Split 30 10 response data into text, photo and fingerprint blocks."""
    if len(data) < 6:
        raise ProtocolError("read response without length header", device=DEVICE_KIND)
    text_len, photo_len, fp_len = (int.from_bytes(data[i : i + 2], "big") for i in (0, 2, 4))
    if text_len != TEXT_BLOCK_SIZE or photo_len != PHOTO_BLOCK_SIZE:
        raise ProtocolError(f"unexpected block sizes text={text_len} photo={photo_len}", device=DEVICE_KIND)
    end = 6 + text_len + photo_len + fp_len
    if len(data) < end:
        raise ProtocolError(f"read response shorter than announced ({len(data)} < {end})", device=DEVICE_KIND)
    text = data[6 : 6 + text_len]
    photo = data[6 + text_len : 6 + text_len + photo_len]
    return ReadFpPayload(text=text, photo=photo, fingerprint=data[6 + text_len + photo_len : end])


class FrameChecksumError(ProtocolError):
    """A frame arrived whose ``CHK`` does not match its content."""


class FrameLengthError(ProtocolError):
    """A frame announced a length no frame of this protocol can have."""


class FrameParser:
    """Incremental frame splitter: feed it bytes as they arrive, get frame payloads out.

    * Bytes before a preamble are discarded (counted in :attr:`discarded`).
    * A frame with a wrong checksum is dropped and :class:`ProtocolError` raised; the
      parser stays usable and keeps any bytes that followed.
    * An implausible length is reported the same way and the parser re-synchronises
      after the bad preamble.
    * A partial frame stays buffered; :meth:`check_complete` raises when one is
      pending (call it when the line went quiet: the frame was truncated).

    ``kind`` is ``"response"`` (host side) or ``"command"`` (simulator side) and only
    sets the minimum plausible length.
    """

    def __init__(self, kind: str = "response") -> None:
        if kind not in ("response", "command"):
            raise ValueError(f"kind must be 'response' or 'command', not {kind!r}")
        self._min_length = MIN_RESPONSE_LENGTH if kind == "response" else MIN_COMMAND_LENGTH
        self._buffer = bytearray()
        self._ready: list[bytes] = []
        self.discarded = 0

    def reset(self) -> None:
        """Forget everything buffered."""
        self.discarded += len(self._buffer)
        self._buffer.clear()
        self._ready.clear()

    @property
    def pending(self) -> int:
        """Bytes buffered that do not form a complete frame yet."""
        return len(self._buffer)

    @property
    def in_frame(self) -> bool:
        """Whether a preamble was seen and its frame is still incomplete."""
        return self._buffer.startswith(PREAMBLE)

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes; return the payloads (``CMD PARA data`` / ``SW1 SW2 SW3 data``) completed.

        Raises :class:`ProtocolError` on a bad checksum or length; frames completed
        before the bad one are kept and returned by the next call (or :meth:`take`).
        """
        self._buffer.extend(data)
        while True:
            payload = self._next()
            if payload is None:
                break
            self._ready.append(payload)
        return self.take()

    def take(self) -> list[bytes]:
        """Payloads completed so far and not returned yet."""
        out, self._ready = self._ready, []
        return out

    def check_complete(self) -> None:
        """Raise :class:`ProtocolError` when a started frame is left incomplete."""
        if self.in_frame:
            have = len(self._buffer)
            self.reset()
            raise ProtocolError(f"truncated frame ({have} bytes buffered)", device=DEVICE_KIND)

    def _next(self) -> bytes | None:
        start = self._buffer.find(PREAMBLE)
        if start < 0:
            # keep a possible preamble prefix at the end, drop the rest as garbage
            keep = 0
            for n in range(min(len(PREAMBLE) - 1, len(self._buffer)), 0, -1):
                if self._buffer.endswith(PREAMBLE[:n]):
                    keep = n
                    break
            drop = len(self._buffer) - keep
            if drop:
                self.discarded += drop
                del self._buffer[:drop]
            return None
        if start:
            self.discarded += start
            del self._buffer[:start]
        if len(self._buffer) < len(PREAMBLE) + 2:
            return None
        length = int.from_bytes(self._buffer[5:7], "big")
        if not (self._min_length <= length <= MAX_LENGTH):
            self.discarded += 1
            del self._buffer[:1]  # re-synchronise after this false/garbled preamble
            raise FrameLengthError(f"implausible frame length {length}", device=DEVICE_KIND)
        total = len(PREAMBLE) + 2 + length
        if len(self._buffer) < total:
            return None
        frame = bytes(self._buffer[:total])
        del self._buffer[:total]
        expected = checksum(frame[5:-1])
        if frame[-1] != expected:
            self.discarded += total
            raise FrameChecksumError(
                f"checksum mismatch (got 0x{frame[-1]:02x}, want 0x{expected:02x})", device=DEVICE_KIND
            )
        return frame[7:-1]
