"""ISO/IEC 7816-4 APDUs and status words.

A :class:`ResponseApdu` whose status word is not ``90 00`` becomes a
:class:`CardStatusError` carrying the status word and the :class:`RequiredAction`
that clears it (``61xx``/``6Cxx`` never reach callers: the connection handles them).
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.base import DeviceError, DeviceStatus, RequiredAction

KIND = "smartcard"

SW_OK = 0x9000


@dataclass(frozen=True)
class CommandApdu:
    """A short command APDU (case 1..4).  ``le`` is None for no Le; 0 means 256 (short)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise ValueError(f"{name} out of range: {value}")
        if len(self.data) > 255:
            raise ValueError("extended APDUs are not supported (data > 255 bytes)")
        if self.le is not None and not 0 <= self.le <= 256:
            raise ValueError(f"le out of range: {self.le}")

    def with_le(self, le: int) -> CommandApdu:
        return CommandApdu(self.cla, self.ins, self.p1, self.p2, self.data, le)

    def to_bytes(self) -> bytes:
        out = bytearray((self.cla, self.ins, self.p1, self.p2))
        if self.data:
            out.append(len(self.data))
            out += self.data
        if self.le is not None:
            out.append(self.le & 0xFF)  # 256 is coded as 00
        return bytes(out)

    @classmethod
    def parse(cls, raw: bytes) -> CommandApdu:
        """Parse a short APDU (used by the virtual card)."""
        if len(raw) < 4:
            raise ValueError(f"APDU too short ({len(raw)} bytes)")
        cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, b"", body[0] or 256)
        lc = body[0]
        if lc == 0:
            raise ValueError("extended APDUs are not supported")
        if len(body) == 1 + lc:
            return cls(cla, ins, p1, p2, bytes(body[1:]))
        if len(body) == 2 + lc:
            return cls(cla, ins, p1, p2, bytes(body[1 : 1 + lc]), body[-1] or 256)
        raise ValueError(f"APDU length {len(raw)} does not match Lc {lc}")


@dataclass(frozen=True)
class ResponseApdu:
    data: bytes
    sw1: int
    sw2: int

    @property
    def sw(self) -> int:
        return (self.sw1 << 8) | self.sw2

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def to_bytes(self) -> bytes:
        return self.data + bytes((self.sw1, self.sw2))

    @classmethod
    def parse(cls, raw: bytes) -> ResponseApdu:
        if len(raw) < 2:
            raise ValueError(f"response too short ({len(raw)} bytes)")
        return cls(bytes(raw[:-2]), raw[-2], raw[-1])


#: Status words (exact) → (meaning, required action, device status).
_EXACT: dict[int, tuple[str, RequiredAction, DeviceStatus]] = {
    0x6581: ("memory failure", RequiredAction.MAINTENANCE, DeviceStatus.HARDWARE_ERROR),
    0x6700: ("wrong length", RequiredAction.MAINTENANCE, DeviceStatus.HARDWARE_ERROR),
    0x6882: ("secure messaging not supported", RequiredAction.MAINTENANCE, DeviceStatus.HARDWARE_ERROR),
    0x6982: ("security status not satisfied", RequiredAction.RETRY, DeviceStatus.USER_ERROR),
    0x6983: ("authentication method blocked", RequiredAction.CLEAR_BY_STAFF, DeviceStatus.USER_ERROR),
    0x6984: ("reference data not usable", RequiredAction.CLEAR_BY_STAFF, DeviceStatus.USER_ERROR),
    0x6985: ("conditions of use not satisfied", RequiredAction.RETRY, DeviceStatus.USER_ERROR),
    0x6A80: ("incorrect data field", RequiredAction.MAINTENANCE, DeviceStatus.HARDWARE_ERROR),
    0x6A81: ("function not supported", RequiredAction.NONE, DeviceStatus.USER_ERROR),
    0x6A82: ("application or file not found (wrong card)", RequiredAction.NONE, DeviceStatus.USER_ERROR),
    0x6A86: ("incorrect P1/P2", RequiredAction.MAINTENANCE, DeviceStatus.HARDWARE_ERROR),
    0x6A88: ("referenced data not found", RequiredAction.NONE, DeviceStatus.USER_ERROR),
    0x6B00: ("wrong parameters P1/P2", RequiredAction.MAINTENANCE, DeviceStatus.HARDWARE_ERROR),
    0x6D00: ("instruction not supported (wrong card)", RequiredAction.NONE, DeviceStatus.USER_ERROR),
    0x6E00: ("class not supported (wrong card)", RequiredAction.NONE, DeviceStatus.USER_ERROR),
    0x6F00: ("card internal error", RequiredAction.RETRY, DeviceStatus.HARDWARE_ERROR),
}


class CardStatusError(DeviceError):
    """The card answered with an error status word."""

    default_action = RequiredAction.RETRY
    default_status = DeviceStatus.USER_ERROR

    def __init__(self, message: str, *, sw: int, action: RequiredAction, status: DeviceStatus) -> None:
        super().__init__(message, device=KIND, action=action, status=status)
        self.sw = sw


def describe_sw(sw: int) -> tuple[str, RequiredAction, DeviceStatus]:
    """Meaning, required action and device status for an error status word."""
    if sw in _EXACT:
        return _EXACT[sw]
    sw1, sw2 = sw >> 8, sw & 0xFF
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        return (
            f"verification failed, {sw2 & 0x0F} tries left",
            RequiredAction.RETRY,
            DeviceStatus.USER_ERROR,
        )
    if sw1 in (0x62, 0x63):
        return ("warning, non-volatile memory state", RequiredAction.RETRY, DeviceStatus.USER_ERROR)
    if sw1 in (0x64, 0x65, 0x66):
        return ("execution error", RequiredAction.RETRY, DeviceStatus.HARDWARE_ERROR)
    if sw1 in (0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E):
        return ("checking error", RequiredAction.MAINTENANCE, DeviceStatus.HARDWARE_ERROR)
    return ("unknown status word", RequiredAction.MAINTENANCE, DeviceStatus.HARDWARE_ERROR)


def check(resp: ResponseApdu, what: str) -> bytes:
    """The response data if the status word is 90 00, else raise :class:`CardStatusError`."""
    if resp.ok:
        return resp.data
    meaning, action, status = describe_sw(resp.sw)
    raise CardStatusError(f"{what}: SW {resp.sw:04X} ({meaning})", sw=resp.sw, action=action, status=status)
