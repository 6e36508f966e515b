"""Hall services end to end: the terminal core against the sandbox platform on 127.0.0.1 and the
ESC/POS printer simulator (tickets decoded from the printer's bytes)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from devices.printer.escpos_printer import EscPosReceiptPrinter
from devices.printer.simulator import ReceiptPrinterSimulator
from kiosk.cases.platform_client import PlatformClient, PlatformRejected
from kiosk.cases.platform_hall import HallPlatform
from kiosk.hall import HallServices
from kiosk.hall.reference import progress_url
from kiosk.hall.services import appointment_code, case_reference
from sandbox_platform.server import SandboxServer

BASE = "https://zwfw.example.gov.cn/progress/"
LI = "37140219880721003X"
ZHANG = "371402195203140022"


def test_a_ticket_is_issued_by_the_calling_system_and_printed(
    hall: HallServices, printer: ReceiptPrinterSimulator
) -> None:
    first = hall.take_ticket("social_security")
    second = hall.take_ticket("social_security")
    assert (first.number, second.number) == ("B001", "B002")
    assert not first.local and second.people_waiting == 1 and second.estimated_wait_min == 5
    receipts = printer.wait_for_receipts(2)
    text = receipts[1].text
    assert "B002" in text and "前面等候：1人" in text and "预计等候：约5分钟" in text
    assert "本机临时号" not in text


def test_the_ticket_prints_in_english(hall: HallServices, printer: ReceiptPrinterSimulator) -> None:
    ticket = hall.take_ticket("housing_fund", "en")
    text = printer.wait_for_receipts(1)[0].text
    assert ticket.number in text and "People ahead: 0" in text


def test_offline_the_ticket_is_a_local_number_marked_as_such(
    tmp_path: Path, printer: ReceiptPrinterSimulator
) -> None:
    # A platform that does not answer: nothing listens on this port any more.
    with PlatformClient(
        "http://127.0.0.1:9", "H1", timeout=1.0, signing_key=Ed25519PrivateKey.generate()
    ) as c:
        hall = HallServices(
            HallPlatform(c),
            EscPosReceiptPrinter("127.0.0.1", printer.port),
            hall_name="德州市政务服务中心",
            terminal_id="H1",
            counter_path=tmp_path / "counter.json",
        )
        first = hall.take_ticket("civil_affairs")
        second = hall.take_ticket("civil_affairs")
    assert first.local and (first.number, second.number) == ("LA001", "LA002")
    text = printer.wait_for_receipts(2)[0].text
    assert "LA001" in text and "本机临时号" in text and "前面等候" not in text
    # The sequence survives a restart of the terminal (kept in its file).
    again = HallServices(None, None, hall_name="h", terminal_id="H1", counter_path=tmp_path / "counter.json")
    assert again.take_ticket("civil_affairs").number == "LA003"


def test_an_appointment_is_found_by_qr_checked_in_and_its_ticket_printed(
    hall: HallServices, printer: ReceiptPrinterSimulator
) -> None:
    found = hall.appointments_by_qr("https://zwfw.example.gov.cn/appt?code=YY7K3Q2M")
    assert [a.status for a in found] == ["booked"]
    ticket = hall.check_in_by_qr("APPT:YY7K3Q2M")
    assert ticket is not None and ticket.number == "C001" and ticket.appointment == "09:30-10:00"
    assert "C001" in printer.wait_for_receipts(1)[0].text
    assert [a.status for a in hall.appointments_by_qr("YY7K3Q2M")] == ["checked_in"]
    assert hall.check_in_by_qr("YY7K3Q2M") is None  # already checked in: nothing to do
    assert hall.check_in_by_qr("not a code") is None


def test_an_appointment_is_found_by_id_card(hall: HallServices) -> None:
    found = hall.appointments_by_card(ZHANG)
    assert [a.code for a in found] == ["YY4H8T6P"]
    assert hall.appointments_by_card("371428197911020016") == []


def test_progress_is_listed_by_card_and_by_the_receipts_qr(hall: HallServices) -> None:
    cases = hall.progress_by_card(ZHANG)
    assert [(c.case_ref, c.status) for c in cases] == [("SBXD0000101", "in_review"), ("SBXD0000102", "ready")]
    assert "2号窗口" in cases[1].collect_at
    by_ref = hall.progress_by_qr(progress_url(BASE, "SBXD0000103", hall.platform.client.lookup_key))  # type: ignore[union-attr]
    assert [c.status for c in by_ref] == ["approved"]
    assert hall.progress_by_card(LI)[0].case_ref == "SBXD0000103"


def test_the_ticket_is_idempotent_and_bound_to_its_terminal(
    client: PlatformClient, server: SandboxServer
) -> None:
    platform = HallPlatform(client)
    key = str(uuid.uuid4())
    first = platform.issue_ticket("general", key)
    assert platform.issue_ticket("general", key) == first  # a retry: the same ticket
    with pytest.raises(PlatformRejected) as err:
        platform.issue_ticket("civil_affairs", key)
    assert err.value.status == 422
    with PlatformClient(server.url, "H2", signing_key=Ed25519PrivateKey.generate()) as other:
        other.enrol(code=server.enrolment_code("H2"))
        with pytest.raises(PlatformRejected) as err:
            HallPlatform(other).issue_ticket("general", key)  # another terminal's key
        assert err.value.status == 422
    unsigned = requests.post(f"{server.url}/api/v1/queue/tickets", json={}, timeout=5)
    assert unsigned.status_code == 401


def test_a_ticket_for_another_terminal_is_refused(server: SandboxServer, client: PlatformClient) -> None:
    with pytest.raises(PlatformRejected) as err:
        client.transport.request(
            "POST",
            "/api/v1/queue/tickets",
            json_body={"terminal_id": "H9", "business_line": "general"},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
    assert err.value.status == 403


def test_qr_payloads() -> None:
    assert appointment_code("YY7K3Q2M") == "YY7K3Q2M"
    assert appointment_code("https://x/appt?code=yy7k3q2m") == "YY7K3Q2M"
    assert appointment_code("hello world") is None
    assert case_reference("https://zwfw.example.gov.cn/progress/SBX00000001") == "SBX00000001"
    assert case_reference("") is None


def test_a_case_uploaded_by_a_terminal_is_found_by_its_receipts_qr(
    hall: HallServices, client: PlatformClient
) -> None:
    case_id = str(uuid.uuid4())
    client.upload_case(case_id, "x", b'{"form": {}}')
    found = hall.progress_by_qr(progress_url(BASE, case_id, client.lookup_key))
    assert [(c.case_ref, c.item_name, c.status) for c in found] == [(case_id, "x", "received")]
    assert hall.progress_by_qr(progress_url(BASE, str(uuid.uuid4()), client.lookup_key)) == []
