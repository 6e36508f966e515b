"""What the citizen carries away, per outcome and delivery choice, through the kiosk service.

A whole demo-profile terminal (sandbox platform, TUF-synced packages, ID card reader on a pty,
ESC/POS printer simulator on TCP, spool document printer, encrypted SQLite store) serves real
sessions: card read, face check, form, review.  The assertions read what the printer simulator
decoded from the ESC/POS bytes, the QR codes pyzbar finds in the rendered receipt images, the
PDFs the document printer received (pdftotext, pdfimages), and the case the platform got.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol
from pyzbar.pyzbar import decode as zbar_decode

from devices.camera.simulator import media_path
from devices.printer.decoder import DecodedReceipt
from kiosk.config import TerminalConfig
from kiosk.hall.reference import progress_url
from kiosk.i18n import set_language
from kiosk.identity.face import DEFAULT_THRESHOLD, Embedding
from kiosk.outputs.delivery import DeliveryMethod
from kiosk.session.machine import Step
from kiosk.session.steps.numbers import case_number_ok, platform_case_number
from kiosk.session.values import PrintResult
from terminal.demo_profile import DEMO_REJECTED
from terminal.runtime import DEMO_CITIZENS, Terminal, build_terminal
from tests.kiosk.session_helpers import signature_png, to_confirm, wait_card_lifted

pytestmark = pytest.mark.slow
SENIOR, BUSINESS, _EXPIRED = DEMO_CITIZENS
QUEUE_NUMBER = re.compile(r"^K\d{3}$")
EXPRESS = {
    "recipient": "张桂兰",
    "mobile": "13905340000",
    "address": "山东省德州市德城区新湖大街1号",
    "postal_code": "253000",
}
issued_queue_numbers: list[str] = []


@pytest.fixture(scope="module")
def terminal(tmp_path_factory: pytest.TempPathFactory, face_verifier: Any) -> Iterator[Terminal]:
    work = tmp_path_factory.mktemp("outputs-terminal")
    t = build_terminal(TerminalConfig(data_dir=str(work)), work, face=face_verifier)
    yield t
    t.close()


@pytest.fixture(autouse=True)
def chinese() -> Iterator[None]:
    set_language("zh")
    yield
    set_language("zh")


def receipt_qr(terminal: Terminal, case_id: str | None) -> str:
    """The receipt QR: the hall's base URL, the case id and, once enrolled, its verifiable tag."""
    url = progress_url(terminal.config.ui.progress_url_base, case_id, terminal.client.lookup_key)
    assert url.startswith(f"https://zwfw.example.gov.cn/progress/{case_id}")
    assert ("?t=" in url) == bool(terminal.client.lookup_key)
    return url


def finish(t: Terminal, language: str | None = None) -> tuple[PrintResult, list[DecodedReceipt], str]:
    """Sign, submit, print; the new printouts as the printer simulator decoded them; the case id."""
    assert t.bench is not None
    before = len(t.bench.printer.receipts)
    submitted = t.session.submission.submit(signature_png())
    assert submitted is not None
    shown_numbers[submitted.case_id] = (submitted.acknowledged, submitted.case_number)
    result = t.session.outputs.print(language)  # type: ignore[arg-type]
    expected = int(result.receipt_printed) + len(result.slips_printed)
    printouts = t.bench.printer.wait_for_receipts(before + expected)[before:]
    t.bench.idcard.remove()  # the citizen takes the card: the terminal sees it go
    wait_card_lifted(t)
    t.session.finish_result()
    t.session.rating.rate("good")
    assert t.session.step is Step.ATTRACT
    return result, printouts, submitted.case_id


#: case id -> (acknowledged while the citizen waited, the number shown)
shown_numbers: dict[str, tuple[bool, str]] = {}


def number_of(t: Terminal, case_id: str) -> str:
    """The short number the citizen was shown for the case: the platform's when it acknowledged in
    time, else the terminal's own (never the UUID)."""
    stored = t.store.cases.get(case_id)
    assert stored is not None
    local: str = json.loads(stored.payload)["case_number"]
    return platform_case_number(t.store.outbox.ack(case_id)) or local


def qr_codes(t: Terminal, printout: DecodedReceipt) -> list[str]:
    """The QR codes pyzbar finds in the rendered paper (not what the code asked to print)."""
    assert t.bench is not None
    image = Image.open(io.BytesIO(t.bench.printer.render_png(printout)))
    return [c.data.decode("utf-8") for c in zbar_decode(image, symbols=[ZBarSymbol.QRCODE])]


def platform_case(t: Terminal, case_id: str) -> dict[str, Any]:
    t.drainer.kick()
    for _ in range(100):
        for c in t.client.sandbox.received_cases():
            if c["case_id"] == case_id:  # the platform's reading of the sealed case
                payload: dict[str, Any] = json.loads(t.client.sandbox.opened_case(case_id))
                return payload
        t.drainer.kick()
        time.sleep(0.1)
    raise AssertionError(f"case {case_id} never reached the platform")


def spooled(t: Terminal, job_id: str | None) -> Path:
    assert t.bench is not None and job_id is not None
    path = t.bench.spool_dir / f"{job_id}.pdf"
    assert path.read_bytes().startswith(b"%PDF")
    return path


def pdftext(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


# ------------------------------------------------------------------ approve
def test_approved_print_here_prints_the_certificate(terminal: Terminal) -> None:
    to_confirm(terminal, SENIOR)
    offered, default = terminal.session.outputs.delivery_options()
    assert offered == (DeliveryMethod.PRINT_HERE, DeliveryMethod.WINDOW, DeliveryMethod.EXPRESS)
    assert default is DeliveryMethod.PRINT_HERE
    assert terminal.session.outputs.choose_delivery("print_here") == {}
    result, printouts, case_id = finish(terminal)

    assert result.delivery == "print_here" and result.certificate_printed
    assert result.queue_number is None and result.slips_printed == ()
    [receipt] = printouts
    text = receipt.text
    assert "办结回执" in text and f"受理编号：{number_of(terminal, case_id)}" in text and case_id not in text
    assert "取件方式：本机打印，请在出证口取走证照" in text
    # the number shown is the platform's when it answered in time, the terminal's own otherwise
    acknowledged, shown = shown_numbers[case_id]
    local = json.loads(terminal.store.cases.get(case_id).payload)["case_number"]  # type: ignore[union-attr]
    assert case_number_ok(local)
    if acknowledged:
        [received] = [c for c in terminal.client.sandbox.received_cases() if c["case_id"] == case_id]
        assert shown == received["platform_ref"] and shown.startswith("SBX")
    else:
        assert shown == local
    assert f"证照编号：{result.certificate_number}" in text
    assert "排 队 号" not in text
    assert qr_codes(terminal, receipt) == [receipt_qr(terminal, case_id)]
    assert result.certificate_number and result.certificate_number in pdftext(
        spooled(terminal, result.certificate_job)
    )
    assert platform_case(terminal, case_id)["delivery"] == {"method": "print_here", "address": None}


def test_approved_window_prints_pickup_slip_and_queue_ticket_not_the_certificate(terminal: Terminal) -> None:
    assert terminal.bench is not None
    spool_before = set(terminal.bench.spool_dir.glob("*.pdf"))
    to_confirm(terminal, SENIOR)
    assert terminal.session.outputs.choose_delivery(DeliveryMethod.WINDOW) == {}
    result, printouts, case_id = finish(terminal)

    assert result.delivery == "window" and not result.certificate_printed
    assert result.certificate_number  # issued, waiting at the window
    assert set(terminal.bench.spool_dir.glob("*.pdf")) == spool_before  # nothing printed here
    assert result.slips_printed == ("pickup", "queue")
    number = result.queue_number
    assert number is not None and QUEUE_NUMBER.match(number)
    issued_queue_numbers.append(number)
    receipt, pickup, ticket = printouts
    assert "取件方式：窗口领取，凭取件单及身份证领取" in receipt.text
    assert f"排 队 号：{number}" in receipt.text
    assert "取件单" in pickup.text and f"受理编号：{number_of(terminal, case_id)}" in pickup.text
    assert f"证照编号：{result.certificate_number}" in pickup.text
    assert "张*兰" in pickup.text and "张桂兰" not in pickup.text
    assert qr_codes(terminal, pickup) == [receipt_qr(terminal, case_id)]
    lines = ticket.text.splitlines()
    assert "排队号" in lines and number in lines
    assert "业务类型：窗口取件" in lines and f"终端编号：{terminal.config.terminal_id}" in lines
    case = platform_case(terminal, case_id)
    assert case["delivery"]["method"] == "window" and case["queue_number"] == number


def test_express_refuses_each_bad_field_then_prints_the_masked_address(terminal: Terminal) -> None:
    to_confirm(terminal, SENIOR)
    s = terminal.session
    prefill = s.outputs.express_prefill()
    assert prefill["recipient"] == "张桂兰"
    assert prefill["address"] == "山东省德州市德城区新湖大街1号"  # from the card, editable
    assert prefill["postal_code"] == ""
    errors = s.outputs.choose_delivery(
        "express",
        {"recipient": " ", "mobile": "12345", "address": "北京市朝阳区建国路1号", "postal_code": "2530"},
    )
    assert errors == {
        "recipient": "delivery.error.recipient",
        "mobile": "delivery.error.mobile",
        "address": "delivery.error.address_outside",
        "postal_code": "delivery.error.postal_code",
    }
    assert s.data.case.delivery is None
    assert s.outputs.choose_delivery("express", {**EXPRESS, "address": "山东省德州市德城区"}) == {
        "address": "delivery.error.address_incomplete"
    }
    assert s.outputs.choose_delivery("express", EXPRESS) == {}
    result, printouts, case_id = finish(terminal)

    assert result.delivery == "express" and not result.certificate_printed
    assert result.queue_number is None
    [receipt] = printouts
    text = receipt.text
    assert "取件方式：快递送达" in text
    assert "收 件 人：张*兰" in text
    assert "联系电话：139****0000" in text
    assert "收件地址：山东省德州市德城区******" in text
    assert "邮政编码：253000" in text
    for secret in ("新湖大街", "13905340000", "张桂兰"):
        assert secret not in text
    assert qr_codes(terminal, receipt) == [receipt_qr(terminal, case_id)]
    assert platform_case(terminal, case_id)["delivery"] == {"method": "express", "address": EXPRESS}


# ------------------------------------------------------------------ manual review and reject
def test_manual_review_gets_a_queue_ticket_and_the_commitment_form(
    terminal: Terminal, tmp_path: Path
) -> None:
    to_confirm(terminal, BUSINESS)
    s = terminal.session
    assert s.data.application.decision.outcome.value == "manual"
    offered, default = s.outputs.delivery_options()
    assert offered == (DeliveryMethod.WINDOW, DeliveryMethod.EXPRESS) and default is DeliveryMethod.WINDOW
    assert s.outputs.choose_delivery("print_here") == {"method": "delivery.error.choice"}
    assert s.outputs.express_prefill()["mobile"] == "13905340000"  # typed in the form
    signature = signature_png()
    result, printouts, case_id = finish(terminal)  # the default (window) stays chosen

    assert result.delivery == "window" and result.certificate_number is None
    number = result.queue_number
    assert number is not None and QUEUE_NUMBER.match(number)
    issued_queue_numbers.append(number)
    receipt, pickup, ticket = printouts
    assert "受理回执" in receipt.text and "转人工审核" in receipt.text
    assert "取件方式：窗口领取，审核通过后凭取件单领取" in receipt.text
    assert "审核通过后凭本单及身份证到窗口领取" in pickup.text
    assert "业务类型：人工审核" in ticket.text and number in ticket.text.splitlines()

    assert result.commitment_printed
    form = spooled(terminal, result.commitment_job)
    text = pdftext(form)
    assert "个体工商户设立登记告知承诺书" in text
    assert number_of(terminal, case_id) in text
    assert "房屋租赁合同（原件）" in text
    deadline = dt.date.today() + dt.timedelta(days=20)
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日前" in text
    assert "李建国" in text and "37140219880721003X" not in text
    # The signature the citizen drew is the image on the form.
    subprocess.run(["pdfimages", "-png", str(form), str(tmp_path / "img")], check=True, timeout=60)
    [image] = sorted(tmp_path.glob("img-*.png"))
    with Image.open(image) as got, Image.open(io.BytesIO(signature)) as full:
        # the ink of what was drawn, with an 8-pixel margin (the form crops the pad's blank space)
        left, top, right, bottom = full.convert("L").point(lambda v: 255 if v < 128 else 0).getbbox()
        drawn = full.crop(
            (max(left - 8, 0), max(top - 8, 0), min(right + 8, full.width), min(bottom + 8, full.height))
        )
        assert got.size == drawn.size
        diff = sum(
            abs(a - b) > 64
            for a, b in zip(got.convert("L").tobytes(), drawn.convert("L").tobytes(), strict=True)
        )
        assert diff < got.size[0] * got.size[1] // 100


def test_reject_offers_no_delivery_and_prints_only_the_receipt(terminal: Terminal) -> None:
    assert terminal.bench is not None
    spool_before = set(terminal.bench.spool_dir.glob("*.pdf"))
    to_confirm(terminal, DEMO_REJECTED)
    assert terminal.session.outputs.delivery_options() == ((), None)
    assert terminal.session.outputs.choose_delivery("window") == {"method": "delivery.error.choice"}
    result, printouts, case_id = finish(terminal)
    assert result.delivery is None and result.queue_number is None
    assert not result.commitment_printed and not result.certificate_printed
    [receipt] = printouts
    assert "不予受理告知" in receipt.text and "申请人年龄不在16至59周岁之间" in receipt.text
    assert set(terminal.bench.spool_dir.glob("*.pdf")) == spool_before
    assert platform_case(terminal, case_id)["delivery"] is None


# ------------------------------------------------------------------ English
def test_english_session_gets_english_receipt_and_slips(terminal: Terminal) -> None:
    to_confirm(terminal, SENIOR)
    set_language("en")  # the citizen switched the screen to English
    assert terminal.session.outputs.choose_delivery("window") == {}
    result, printouts, case_id = finish(terminal)
    receipt, pickup, ticket = printouts
    text = " ".join(receipt.text.splitlines())  # long English lines wrap at spaces on 48 columns
    assert "Dezhou Government Service Centre" in text
    assert "Completion receipt" in text
    assert "Service: Senior citizen preferential card" in text
    assert f"Case no.: {number_of(terminal, case_id)}" in text and case_id not in text
    assert "Result: Approved" in text
    assert "Delivery: At the window, with the pick-up slip and ID card" in text
    assert "Scan to follow your case" in text
    assert not re.search(r"[\u4e00-\u9fff]", text.replace("张*兰", ""))  # no Chinese label left
    assert "Pick-up slip" in pickup.text
    assert "Queue ticket" in ticket.text and "For: pick-up at the window" in ticket.text
    assert qr_codes(terminal, receipt) == [receipt_qr(terminal, case_id)]
    assert result.queue_number is not None
    issued_queue_numbers.append(result.queue_number)


def test_queue_numbers_were_unique_and_in_order(terminal: Terminal) -> None:
    assert len(issued_queue_numbers) == 3
    assert issued_queue_numbers == sorted(set(issued_queue_numbers))
    assert terminal.store.meta.get(f"queue-seq:{dt.date.today():%Y%m%d}") == "3"


# ------------------------------------------------------------------ identity evidence
def test_the_case_carries_the_face_checks_best_frame(terminal: Terminal, face_verifier: Any) -> None:
    """The case stores the face check's score, threshold and decision, and its best compared frame
    as an attachment (sealed on the way), cut to the face: the platform gets the citizen's face."""
    to_confirm(terminal, SENIOR)
    assert terminal.session.outputs.choose_delivery("print_here") == {}
    _, _, case_id = finish(terminal)
    evidence = platform_case(terminal, case_id)["identity_evidence"]
    assert evidence["face_matched"] is True and evidence["face_reason"] == "matched"
    assert evidence["face_score"] <= evidence["face_threshold"] == DEFAULT_THRESHOLD
    [received] = [c for c in terminal.client.sandbox.received_cases() if c["case_id"] == case_id]
    refs = {r["name"]: r for r in received["attachments"]}
    assert evidence["face_frame_attachment"] == refs["face"]["attachment_id"]
    jpeg = terminal.client.sandbox.attachment(case_id, "face")
    assert hashlib.sha256(jpeg).hexdigest() == refs["face"]["sha256"]
    frame = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert frame is not None and frame.shape[0] < 480 and frame.shape[1] < 640  # the face, not the room
    # It is the citizen who stood there (senior: the obama photos), not someone else.
    stored = face_verifier.embed_reference(frame)
    assert isinstance(stored, Embedding)
    same = face_verifier.embed_reference(cv2.imread(str(media_path(SENIOR.live_images[0]))))
    other = face_verifier.embed_reference(cv2.imread(str(media_path(BUSINESS.live_images[0]))))
    assert isinstance(same, Embedding) and isinstance(other, Embedding)
    assert stored.distance(same) < 0.3 < DEFAULT_THRESHOLD < stored.distance(other)
