"""The platform client against hostile answers (real HTTP on 127.0.0.1): redirects, wrong shapes,
huge and slow bodies, absurd Retry-After, a skewed clock."""

from __future__ import annotations

import email.utils
import json
import time
import uuid
from http.server import BaseHTTPRequestHandler

import pytest

from kiosk.cases.platform_client import (
    Limits,
    PlatformClient,
    PlatformError,
    PlatformUnauthorized,
    PlatformUnavailable,
)
from tests.kiosk.hostile_platform import HostileServer, hostile, json_answer

ACK = {"case_id": "", "platform_ref": "EVIL0001", "received_at": 1.0, "status": "received"}


class _Recorder:
    """Answers like the platform would (an acknowledgement) and remembers it was asked."""

    def __init__(self) -> None:
        self.hits = 0

    def __call__(self, h: BaseHTTPRequestHandler) -> None:
        self.hits += 1
        json_answer(json.dumps({**ACK, "case_id": "?"}).encode(), 201)(h)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_never_followed_nor_taken_as_an_acknowledgement(status: int) -> None:
    elsewhere = _Recorder()
    with hostile(elsewhere) as other:

        def redirect(h: BaseHTTPRequestHandler) -> None:
            h.send_response(status)
            h.send_header("Location", f"{other.url}/api/v1/cases")
            h.send_header("Content-Length", "0")
            h.end_headers()

        with hostile(redirect) as server, PlatformClient(server.url, "T1", timeout=3.0, token="t") as client:
            with pytest.raises(PlatformUnavailable, match="redirect") as info:
                client.upload_case(str(uuid.uuid4()), "x", b"sealed case")
            assert info.value.status == status
    assert elsewhere.hits == 0 and other.requests == []


def test_an_https_client_refuses_an_http_platform() -> None:
    with pytest.raises(ValueError, match="https"):
        PlatformClient("http://platform.example", "T1", require_https=True)
    PlatformClient("https://platform.example", "T1", require_https=True).close()


_WRONG_SHAPES = {
    "null": b"null",
    "list": b"[1, 2]",
    "string": b'"token"',
    "number": b"42",
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "deep-object": b'{"a":' * 5000 + b"1" + b"}" * 5000,
    "not json": b"<html>",
    "wrong fields": b'[{"item_id": 1}]',
}


@pytest.mark.parametrize("call", ["enrol", "list_packages", "list_warning_lists"])
@pytest.mark.parametrize("shape", sorted(_WRONG_SHAPES))
def test_answers_of_the_wrong_shape_are_platform_errors(call: str, shape: str) -> None:
    with (
        hostile(json_answer(_WRONG_SHAPES[shape])) as server,
        PlatformClient(server.url, "T1", timeout=3.0, token="t") as client,
        pytest.raises(PlatformUnavailable, match=r"contract|deeper"),
    ):
        getattr(client, call)()


def test_an_enrolment_answer_without_a_token_is_refused() -> None:
    with (
        hostile(json_answer(b'{"token": ""}')) as server,
        PlatformClient(server.url, "T1", timeout=3.0) as client,
    ):
        with pytest.raises(PlatformError):
            client.enrol()
        assert client.token is None and client.enrolment is None


@pytest.mark.parametrize(
    "value", ["inf", "Infinity", "1e308", "99999999999", "Fri, 31 Dec 9999 23:59:59 GMT", "nan"]
)
def test_retry_after_is_capped(value: str) -> None:
    with (
        hostile(json_answer(b'{"detail":"busy"}', 503, {"Retry-After": value})) as server,
        PlatformClient(server.url, "T1", timeout=3.0, token="t", limits=Limits(max_retry_after_s=600)) as c,
        pytest.raises(PlatformUnavailable) as info,
    ):
        c.list_packages()
    expected = None if value == "nan" else 600.0
    assert info.value.retry_after == expected


def test_an_announced_huge_answer_is_refused_without_reading_it() -> None:
    def huge(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(400 * 1024 * 1024))
        h.end_headers()
        h.wfile.write(b"[" + b" " * 65536)

    with hostile(huge) as server, PlatformClient(server.url, "T1", timeout=5.0, token="t") as client:
        started = time.monotonic()
        with pytest.raises(PlatformUnavailable, match="cap"):
            client.list_packages()
        assert time.monotonic() - started < 2.0


def test_an_endless_answer_is_cut_at_the_cap() -> None:
    def endless(server: list[HostileServer]) -> object:
        def answer(h: BaseHTTPRequestHandler) -> None:
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Connection", "close")
            h.end_headers()
            for _ in range(4096):  # 256 MB unless the client hangs up
                server[0].write(h, b" " * 65536)

        return answer

    holder: list[HostileServer] = []
    with hostile(endless(holder)) as server:  # type: ignore[arg-type]
        holder.append(server)
        with (
            PlatformClient(
                server.url, "T1", timeout=10.0, token="t", limits=Limits(max_body_bytes=1024 * 1024)
            ) as client,
            pytest.raises(PlatformUnavailable, match="cap"),
        ):
            client.list_packages()
        time.sleep(0.2)
        assert server.sent_bytes < 64 * 1024 * 1024


@pytest.mark.parametrize("phase", ["body", "headers"])
def test_a_dripping_answer_fails_at_the_request_deadline(phase: str) -> None:
    def drip(h: BaseHTTPRequestHandler) -> None:
        if phase == "headers":
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: " + b"a" * 50:
                h.wfile.write(bytes([byte]))
                h.wfile.flush()
                time.sleep(0.5)
            return
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "40")
        h.end_headers()
        h.wfile.flush()
        for _ in range(40):
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(2.0 if phase == "body" else 0.5)

    with hostile(drip) as server, PlatformClient(server.url, "T1", timeout=3.0, token="t") as client:
        started = time.monotonic()
        with pytest.raises(PlatformUnavailable):
            client.list_packages()
        elapsed = time.monotonic() - started
    assert 2.5 < elapsed < 4.5, elapsed


def test_clock_skew_is_measured_from_the_date_header() -> None:
    def ahead(h: BaseHTTPRequestHandler) -> None:
        h.date_time_string = lambda timestamp=None: email.utils.formatdate(  # type: ignore[method-assign]
            time.time() + 600, usegmt=True
        )
        json_answer(b"[]")(h)

    with hostile(ahead) as server, PlatformClient(server.url, "T1", timeout=3.0, token="t") as client:
        assert client.clock_skew_s is None
        assert client.list_packages() == []
        assert client.clock_skew_s is not None and 598 <= client.clock_skew_s <= 602


def test_the_platforms_reason_for_refusing_a_timestamp_is_kept() -> None:
    refusal = b'{"detail":"X-Timestamp too far from the platform\'s clock"}'
    with (
        hostile(json_answer(refusal, 401)) as server,
        PlatformClient(server.url, "T1", timeout=3.0, token="t") as client,
        pytest.raises(PlatformUnauthorized) as info,
    ):
        client.list_packages()
    assert info.value.reason == "X-Timestamp too far from the platform's clock"
    assert "too far" in str(info.value)
