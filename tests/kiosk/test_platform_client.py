"""PlatformClient against a real sandbox platform on 127.0.0.1."""

from __future__ import annotations

import hashlib
import logging
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.cases.platform_client import (
    PlatformClient,
    PlatformConflict,
    PlatformIntegrityError,
    PlatformRejected,
    PlatformUnauthorized,
    PlatformUnavailable,
    parse_retry_after,
)
from sandbox_platform.server import SandboxServer

PACKAGE = b'{"id":"x","version":"1"}'
WARNINGS = b'{"name":"dishonest","version":"2","entries":[]}'


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    items = tmp_path / "items"
    (items / "warning_lists").mkdir(parents=True)
    (items / "x.json").write_bytes(PACKAGE)
    (items / "warning_lists" / "dishonest.json").write_bytes(WARNINGS)
    srv = SandboxServer(tmp_path / "platform", items).start()
    yield srv
    srv.close()


@pytest.fixture
def client(server: SandboxServer) -> Iterator[PlatformClient]:
    c = PlatformClient(server.url, "T1", timeout=3.0)
    c.enrol({"model": "test"}, code=c.sandbox.issue_enrolment_code(c.terminal_id))
    yield c
    c.close()


def test_enrol_and_heartbeat(server: SandboxServer) -> None:
    with PlatformClient(server.url, "T1") as c:
        with pytest.raises(PlatformUnauthorized) as info:
            c.heartbeat({"printer": "ready"})
        assert info.value.status == 401
        token = c.enrol({"site": "hall 1"}, code=c.sandbox.issue_enrolment_code(c.terminal_id))
        assert token and c.token == token
        c.heartbeat({"printer": "ready"})


def test_packages_with_sha256_check(client: PlatformClient) -> None:
    listing = client.list_packages()
    assert [(p.item_id, p.version) for p in listing] == [("x", "1")]
    assert listing[0].sha256 == hashlib.sha256(PACKAGE).hexdigest()
    assert client.fetch_package("x", expected_sha256=listing[0].sha256) == PACKAGE
    with pytest.raises(PlatformIntegrityError):
        client.fetch_package("x", expected_sha256="0" * 64)
    with pytest.raises(PlatformRejected) as info:
        client.fetch_package("missing")
    assert info.value.status == 404
    lists = client.list_warning_lists()
    assert [(w.name, w.version) for w in lists] == [("dishonest", "2")]
    assert client.fetch_warning_list("dishonest", lists[0].sha256) == WARNINGS


def test_tampered_body_is_detected(tmp_path: Path) -> None:
    # A tiny real HTTP server whose body does not match its X-Content-SHA256 header.
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"id":"x","version":"1","evil":true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-SHA256", hashlib.sha256(PACKAGE).hexdigest())
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        with PlatformClient(url, "T1", token="t") as c, pytest.raises(PlatformIntegrityError):
            c.fetch_package("x")
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_upload_ack_and_replay(client: PlatformClient) -> None:
    case_id = str(uuid.uuid4())
    first = client.upload_case(case_id, "x", b"\x01\x02 payload")
    assert first.case_id == case_id and first.platform_ref.startswith("SBX") and not first.replayed
    again = client.upload_case(case_id, "x", b"\x01\x02 payload")
    assert again.replayed and again.platform_ref == first.platform_ref and again.raw == first.raw
    assert len(client.sandbox.received_cases()) == 1
    assert client.case_status(case_id)["platform_ref"] == first.platform_ref


def test_error_mapping(client: PlatformClient, server: SandboxServer) -> None:
    case_id = str(uuid.uuid4())
    client.upload_case(case_id, "x", b"one")
    with pytest.raises(PlatformRejected) as rejected:
        client.upload_case(case_id, "x", b"two")  # same key, different body
    assert rejected.value.status == 422 and "different" in rejected.value.body
    with pytest.raises(PlatformRejected) as unknown:
        client.upload_case(str(uuid.uuid4()), "no-such-item", b"p")
    assert unknown.value.status == 400

    client.sandbox.set_faults(error_rate=1.0, error_status=429, retry_after_s=12)
    with pytest.raises(PlatformUnavailable) as limited:
        client.list_packages()
    assert limited.value.status == 429 and limited.value.retry_after == 12.0
    client.sandbox.set_faults(error_rate=1.0, error_status=500)
    with pytest.raises(PlatformUnavailable) as failed:
        client.list_packages()
    assert failed.value.status == 500 and failed.value.retry_after is None
    client.sandbox.set_faults(error_rate=1.0, error_status=409)
    with pytest.raises(PlatformConflict):
        client.list_packages()
    client.sandbox.set_faults(latency_ms=1500)
    client.transport.timeout = 0.3
    with pytest.raises(PlatformUnavailable, match=r"timed out|within"):
        client.list_packages()
    client.transport.timeout = 3.0
    client.sandbox.set_faults()
    assert client.list_packages()


def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (
        PlatformClient(f"http://127.0.0.1:{port}", "T1", timeout=1.0, token="t") as c,
        pytest.raises(PlatformUnavailable, match="cannot connect"),
    ):
        c.list_packages()


def test_payload_never_logged(client: PlatformClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "371402195203140022 张桂兰"
    client.upload_case(str(uuid.uuid4()), "x", secret.encode())
    with pytest.raises(PlatformRejected):
        client.upload_case(str(uuid.uuid4()), "unknown", secret.encode())
    assert secret not in caplog.text
    assert "371402195203140022" not in caplog.text


def test_parse_retry_after() -> None:
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
