"""Attachments in resumable chunks and sealed case fields, against a real sandbox on 127.0.0.1.

A recording TCP proxy sits between the terminal and the platform, so the tests see the bytes on
the wire; connections are really dropped mid-chunk with raw sockets.
"""

from __future__ import annotations

import base64
import json
import random
import secrets
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.cases.crypto import FieldAlgorithm
from kiosk.cases.outbox import JOB_ATTACHMENT, Backoff, OutboxDrainer
from kiosk.cases.platform_client import PlatformClient, PlatformRejected, UploadSessionInfo
from kiosk.cases.uploads import AttachmentUploader, FieldKeyring
from offline_cache.store import NewAttachment, OutboxState, Store
from sandbox_platform.server import SandboxServer
from tests.kiosk.recording_proxy import RecordingProxy

ID_NUMBER = "371402195203140022"
NAME = "张桂兰"
PAYLOAD = json.dumps(
    {"applicant": {"name": NAME, "id_number": ID_NUMBER, "address": "山东省德州市德城区新湖大街1号"}},
    ensure_ascii=False,
).encode("utf-8")


class CountingClient(PlatformClient):
    """A real client that counts the chunks it sends."""

    puts: list[int]

    def put_chunk(self, upload_id: str, start: int, chunk: bytes, total: int) -> UploadSessionInfo:
        self.puts.append(start)
        return super().put_chunk(upload_id, start, chunk, total)


@pytest.fixture
def client(proxy: RecordingProxy) -> Iterator[CountingClient]:
    c = CountingClient(proxy.url, "UP1", timeout=5.0, signing_key=Ed25519PrivateKey.generate())
    c.puts = []
    c.enrol(code=c.sandbox.issue_enrolment_code(c.terminal_id))
    yield c
    c.close()


def _image(n: int) -> bytes:
    return random.Random(n).randbytes(n)


def _case(store: Store, *bodies: tuple[str, bytes]) -> tuple[str, list[NewAttachment]]:
    case_id = str(uuid.uuid4())
    attachments = [NewAttachment(str(uuid.uuid4()), name, "image/jpeg", body) for name, body in bodies]
    store.cases.add(case_id, "x", PAYLOAD, 1.0, attachments=attachments)
    return case_id, attachments


@pytest.mark.parametrize("algorithm", list(FieldAlgorithm))
def test_case_and_attachments_arrive_sealed_and_the_platform_reads_them(
    store: Store,
    client: CountingClient,
    proxy: RecordingProxy,
    server: SandboxServer,
    algorithm: FieldAlgorithm,
) -> None:
    keyring = FieldKeyring(store, client, secrets.token_bytes(32), terminal_id="UP1", algorithm=algorithm)
    page = _image(600_000)
    signature = ID_NUMBER.encode() + NAME.encode() + b"-signature-png"  # personal bytes inside an image
    case_id, attachments = _case(store, ("material:lease:0", page), ("signature", signature))
    drainer = OutboxDrainer(store, client, cipher=keyring.cipher)
    assert drainer.drain_once().sent == 1
    # 600,000 bytes + seal overhead in 256 KiB chunks: 3 PUTs; the signature none (inline in its create).
    assert client.puts == [0, 262144, 524288]
    for a in store.attachments.for_case(case_id):
        assert a.uploaded_at is not None
    # The platform opened the sealed case and the sealed files: the same fields, the same bytes.
    assert server.app.state.outbox.opened_case(case_id) == PAYLOAD
    got = server.app.state.outbox.attachment(case_id, "material:lease:0")
    assert got is not None and got[1] == page
    got = server.app.state.outbox.attachment(case_id, "signature")
    assert got is not None and got[1] == signature
    received = next(c for c in client.sandbox.received_cases() if c["case_id"] == case_id)
    assert received["encryption"] == algorithm.value
    assert [r["attachment_id"] for r in received["attachments"]] == [a.attachment_id for a in attachments]
    # Nothing personal in clear on the wire (raw, base64 or JSON-escaped), though it was sent.
    wire = bytes(proxy.sent)
    assert case_id.encode() in wire
    for secret in (ID_NUMBER.encode(), NAME.encode("utf-8"), json.dumps(NAME).encode(), page[:64]):
        assert secret not in wire
    assert base64.b64encode(PAYLOAD)[:40] not in wire
    assert base64.b64encode(signature)[:40] not in wire  # the inline signature went sealed


def test_upload_resumes_after_a_crash_and_a_connection_dropped_mid_chunk(
    store: Store, client: CountingClient, server: SandboxServer
) -> None:
    page = _image(700_000)
    case_id, (attachment,) = _case(store, ("material:lease:0", page))
    uploader = AttachmentUploader(store, client, chunk_bytes=200_000)
    stored = store.attachments.get(attachment.attachment_id)
    assert stored is not None
    wire, encryption = uploader.wire_bytes(stored)
    assert encryption == "none" and wire == page
    spec = {
        "case_id": case_id,
        "name": "material:lease:0",
        "media_type": "image/jpeg",
        "size": len(wire),
        "sha256": stored.sha256,
        "plaintext_sha256": stored.sha256,
        "encryption": "none",
    }
    # A first terminal run sends one chunk, then dies.
    session = client.create_upload(attachment.attachment_id, spec)
    assert client.put_chunk(session.upload_id, 0, wire[:200_000], len(wire)).offset == 200_000
    # The connection drops in the middle of the second chunk (a correctly signed request whose
    # body stops half-way): nothing of it is committed.
    _raw_put(client, server.port, session.upload_id, 200_000, wire[200_000:400_000], len(wire), cut=100_000)
    assert client.upload_offset(session.upload_id).offset == 200_000
    # A chunk past the committed offset is refused; a repeated one is harmless.
    with pytest.raises(PlatformRejected) as info:
        client.put_chunk(session.upload_id, 400_000, wire[400_000:600_000], len(wire))
    assert info.value.status == 416
    assert client.put_chunk(session.upload_id, 0, wire[:200_000], len(wire)).offset == 200_000
    # The restarted terminal resumes at the committed offset (create finds the same session).
    client.puts.clear()
    uploader.upload(stored)
    assert client.puts == [200_000, 400_000, 600_000]
    got = server.app.state.outbox.attachment(case_id, "material:lease:0")
    assert got is not None and got[1] == page
    again = store.attachments.get(attachment.attachment_id)
    assert again is not None and again.uploaded_at is not None


def _raw_put(
    client: PlatformClient, port: int, upload_id: str, start: int, chunk: bytes, total: int, *, cut: int
) -> None:
    """Send a signed chunk PUT over a raw socket, stopping after ``cut`` body bytes, then close."""
    req = requests.Request(
        "PUT",
        f"http://127.0.0.1:{port}/api/v1/uploads/{upload_id}",
        data=chunk,
        headers={"Content-Range": f"bytes {start}-{start + len(chunk) - 1}/{total}"},
    ).prepare()
    client.transport._sign(req)
    head = f"PUT {req.path_url} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in req.headers.items()
    )
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(head.encode() + b"\r\n" + chunk[:cut])
        if cut >= len(chunk):
            raw.recv(65536)  # the whole chunk went: wait for the answer


def test_a_whole_raw_chunk_is_committed(store: Store, client: CountingClient, server: SandboxServer) -> None:
    # The control for the dropped-connection case: the same raw request, complete, is committed.
    case_id, (attachment,) = _case(store, ("signature", _image(1000)))
    spec = {
        "case_id": case_id,
        "name": "signature",
        "media_type": "image/png",
        "size": 1000,
        "sha256": "0" * 64,
        "plaintext_sha256": "0" * 64,
        "encryption": "none",
    }
    session = client.create_upload(attachment.attachment_id, spec)
    _raw_put(client, server.port, session.upload_id, 0, _image(1000)[:600], 1000, cut=600)
    assert client.upload_offset(session.upload_id).offset == 600


def test_platform_checks_the_hash_and_the_references(store: Store, client: CountingClient) -> None:
    case_id, (attachment,) = _case(store, ("signature", b"png bytes"))
    spec = {
        "case_id": case_id,
        "name": "signature",
        "media_type": "image/png",
        "size": 9,
        "sha256": "0" * 64,
        "plaintext_sha256": "0" * 64,
        "encryption": "none",
    }
    session = client.create_upload(attachment.attachment_id, spec)
    client.put_chunk(session.upload_id, 0, b"png bytes", 9)
    with pytest.raises(PlatformRejected) as info:
        client.complete_upload(session.upload_id)
    assert info.value.status == 422
    assert client.upload_offset(session.upload_id).offset == 0  # start again from scratch
    # Same key, another body: refused.
    with pytest.raises(PlatformRejected):
        client.create_upload(attachment.attachment_id, {**spec, "size": 10})
    # A case whose attachment is not on the platform is refused (and dead-lettered by the outbox).
    ref = {"attachment_id": attachment.attachment_id, "sha256": "0" * 64}
    with pytest.raises(PlatformRejected) as info:
        client.upload_case(case_id, "x", PAYLOAD, attachments=[ref])
    assert info.value.status == 422


def test_sealed_with_another_key_is_refused(store: Store, client: CountingClient, tmp_path: Path) -> None:
    case_id, _ = _case(store)
    mine = FieldKeyring(store, client, secrets.token_bytes(32), terminal_id="UP1")
    mine.cipher()  # agreed with the platform
    other = FieldKeyring(
        Store(tmp_path / "other.db"), client, secrets.token_bytes(32), terminal_id="UP1"
    )  # agrees too (the platform now holds this key for UP1)...
    stale = mine.cipher()  # ...so what the first one seals no longer opens
    other.cipher()
    with pytest.raises(PlatformRejected) as info:
        client.upload_case(case_id, "x", stale.seal_deterministic(PAYLOAD, case_id), encryption="aes-256-gcm")
    assert info.value.status == 422


def test_late_attachment_job_and_certificate_download(store: Store, client: CountingClient) -> None:
    case_id, _ = _case(store)
    keyring = FieldKeyring(store, client, secrets.token_bytes(32), terminal_id="UP1")
    drainer = OutboxDrainer(
        store, client, cipher=keyring.cipher, backoff=Backoff(base_s=0.001, max_s=0.01, jitter=0.0)
    )
    assert drainer.drain_once().sent == 1
    with pytest.raises(PlatformRejected) as info:
        client.certificate(case_id)
    assert info.value.status == 404
    pdf = b"%PDF-1.7\n" + _image(300_000) + b"\n%%EOF\n"
    attachment = NewAttachment(str(uuid.uuid4()), "certificate", "application/pdf", pdf)
    job_id = str(uuid.uuid4())
    payload = json.dumps({"attachment_id": attachment.attachment_id}).encode()
    store.outbox.add(job_id, JOB_ATTACHMENT, payload, 2.0, case_id=case_id, attachment=attachment)
    assert drainer.drain_once().sent == 1
    job = store.outbox.get(job_id)
    assert job is not None and job.state is OutboxState.SENT
    assert client.certificate(case_id) == pdf
