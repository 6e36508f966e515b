"""Receipt parts added for delivery, queue tickets and the commitment form (kiosk.outputs.render)."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from kiosk.outputs.render import (
    CommitmentData,
    ReceiptDelivery,
    build_commitment_pdf,
    queue_number,
    signature_ink,
)


def test_express_details_must_arrive_masked() -> None:
    with pytest.raises(ValueError, match="masked"):
        ReceiptDelivery(
            "express", recipient_masked="张桂兰", mobile_masked="139****0000", address_masked="山东省******"
        )
    ok = ReceiptDelivery(
        "express", recipient_masked="张*兰", mobile_masked="139****0000", address_masked="山东省******"
    )
    assert ok.lines("en")[0] == "Delivery: Express delivery"
    assert ReceiptDelivery("express", True, "张*兰", "139****0000", "山东省******").lines("zh")[0] == (
        "取件方式：审核通过后快递送达"
    )
    with pytest.raises(ValueError, match="unknown delivery"):
        ReceiptDelivery("drone")


def test_queue_numbers() -> None:
    assert queue_number("K", 1) == "K001"
    assert queue_number("AB", 1234) == "AB1234"
    with pytest.raises(ValueError):
        queue_number("K", 0)


def _png(size: tuple[int, int], ink: tuple[int, int, int, int] | None) -> bytes:
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, size[0] - 1, size[1] - 1), outline=(187, 187, 187))  # the pad's frame
    if ink is not None:
        draw.rectangle(ink, fill="black")
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def test_signature_cropped_to_its_ink() -> None:
    assert signature_ink(_png((1000, 200), (100, 50, 199, 99))).size == (116, 66)
    assert signature_ink(_png((100, 40), None)).size == (100, 40)  # nothing drawn: left as it is


def test_commitment_form_refuses_a_full_id_number_or_a_non_png_signature() -> None:
    base = dict(
        title="承诺书",
        text="本人承诺",
        originals=(),
        item_name="事项",
        case_id="C-1",
        applicant_name="李建国",
        deadline=dt.date(2026, 12, 13),
        signed_on=dt.date(2026, 11, 23),
        authority="市场监督管理局",
    )
    with pytest.raises(ValueError, match="masked"):
        CommitmentData(**base, id_number_masked="37140219880721003X", signature_png=_png((10, 10), None))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="PNG"):
        CommitmentData(**base, id_number_masked="3714**********003X", signature_png=b"GIF89a")  # type: ignore[arg-type]


def test_commitment_form_in_english(tmp_path: Path) -> None:
    pdf = build_commitment_pdf(
        CommitmentData(
            title="Commitment: individual business registration",
            text="I declare that the information and materials I gave are true, lawful and valid and "
            "that I will present the originals listed below before the deadline.",
            originals=("Lease contract (original)",),
            item_name="Individual business registration",
            case_id="C-42",
            applicant_name="李建国",
            id_number_masked="3714**********003X",
            deadline=dt.date(2026, 12, 13),
            signed_on=dt.date(2026, 11, 23),
            signature_png=_png((400, 120), (40, 40, 360, 80)),
            authority="市场监督管理局",
            language="en",
        )
    )
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf)
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "Case no.: C-42" in text and "Declarant: 李建国" in text
    assert "before the deadline." in text  # the long text wrapped at spaces, nothing lost
    assert "Originals to present: 1. Lease contract (original)" in text
    assert "Deadline: by 2026-12-13" in text and "Signed on: 2026-11-23" in text
