"""The platform side of 证照打印/补打 and of the receipt QR, against the sandbox on 127.0.0.1 through
the terminal's signed client: certificates listed and fetched per holder, reprints recorded
idempotently per terminal, the receipt QR's tag verified on the progress lookup."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from devices.printer.escpos_printer import EscPosReceiptPrinter
from devices.printer.simulator import ReceiptPrinterSimulator
from kiosk.cases.outbox import JOB_REPRINT, Backoff, OutboxDrainer
from kiosk.cases.platform_client import PlatformClient
from kiosk.cases.platform_hall import HallPlatform
from kiosk.cases.platform_reprint import ReprintPlatform
from kiosk.cases.platform_transport import PlatformIntegrityError, PlatformRejected
from kiosk.config import UiConfig
from kiosk.hall import HallServices, ReferenceUnverified
from kiosk.hall.identity import HallHolder
from kiosk.hall.reference import parse_receipt_qr, progress_url, receipt_tag
from kiosk.hall.reprint import ReprintService
from offline_cache.store import OutboxState, Store
from sandbox_platform.server import SandboxServer
from ui.facade_hall import reprint_view

ZHANG = "371402195203140022"
LI = "37140219880721003X"
BASE = "https://zwfw.example.gov.cn/progress/"


def test_certificates_are_listed_and_fetched_for_their_holder_only(client: PlatformClient) -> None:
    platform = ReprintPlatform(client)
    [cert] = platform.certificates_for(ZHANG)
    assert cert.certificate_number == "SD-LNYD-2026-000101"
    pdf = platform.certificate_pdf(cert, ZHANG)
    assert pdf.startswith(b"%PDF-")
    assert platform.certificates_for(LI) == []
    with pytest.raises(PlatformRejected) as err:
        platform.certificate_pdf(cert, LI)  # another holder's token
    assert err.value.status == 404
    with pytest.raises(PlatformIntegrityError):
        platform.certificate_pdf(cert.model_copy(update={"sha256": "0" * 64}), ZHANG)


def test_a_reprint_is_recorded_once_per_key_and_counted(
    client: PlatformClient, server: SandboxServer
) -> None:
    platform = ReprintPlatform(client)
    [cert] = platform.certificates_for(ZHANG)
    key = str(uuid.uuid4())
    first = platform.record("certificate", cert.certificate_id, ZHANG, "q-1", key)
    assert first.count == 1
    assert platform.record("certificate", cert.certificate_id, ZHANG, "q-1", key) == first  # a retry
    with pytest.raises(PlatformRejected) as err:
        platform.record("certificate", cert.certificate_id, ZHANG, "q-2", key)  # same key, other body
    assert err.value.status == 422
    second = platform.record("certificate", cert.certificate_id, ZHANG, "q-2", str(uuid.uuid4()))
    assert second.count == 2
    with pytest.raises(PlatformRejected) as err:
        platform.record("certificate", cert.certificate_id, LI, "q-3", str(uuid.uuid4()))  # not Li's
    assert err.value.status == 404
    with PlatformClient(server.url, "H2", signing_key=Ed25519PrivateKey.generate()) as other:
        other.enrol(code=server.enrolment_code("H2"))
        with pytest.raises(PlatformRejected) as err:
            ReprintPlatform(other).record("certificate", cert.certificate_id, ZHANG, "q-1", key)
        assert err.value.status == 422  # the key belongs to H1
    assert requests.post(f"{server.url}/api/v1/reprints", json={}, timeout=5).status_code == 401
    assert requests.get(f"{server.url}/api/v1/certificates?holder={'0' * 64}", timeout=5).status_code == 401
    records = requests.get(f"{server.url}/_sandbox/reprints", timeout=5).json()
    assert [(r["terminal_id"], r["count"]) for r in records] == [("H1", 1), ("H1", 2)]


def test_the_replayed_record_is_marked(client: PlatformClient) -> None:
    [cert] = ReprintPlatform(client).certificates_for(ZHANG)
    body = {
        "terminal_id": "H1",
        "kind": "certificate",
        "ref": cert.certificate_id,
        "holder": client.holder_token(ZHANG),
        "print_job": "q-9",
    }
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = client.transport.request("POST", "/api/v1/reprints", json_body=body, headers=key)
    again = client.transport.request("POST", "/api/v1/reprints", json_body=body, headers=key)
    assert (first.status, again.status) == (201, 200)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.body == first.body
    with pytest.raises(PlatformRejected) as err:
        client.transport.request("POST", "/api/v1/reprints", json_body=body, headers={"Idempotency-Key": "x"})
    assert err.value.status == 400


def test_the_receipt_qr_carries_a_tag_the_platform_verifies(
    hall: HallServices, client: PlatformClient
) -> None:
    key = client.lookup_key
    assert key
    url = progress_url(BASE, "SBXD0000103", key)
    assert url == f"{BASE}SBXD0000103?t={receipt_tag(key, 'SBXD0000103')}"
    assert [c.status for c in hall.progress_by_qr(url)] == ["approved"]
    with pytest.raises(ReferenceUnverified):
        hall.progress_by_qr(f"{BASE}SBXD0000103")  # no tag
    with pytest.raises(ReferenceUnverified):
        hall.progress_by_qr(f"{BASE}SBXD0000103?t={'0' * 20}")  # a forged tag
    with pytest.raises(ReferenceUnverified):
        hall.progress_by_qr(progress_url(BASE, "SBXD0000103", b"another key"))
    other_hall = progress_url("https://other-hall.example.gov.cn/p/", "SBXD0000103", key)
    assert [c.case_ref for c in hall.progress_by_qr(other_hall)] == ["SBXD0000103"]
    with pytest.raises(PlatformRejected) as err:  # a reference alone opens nothing
        client.transport.request("GET", "/api/v1/progress?case_ref=SBXD0000103")
    assert err.value.status == 400


def test_receipt_qr_parsing() -> None:
    ref = parse_receipt_qr(f"{BASE}SBX1?t={'a' * 20}")
    assert ref is not None and (ref.case_ref, ref.tag) == ("SBX1", "a" * 20)
    assert parse_receipt_qr(f"{BASE}SBX1") == parse_receipt_qr("SBX1")
    assert parse_receipt_qr("") is None
    assert parse_receipt_qr("https://x/progress/bad ref") is None


@pytest.mark.parametrize(
    "base",
    [
        "http://zwfw.example.gov.cn/progress/",
        "https://zwfw.example.gov.cn/progress",
        "https://zwfw.example.gov.cn/progress/?x=1",
        "https:///progress/",
        "https://zwfw.example.gov.cn/进度/",
        "https://zwfw.example.gov.cn/" + "p" * 120 + "/",
    ],
)
def test_the_progress_url_base_is_validated(base: str) -> None:
    with pytest.raises(ValueError, match="progress_url_base"):
        UiConfig(progress_url_base=base)


def test_a_hall_sets_its_own_progress_url_base() -> None:
    assert UiConfig(progress_url_base="https://dz.zwfw.example.gov.cn/jd/").progress_url_base.endswith("/jd/")


def _service(
    client: PlatformClient,
    printer: ReceiptPrinterSimulator,
    audits: list[tuple[str, dict[str, object]]],
    **extra: Any,
) -> ReprintService:
    """A reprint service on the receipt printer simulator, no certificate printer, audits kept."""
    return ReprintService(
        ReprintPlatform(client),
        HallPlatform(client),
        EscPosReceiptPrinter("127.0.0.1", printer.port),
        None,
        hall_name="德州市政务服务中心",
        terminal_id="H1",
        progress_base=BASE,
        audit=lambda event, details: audits.append((event, details)),
        **extra,
    )


def test_a_receipt_reprint_out_of_paper_prints_and_records_nothing(
    client: PlatformClient, printer: ReceiptPrinterSimulator, server: SandboxServer
) -> None:
    audits: list[tuple[str, dict[str, object]]] = []
    service = _service(client, printer, audits)
    holder = HallHolder(ZHANG, "371402********0022")
    docs = service.documents(holder)
    assert [(d.kind, d.ref) for d in docs] == [
        ("certificate", "CERT-SD-LNYD-0000101"),
        ("receipt", "SBXD0000101"),
        ("receipt", "SBXD0000102"),
    ]
    printer.paper_out()
    failed = service.reprint(holder, docs[2])
    assert not failed.printed and failed.problem == "hall.reprint.printer" and failed.action is not None
    assert requests.get(f"{server.url}/_sandbox/reprints", timeout=5).json() == []
    no_cups = service.reprint(holder, docs[0])  # this terminal has no certificate printer
    assert not no_cups.printed and no_cups.problem == "hall.reprint.printer"
    printer.refill()
    done = service.reprint(holder, docs[2])
    assert done.printed and done.record is not None and done.record.count == 1
    [receipt] = [r for r in printer.receipts if r.complete]
    assert "受理回执（补打）" in receipt.text and receipt.qr_payloads[0].startswith(f"{BASE}SBXD0000102?t=")
    assert [(e, d["outcome"]) for e, d in audits] == [
        ("hall_reprint", "printer_fault"),
        ("hall_reprint", "printer_fault"),
        ("hall_reprint", "printed"),
    ]
    assert all(ZHANG not in str(d) for _e, d in audits)


def test_a_reprint_record_the_platform_missed_is_queued_and_arrives_once(
    client: PlatformClient, printer: ReceiptPrinterSimulator, server: SandboxServer, tmp_path: Path
) -> None:
    store = Store(tmp_path / "kiosk.db", key=bytes(range(32)))
    audits: list[tuple[str, dict[str, object]]] = []
    service = _service(
        client, printer, audits, queue=lambda key, body: store.outbox.add(key, JOB_REPRINT, body, time.time())
    )
    holder = HallHolder(ZHANG, "371402********0022")
    receipt_doc = service.documents(holder)[1]
    client.sandbox.set_faults(down=True)  # the platform goes down after the list was shown
    done = service.reprint(holder, receipt_doc)
    assert done.printed and done.record is None and done.queued
    assert reprint_view(done).queued and reprint_view(done).count is None  # the screen says it is queued
    assert [r for r in printer.receipts if r.complete]  # the citizen has the reprint
    [entry] = store.outbox.entries(kind=JOB_REPRINT)
    assert entry.state is OutboxState.PENDING and ZHANG.encode() not in entry.payload
    assert audits[-1][1]["outcome"] == "printed" and audits[-1][1]["queued"] is True

    drainer = OutboxDrainer(store, client, backoff=Backoff(base_s=0.0, max_s=0.0, jitter=0.0))
    assert drainer.drain_once().sent == 0  # still down: it waits
    client.sandbox.set_faults(down=False, drop_after_processing=True)  # stored, answer lost
    drainer.drain_once()
    client.sandbox.set_faults(drop_after_processing=False)
    for _ in range(3):
        drainer.drain_once()
    assert store.outbox.get(entry.entry_id).state is OutboxState.ACKNOWLEDGED  # type: ignore[union-attr]
    recorded = requests.get(f"{server.url}/_sandbox/reprints", timeout=5).json()
    assert [(r["terminal_id"], r["kind"], r["ref"], r["count"]) for r in recorded] == [
        ("H1", "receipt", "SBXD0000101", 1)
    ]
    assert recorded[0]["reprint_id"] == f"RP-{entry.entry_id[:18]}"  # the key queued at print time
    store.close()
