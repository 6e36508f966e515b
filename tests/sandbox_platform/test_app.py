"""The sandbox platform over real HTTP on 127.0.0.1 (plain requests, no terminal code)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sandbox_platform.server import SandboxServer

PACKAGE = b'{"id": "x", "version": "1", "title": "\xe6\xb5\x8b\xe8\xaf\x95"}\n'
WARNINGS = b'{"name": "dishonest", "version": "7", "entries": []}\n'


@pytest.fixture
def items_dir(tmp_path: Path) -> Path:
    items = tmp_path / "items"
    (items / "warning_lists").mkdir(parents=True)
    (items / "x.json").write_bytes(PACKAGE)
    (items / "broken.json").write_text("{not json")
    (items / "warning_lists" / "dishonest.json").write_bytes(WARNINGS)
    return items


@pytest.fixture
def server(tmp_path: Path, items_dir: Path) -> Iterator[SandboxServer]:
    srv = SandboxServer(tmp_path / "platform", items_dir).start()
    yield srv
    srv.close()


@pytest.fixture
def token(server: SandboxServer) -> str:
    r = requests.post(
        f"{server.url}/api/v1/terminals/enrol",
        json={"terminal_id": "T1", "public_info": {}, "enrolment_code": server.enrolment_code("T1")},
        timeout=5,
    )
    assert r.status_code == 200
    return str(r.json()["token"])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def case_body(case_id: str, payload: bytes = b"secret payload", item_id: str = "x") -> dict[str, object]:
    return {
        "case_id": case_id,
        "item_id": item_id,
        "terminal_id": "T1",
        "payload_b64": base64.b64encode(payload).decode(),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
    }


def post_case(server: SandboxServer, token: str, key: str, body: dict[str, object]) -> requests.Response:
    return requests.post(
        f"{server.url}/api/v1/cases", json=body, headers={**auth(token), "Idempotency-Key": key}, timeout=5
    )


def test_health_and_auth(server: SandboxServer, token: str) -> None:
    assert requests.get(f"{server.url}/healthz", timeout=5).json() == {"status": "ok"}
    r = requests.get(f"{server.url}/api/v1/packages", timeout=5)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    assert requests.get(f"{server.url}/api/v1/packages", headers=auth("wrong"), timeout=5).status_code == 401
    assert requests.get(f"{server.url}/api/v1/packages", headers=auth(token), timeout=5).status_code == 200


def test_packages_and_warning_lists(server: SandboxServer, token: str) -> None:
    listing = requests.get(f"{server.url}/api/v1/packages", headers=auth(token), timeout=5).json()
    assert listing == [{"item_id": "x", "version": "1", "sha256": hashlib.sha256(PACKAGE).hexdigest()}]
    r = requests.get(f"{server.url}/api/v1/packages/x", headers=auth(token), timeout=5)
    assert r.content == PACKAGE
    assert r.headers["X-Content-SHA256"] == hashlib.sha256(PACKAGE).hexdigest()
    assert r.headers["content-type"].startswith("application/json")
    assert (
        requests.get(f"{server.url}/api/v1/packages/nope", headers=auth(token), timeout=5).status_code == 404
    )

    lists = requests.get(f"{server.url}/api/v1/warning-lists", headers=auth(token), timeout=5).json()
    assert lists == [{"name": "dishonest", "version": "7", "sha256": hashlib.sha256(WARNINGS).hexdigest()}]
    r = requests.get(f"{server.url}/api/v1/warning-lists/dishonest", headers=auth(token), timeout=5)
    assert r.content == WARNINGS


def test_heartbeat(server: SandboxServer, token: str) -> None:
    r = requests.post(
        f"{server.url}/api/v1/terminals/T1/heartbeat",
        json={"device_status": {"printer": "ready"}},
        headers=auth(token),
        timeout=5,
    )
    assert r.status_code == 204
    r = requests.post(
        f"{server.url}/api/v1/terminals/OTHER/heartbeat",
        json={"device_status": {}},
        headers=auth(token),
        timeout=5,
    )
    assert r.status_code == 403
    terminals = requests.get(f"{server.url}/_sandbox/terminals", timeout=5).json()
    assert terminals[0]["device_status"] == {"printer": "ready"}


def test_case_upload_is_idempotent(server: SandboxServer, token: str) -> None:
    key = str(uuid.uuid4())
    first = post_case(server, token, key, case_body(key))
    assert first.status_code == 201
    again = post_case(server, token, key, case_body(key))
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    received = requests.get(f"{server.url}/_sandbox/cases", timeout=5).json()
    assert len(received) == 1
    assert base64.b64decode(received[0]["payload_b64"]) == b"secret payload"
    status = requests.get(f"{server.url}/api/v1/cases/{key}", headers=auth(token), timeout=5).json()
    assert status["platform_ref"] == first.json()["platform_ref"]
    assert status["status"] == "received"


def test_same_key_different_body_is_422(server: SandboxServer, token: str) -> None:
    key = str(uuid.uuid4())
    assert post_case(server, token, key, case_body(key)).status_code == 201
    r = post_case(server, token, key, case_body(key, payload=b"something else"))
    assert r.status_code == 422
    assert "different" in r.json()["detail"]
    assert len(requests.get(f"{server.url}/_sandbox/cases", timeout=5).json()) == 1


def test_case_upload_validation(server: SandboxServer, token: str) -> None:
    key = str(uuid.uuid4())
    r = requests.post(f"{server.url}/api/v1/cases", json=case_body(key), headers=auth(token), timeout=5)
    assert r.status_code == 400  # no Idempotency-Key
    assert post_case(server, token, "not-a-uuid", case_body(key)).status_code == 400
    assert post_case(server, token, key, case_body(key, item_id="unknown-item")).status_code == 400
    bad_hash = {**case_body(key), "payload_sha256": "0" * 64}
    assert post_case(server, token, key, bad_hash).status_code == 422
    other_terminal = {**case_body(key), "terminal_id": "T2"}
    assert post_case(server, token, key, other_terminal).status_code == 403
    # same case id under another key
    assert post_case(server, token, key, case_body(key)).status_code == 201
    assert post_case(server, token, str(uuid.uuid4()), case_body(key)).status_code == 409
    assert requests.get(f"{server.url}/api/v1/cases/nope", headers=auth(token), timeout=5).status_code == 404


def test_fault_modes(server: SandboxServer, token: str) -> None:
    faults = f"{server.url}/_sandbox/faults"
    r = requests.post(faults, json={"error_rate": 1.0, "error_status": 503, "retry_after_s": 7}, timeout=5)
    assert r.json()["error_rate"] == 1.0
    r = requests.get(f"{server.url}/api/v1/packages", headers=auth(token), timeout=5)
    assert r.status_code == 503 and r.headers["Retry-After"] == "7"
    requests.post(faults, json={"down": True}, timeout=5)
    assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 503
    assert requests.get(f"{server.url}/_sandbox/cases", timeout=5).status_code == 200  # hooks stay up

    requests.post(faults, json={"drop_after_processing": True}, timeout=5)
    key = str(uuid.uuid4())
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        post_case(server, token, key, case_body(key))
    requests.post(faults, json={}, timeout=5)
    assert len(requests.get(f"{server.url}/_sandbox/cases", timeout=5).json()) == 1  # it was processed
    assert post_case(server, token, key, case_body(key)).status_code == 200  # the replay


def test_server_restarts_on_same_port_and_keeps_data(tmp_path: Path, items_dir: Path) -> None:
    srv = SandboxServer(tmp_path / "platform", items_dir).start()
    try:
        port = srv.port
        assert port != 0
        r = requests.post(
            f"{srv.url}/api/v1/terminals/enrol",
            json={"terminal_id": "T1", "enrolment_code": srv.enrolment_code("T1")},
            timeout=5,
        )
        token = r.json()["token"]
        srv.stop()
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{srv.url}/healthz", timeout=2)
        srv.start()
        assert srv.port == port
        assert requests.get(f"{srv.url}/api/v1/packages", headers=auth(token), timeout=5).status_code == 200
    finally:
        srv.close()


def test_items_reread_on_each_request(server: SandboxServer, token: str, items_dir: Path) -> None:
    (items_dir / "y.json").write_text(json.dumps({"id": "y", "version": "3"}))
    listing = requests.get(f"{server.url}/api/v1/packages", headers=auth(token), timeout=5).json()
    assert sorted(p["item_id"] for p in listing) == ["x", "y"]
