"""Receipt documents and the certificate PDF."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest

from kiosk.outputs.render import (
    CertificateData,
    ReceiptData,
    build_certificate_pdf,
    build_receipt,
    mask_id_number,
    mask_name,
)

URL = "https://zwfw.example.gov.cn/progress?case=DZ-1"


def receipt_data(decision: str, reasons: tuple[str, ...] = ()) -> ReceiptData:
    return ReceiptData(
        hall_name="德州市政务服务中心",
        item_name="城乡居民基本养老保险参保登记",
        case_id="DZ-1",
        decision=decision,  # type: ignore[arg-type]
        reasons=reasons,
        applicant_name_masked=mask_name("王晓明"),
        id_number_masked=mask_id_number("371428197911020016"),
        submitted_at=dt.datetime(2025, 3, 14, 10, 5),
        pickup_text="",
        progress_url=URL,
        contact_line="咨询电话：0534-12345",
    )


def texts(decision: str, reasons: tuple[str, ...] = ()) -> list[str]:
    doc = build_receipt(receipt_data(decision, reasons))
    return [line.text for line in doc.lines if line.kind == "text"]


def test_masking() -> None:
    assert mask_name("张桂兰") == "张*兰"
    assert mask_name("李四") == "李*"
    assert mask_name("欧阳娜娜") == "欧**娜"
    assert mask_id_number("37140219880721003X") == "3714**********003X"


@pytest.mark.parametrize(
    ("decision", "title", "result"),
    [
        ("approve", "办结回执", "准予办理"),
        ("manual", "受理回执", "转人工审核"),
        ("reject", "不予受理告知", "不予受理"),
    ],
)
def test_title_by_decision(decision: str, title: str, result: str) -> None:
    lines = texts(decision)
    assert lines[1] == title
    assert any(result in line for line in lines)


def test_receipt_content() -> None:
    doc = build_receipt(receipt_data("reject", ("身份证件已过期 / ID card expired",)))
    lines = [line.text for line in doc.lines if line.kind == "text"]
    assert "受理编号：DZ-1" in lines
    assert "不予受理理由：" in lines
    assert "1. 身份证件已过期 / ID card expired" in lines
    assert "申 请 人：王*明" in lines
    assert "证件号码：3714**********0016" in lines
    assert not any(line.startswith("取件方式") for line in lines)  # empty pickup text is left out
    assert [line.text for line in doc.lines if line.kind == "qr"] == [URL]
    assert doc.lines[-1].kind == "cut"
    title = doc.lines[1]
    assert (title.double, title.bold, title.align) == (True, True, "center")


def test_receipt_refuses_unmasked_personal_data() -> None:
    with pytest.raises(ValueError, match="ID number"):
        ReceiptData(**{**receipt_data("approve").__dict__, "id_number_masked": "371428197911020016"})
    with pytest.raises(ValueError, match="name"):
        ReceiptData(**{**receipt_data("approve").__dict__, "applicant_name_masked": "王晓明"})
    with pytest.raises(ValueError, match="decision"):
        ReceiptData(**{**receipt_data("approve").__dict__, "decision": "maybe"})


def test_certificate_pdf(tmp_path: Path) -> None:
    pdf = build_certificate_pdf(
        CertificateData(
            title="老年人优待证",
            number="DZ-LNYD-2025-000123",
            holder_name="张桂兰",
            id_number="371402195203140022",
            issue_date=dt.date(2025, 3, 14),
            authority="德州市德城区民政局",
            verify_url="https://zwfw.example.gov.cn/verify?no=DZ-LNYD-2025-000123",
        )
    )
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "cert.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "老年人优待证" in text
    assert "张桂兰" in text
    assert "DZ-LNYD-2025-000123" in text
    assert "371402195203140022" in text
    assert "德州市德城区民政局" in text
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
