"""Device-independent vocabulary: status, required action, typed errors, transports.

Every device kind reports one :class:`DeviceStatus` (after XFS4IoT) and every
error carries the :class:`RequiredAction` that clears it.  A driver is a codec
composed with a :class:`Transport`; simulators plug in as transports and speak
the same bytes.
"""

from __future__ import annotations

import enum
from typing import Protocol, runtime_checkable


class DeviceStatus(enum.Enum):
    """What a device reports about itself.  Values are stable identifiers."""

    READY = "ready"
    BUSY = "busy"
    NO_MEDIA = "no_media"  # no card on the reader, no paper in the printer
    MEDIA_LOW = "media_low"  # paper low
    OFFLINE = "offline"
    HARDWARE_ERROR = "hardware_error"
    USER_ERROR = "user_error"  # e.g. card put on wrong, face not in frame


#: Statuses under which a device can take a command.
USABLE_STATUSES = frozenset({DeviceStatus.READY, DeviceStatus.MEDIA_LOW, DeviceStatus.NO_MEDIA})
#: Statuses that take the terminal (or the device's steps) out of service.
FAULT_STATUSES = frozenset({DeviceStatus.OFFLINE, DeviceStatus.HARDWARE_ERROR})


class RequiredAction(enum.Enum):
    """What clears an error (XFS4IoT's required action)."""

    NONE = "none"
    RETRY = "retry"  # the citizen or the software tries again
    WAIT = "wait"  # the device recovers by itself
    RESET = "reset"  # the software resets the device
    CLEAR_BY_STAFF = "clear_by_staff"  # e.g. add paper, clear a jam
    MAINTENANCE = "maintenance"  # an engineer must come


class DeviceError(Exception):
    """Base of every device failure.  Carries the device kind and the required action."""

    default_action = RequiredAction.MAINTENANCE
    default_status = DeviceStatus.HARDWARE_ERROR

    def __init__(
        self,
        message: str,
        *,
        device: str = "",
        action: RequiredAction | None = None,
        status: DeviceStatus | None = None,
    ) -> None:
        super().__init__(message)
        self.device = device
        self.action = action if action is not None else self.default_action
        self.status = status if status is not None else self.default_status

    def __str__(self) -> str:
        prefix = f"[{self.device}] " if self.device else ""
        return f"{prefix}{self.args[0]} (action: {self.action.value})"


class DeviceNotFound(DeviceError):
    """The device is not there (port missing, connection refused, simulator gone)."""

    default_action = RequiredAction.MAINTENANCE
    default_status = DeviceStatus.OFFLINE


class DeviceTimeout(DeviceError):
    """The device did not answer in time."""

    default_action = RequiredAction.RETRY
    default_status = DeviceStatus.OFFLINE


class ProtocolError(DeviceError):
    """A garbled, truncated or unexpected answer on the wire."""

    default_action = RequiredAction.RETRY
    default_status = DeviceStatus.HARDWARE_ERROR


class MediaError(DeviceError):
    """No card, paper out, cover open, page not found: something about the media."""

    default_action = RequiredAction.CLEAR_BY_STAFF
    default_status = DeviceStatus.NO_MEDIA


@runtime_checkable
class Transport(Protocol):
    """A byte pipe: serial port, TCP socket, pty, USB endpoint."""

    def open(self) -> None: ...

    def close(self) -> None: ...

    def write(self, data: bytes) -> None: ...

    def read(self, size: int, timeout: float) -> bytes:
        """Read up to ``size`` bytes, waiting at most ``timeout`` seconds; b"" on timeout."""
        ...


@runtime_checkable
class Device(Protocol):
    """What every device offers the kiosk core."""

    kind: str

    def status(self) -> DeviceStatus: ...

    def close(self) -> None: ...
