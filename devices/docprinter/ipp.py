"""A small IPP/1.1 client (RFC 8010 encoding, RFC 8011 operations) for the local cupsd.

Why not pycups: it has no wheel (it compiles against libcups2-dev on every terminal, the build
packages the runtime install avoids), and the terminal needs five operations.  IPP answers are
keywords and enums, never translated, so the certificate printer reads the same on a
``zh_CN.UTF-8`` terminal as in the C locale.  Transport: HTTP POST to ``/printers/<queue>`` over
cupsd's Unix socket (``/run/cups/cups.sock``: the peer's uid is its identity, as for ``lp``) or
TCP (``host:port``).
"""

from __future__ import annotations

import http.client
import itertools
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

# Operations (RFC 8011 §5.4.15; Purge-Jobs 0x0012 is CUPS's, kept by RFC 8011 as deprecated)
PRINT_JOB = 0x0002
GET_JOB_ATTRIBUTES = 0x0009
GET_JOBS = 0x000A
GET_PRINTER_ATTRIBUTES = 0x000B
PURGE_JOBS = 0x0012

# Delimiter and value tags (RFC 8010 §3.5)
OPERATION_TAG = 0x01
JOB_TAG = 0x02
END_TAG = 0x03
PRINTER_TAG = 0x04
UNSUPPORTED_TAG = 0x05
INTEGER = 0x21
BOOLEAN = 0x22
ENUM = 0x23
TEXT = 0x41
NAME = 0x42
KEYWORD = 0x44
URI = 0x45
CHARSET = 0x47
LANGUAGE = 0x48
MIME = 0x49
_STRING_TAGS = {TEXT, NAME, KEYWORD, URI, CHARSET, LANGUAGE, MIME, 0x46, 0x4A, 0x30, 0x35, 0x36}
_INT_TAGS = {INTEGER, ENUM}

# Printer and job states (RFC 8011 §5.4.11, §5.3.7)
PRINTER_IDLE, PRINTER_PROCESSING, PRINTER_STOPPED = 3, 4, 5
JOB_COMPLETED = 9
JOB_FINISHED = frozenset({7, 8, 9})  # canceled, aborted, completed

Value = int | bool | str | bytes
_ids = itertools.count(1)


class IppError(Exception):
    """The scheduler answered with an error status (``status`` is the IPP status code)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"IPP status 0x{status:04x}: {message}")
        self.status = status


@dataclass
class IppResponse:
    status: int
    request_id: int
    groups: list[tuple[int, dict[str, list[Value]]]] = field(default_factory=list)

    def group(self, tag: int) -> dict[str, list[Value]]:
        """The first group of ``tag`` (empty when none)."""
        return next((attrs for t, attrs in self.groups if t == tag), {})

    def all(self, tag: int) -> list[dict[str, list[Value]]]:
        return [attrs for t, attrs in self.groups if t == tag]


def _attr(tag: int, name: str, values: Iterable[Value]) -> bytes:
    out = b""
    for i, value in enumerate(values):
        if isinstance(value, bool):
            raw = b"\x01" if value else b"\x00"
        elif isinstance(value, int):
            raw = struct.pack(">i", value)
        elif isinstance(value, str):
            raw = value.encode("utf-8")
        else:
            raw = value
        label = name.encode("ascii") if i == 0 else b""  # further values: additional-value form
        out += struct.pack(">BH", tag, len(label)) + label + struct.pack(">H", len(raw)) + raw
    return out


def encode_request(
    operation: int,
    printer_uri: str,
    *,
    request_id: int,
    user: str = "hall-kiosk",
    operation_attrs: Iterable[tuple[int, str, list[Value]]] = (),
) -> bytes:
    """The IPP message header and operation group (charset, language, printer-uri first, as
    RFC 8011 §4.1.4 orders them)."""
    body = struct.pack(">BBHI", 1, 1, operation, request_id) + bytes([OPERATION_TAG])
    body += _attr(CHARSET, "attributes-charset", ["utf-8"])
    body += _attr(LANGUAGE, "attributes-natural-language", ["en"])
    body += _attr(URI, "printer-uri", [printer_uri])
    body += _attr(NAME, "requesting-user-name", [user])
    for tag, name, values in operation_attrs:
        body += _attr(tag, name, values)
    return body + bytes([END_TAG])


def decode_response(data: bytes) -> IppResponse:
    """An IPP response: status, request id and the attribute groups (no document data follows)."""
    if len(data) < 9:
        raise ValueError(f"IPP response too short ({len(data)} bytes)")
    _major, _minor, status, request_id = struct.unpack(">BBHI", data[:8])
    resp = IppResponse(status, request_id)
    pos = 8
    current: dict[str, list[Value]] | None = None
    name = ""
    while pos < len(data):
        tag = data[pos]
        pos += 1
        if tag == END_TAG:
            break
        if tag < 0x10:  # a delimiter: a new group
            current = {}
            resp.groups.append((tag, current))
            continue
        if current is None:
            raise ValueError("IPP value outside an attribute group")
        (name_len,) = struct.unpack(">H", data[pos : pos + 2])
        pos += 2
        if name_len:
            name = data[pos : pos + name_len].decode("utf-8", "replace")
            current.setdefault(name, [])
        pos += name_len
        (value_len,) = struct.unpack(">H", data[pos : pos + 2])
        pos += 2
        raw = data[pos : pos + value_len]
        if len(raw) != value_len:
            raise ValueError("IPP response truncated")
        pos += value_len
        value: Value
        if tag in _INT_TAGS and value_len == 4:
            value = struct.unpack(">i", raw)[0]
        elif tag == BOOLEAN and value_len == 1:
            value = raw != b"\x00"
        elif tag in _STRING_TAGS:
            value = raw.decode("utf-8", "replace")
        else:
            value = raw
        current.setdefault(name, []).append(value)
    return resp


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


class IppClient:
    """IPP requests to one cupsd: ``server`` is ``host:port`` or the path of its Unix socket."""

    def __init__(self, server: str, timeout: float = 15.0) -> None:
        self.server = server
        self.timeout = timeout

    def printer_uri(self, queue: str) -> str:
        host = "localhost" if self.server.startswith("/") else self.server
        return f"ipp://{host}/printers/{queue}"

    def _connection(self) -> http.client.HTTPConnection:
        if self.server.startswith("/"):
            return _UnixHTTPConnection(self.server, self.timeout)
        host, _, port = self.server.rpartition(":")
        return http.client.HTTPConnection(host or self.server, int(port or 631), timeout=self.timeout)

    def request(
        self,
        operation: int,
        queue: str,
        attrs: Iterable[tuple[int, str, list[Value]]] = (),
        document: bytes = b"",
        path: str | None = None,
    ) -> IppResponse:
        """Send one request; raises :class:`IppError` on an IPP error status, :class:`OSError`
        when cupsd cannot be reached, ``ValueError`` on an answer that is not IPP."""
        request_id = next(_ids)
        body = encode_request(
            operation, self.printer_uri(queue), request_id=request_id, operation_attrs=attrs
        )
        conn = self._connection()
        try:
            conn.request(
                "POST", path or f"/printers/{queue}", body + document, {"Content-Type": "application/ipp"}
            )
            answer = conn.getresponse()
            data = answer.read()
        except http.client.HTTPException as err:
            raise OSError(f"HTTP to cupsd failed: {err}") from err
        finally:
            conn.close()
        if answer.status != 200:
            raise OSError(f"cupsd answered HTTP {answer.status} {answer.reason}")
        resp = decode_response(data)
        if resp.status >= 0x0400:
            message = resp.group(OPERATION_TAG).get("status-message", [""])
            raise IppError(resp.status, str(message[0]) if message else "")
        return resp
