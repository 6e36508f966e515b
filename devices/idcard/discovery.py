"""Finding the ID card reader when its /dev name changes (USB re-enumeration).

Stable names come first: ``/dev/serial/by-id/*`` symlinks survive a re-plug (the
driver opens them like any path).  When the configured path is gone,
:func:`find_reader` probes candidate ports with a SAM status command (11 FF) and
returns the first that answers with a well-formed GA/T 467 response frame.
"""

from __future__ import annotations

import glob
import logging
import time
from collections.abc import Iterable

from devices.base import DeviceError
from devices.idcard import codec
from devices.idcard.codec import Command
from devices.idcard.serial_transport import SerialTransport

logger = logging.getLogger(__name__)

#: Patterns searched by :func:`default_candidates`, most stable first.
CANDIDATE_PATTERNS = ("/dev/serial/by-id/*", "/dev/ttyUSB*", "/dev/ttyACM*", "/dev/ttyS*")


def default_candidates() -> list[str]:
    """Existing candidate ports in :data:`CANDIDATE_PATTERNS` order (sorted within a pattern)."""
    out: list[str] = []
    for pattern in CANDIDATE_PATTERNS:
        out.extend(sorted(glob.glob(pattern)))
    return out


def probe(port: str, baudrate: int = 115200, timeout: float = 0.3) -> bool:
    """Whether a GA/T 467 SAM answers a status command on ``port`` within ``timeout`` s.

    Any well-formed response frame counts (even a fault status such as 60: the reader
    is there, the driver reports its state).  Never raises for an absent or busy port.
    """
    transport = SerialTransport(port, baudrate, device="idcard")
    try:
        transport.open()
    except DeviceError as err:
        logger.debug("probe %s: %s", port, err)
        return False
    parser = codec.FrameParser(kind="response")
    try:
        transport.write(codec.encode(Command.SAM_STATUS))
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            chunk = transport.read(256, remaining)
            if not chunk:
                continue
            try:
                if parser.feed(chunk):
                    return True
            except DeviceError:
                parser.reset()
        return False
    except DeviceError as err:
        logger.debug("probe %s: %s", port, err)
        return False
    finally:
        transport.close()


def find_reader(
    candidates: Iterable[str] | None = None, baudrate: int = 115200, timeout: float = 0.3
) -> str | None:
    """The first of ``candidates`` (default :func:`default_candidates`) where a SAM answers."""
    ports = list(candidates) if candidates is not None else default_candidates()
    for port in ports:
        if probe(port, baudrate, timeout):
            logger.info("ID card reader found on %s", port)
            return port
    logger.info("no ID card reader on %d candidate ports", len(ports))
    return None
