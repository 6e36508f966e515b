"""Device discovery for ``hall-kiosk provision``: what is plugged into this box.

* GA/T 467 ID card readers: serial ports probed with the SAM status command
  (devices/idcard/discovery.py); stable /dev/serial/by-id names first.
* PC/SC readers (staff card): pyscard's reader list (pcscd must run).
* V4L2 cameras: /dev/video* capture nodes and the pixel formats each offers (VIDIOC_ENUM_FMT).
* CUPS queues: ``lpstat`` in the C locale (its output is translated otherwise).
* ESC/POS receipt printers: network candidates answering a real-time status request (DLE EOT 1)
  on port 9100; USB printers from sysfs (printer class 07 or a known thermal printer's ids,
  terminal/provision_usb.py).

Every probe is bounded and never raises: a missing tool or daemon is an empty answer with a note.
"""

from __future__ import annotations

import fcntl
import glob
import logging
import os
import socket
import struct
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from terminal.provision_usb import UsbPrinter, usb_escpos_printers

log = logging.getLogger(__name__)

C_LOCALE = {"LC_ALL": "C", "LANG": "C", "LANGUAGE": ""}


@dataclass(frozen=True)
class Camera:
    path: str
    name: str
    formats: tuple[str, ...]  # FOURCCs, e.g. ("MJPG", "YUYV")


@dataclass
class Found:
    """What discovery found (one list per kind) and what it could not look at."""

    idcard_ports: list[str] = field(default_factory=list)
    pcsc_readers: list[str] = field(default_factory=list)
    cameras: list[Camera] = field(default_factory=list)
    cups_queues: list[str] = field(default_factory=list)
    escpos_network: list[str] = field(default_factory=list)  # "host:port"
    usb_printers: list[str] = field(default_factory=list)  # sysfs interface names
    usb_escpos: list[UsbPrinter] = field(default_factory=list)  # receipt printers first
    notes: list[str] = field(default_factory=list)


def idcard_ports(candidates: Sequence[str] | None = None, timeout: float = 0.3) -> list[str]:
    """Ports where a GA/T 467 SAM answers its status command."""
    from devices.idcard.discovery import default_candidates, probe

    ports = list(candidates) if candidates is not None else default_candidates()
    seen: set[str] = set()
    found = []
    for port in ports:
        real = os.path.realpath(port)
        if real in seen:  # a by-id link and its ttyUSB node are one reader
            continue
        if probe(port, timeout=timeout):
            seen.add(real)
            found.append(port)
    return found


def pcsc_readers() -> tuple[list[str], str | None]:
    try:
        from smartcard.System import readers

        return [str(r) for r in readers()], None
    except Exception as err:  # pcscd not running, no pyscard: a note, not a failure
        return [], f"PC/SC: {type(err).__name__}: {err}"


# V4L2 ioctls (linux/videodev2.h): struct v4l2_capability is 104 bytes, v4l2_fmtdesc 64.
_VIDIOC_QUERYCAP = 0x80685600
_VIDIOC_ENUM_FMT = 0xC0405602
_V4L2_CAP_VIDEO_CAPTURE = 0x1
_V4L2_CAP_DEVICE_CAPS = 0x80000000
_V4L2_BUF_TYPE_VIDEO_CAPTURE = 1


def v4l2_camera(path: str) -> Camera | None:
    """The capture node at ``path`` with its formats; None for metadata/output nodes."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    except OSError as err:
        log.debug("%s: %s", path, err)
        return None
    try:
        cap = bytearray(104)
        fcntl.ioctl(fd, _VIDIOC_QUERYCAP, cap)
        card = bytes(cap[16:48]).split(b"\0", 1)[0].decode("utf-8", "replace")
        caps, device_caps = struct.unpack_from("<II", cap, 84)
        effective = device_caps if caps & _V4L2_CAP_DEVICE_CAPS else caps
        if not effective & _V4L2_CAP_VIDEO_CAPTURE:
            return None
        formats = []
        for index in range(32):
            desc = bytearray(64)
            struct.pack_into("<II", desc, 0, index, _V4L2_BUF_TYPE_VIDEO_CAPTURE)
            try:
                fcntl.ioctl(fd, _VIDIOC_ENUM_FMT, desc)
            except OSError:
                break
            (fourcc,) = struct.unpack_from("<I", desc, 44)
            formats.append(fourcc.to_bytes(4, "little").decode("ascii", "replace").strip())
        return Camera(path, card, tuple(formats))
    except OSError as err:
        log.debug("%s: %s", path, err)
        return None
    finally:
        os.close(fd)


def cameras(paths: Iterable[str] | None = None) -> list[Camera]:
    """V4L2 capture devices, by stable name where udev gave one."""
    nodes = sorted(paths if paths is not None else glob.glob("/dev/video*"))
    by_id = {os.path.realpath(p): p for p in glob.glob("/dev/v4l/by-id/*")}
    found = []
    for node in nodes:
        cam = v4l2_camera(node)
        if cam is not None:
            found.append(Camera(by_id.get(os.path.realpath(node), node), cam.name, cam.formats))
    return found


def cups_queues(server: str | None = None, timeout: float = 10.0) -> tuple[list[str], str | None]:
    """The CUPS queue names (``lpstat -e``, C locale)."""
    cmd = ["lpstat"] + (["-h", server] if server else []) + ["-e"]
    try:
        out = subprocess.run(
            cmd, capture_output=True, timeout=timeout, check=False, env={**os.environ, **C_LOCALE}
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return [], f"CUPS: {type(err).__name__}: {err}"
    if out.returncode != 0:
        return [], f"CUPS: lpstat -e: {out.stderr.decode('utf-8', 'replace').strip()}"
    return [q for q in out.stdout.decode("utf-8", "replace").split() if q], None


def escpos_answers(host: str, port: int = 9100, timeout: float = 1.0) -> bool:
    """Whether an ESC/POS printer at host:port answers DLE EOT 1 (printer status) with one byte
    shaped like a status byte (bit 1 set, bit 7 clear)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"\x10\x04\x01")
            answer = sock.recv(1)
    except OSError:
        return False
    return len(answer) == 1 and answer[0] & 0x02 == 0x02 and not answer[0] & 0x80


def usb_printers(sysfs: Path = Path("/sys/bus/usb/devices")) -> list[str]:
    """USB interfaces of the printer class (07): ESC/POS and A4 printers alike."""
    found = []
    for iface in sorted(sysfs.glob("*:*")):
        try:
            if (iface / "bInterfaceClass").read_text().strip() == "07":
                found.append(iface.name)
        except OSError:
            continue
    return found


def discover(
    *,
    serial_candidates: Sequence[str] | None = None,
    camera_paths: Iterable[str] | None = None,
    printer_hosts: Sequence[str] = (),
    cups_server: str | None = None,
) -> Found:
    """Everything at once (see the module docstring)."""
    found = Found()
    found.idcard_ports = idcard_ports(serial_candidates)
    found.pcsc_readers, note = pcsc_readers()
    if note:
        found.notes.append(note)
    found.cameras = cameras(camera_paths)
    found.cups_queues, note = cups_queues(cups_server)
    if note:
        found.notes.append(note)
    for spec in printer_hosts:
        host, _, port = spec.rpartition(":") if ":" in spec else (spec, "", "9100")
        if escpos_answers(host, int(port)):
            found.escpos_network.append(f"{host}:{port}")
        else:
            found.notes.append(f"ESC/POS: no answer from {host}:{port}")
    found.usb_printers = usb_printers()
    found.usb_escpos = usb_escpos_printers()
    return found
