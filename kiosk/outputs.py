"""What the citizen takes away: the receipt (as a device-neutral ReceiptDoc) and the certificate PDF.

Pure functions: no device, no clock, no I/O.  The receipt carries only masked
personal data (``张*兰``, ``3714**********0022``); the certificate itself shows
the ID number in full, as issued certificates do.

Fonts: the certificate uses reportlab's built-in CID font ``STSong-Light``
(Adobe-GB1).  It is *not embedded*: viewers/printers substitute a Song face
(poppler via poppler-data, Acrobat via its Asian font pack).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Literal

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from devices.interfaces import ReceiptDoc, ReceiptLine

Decision = Literal["approve", "reject", "manual"]

#: Receipt titles by decision.
RECEIPT_TITLES: dict[str, str] = {
    "approve": "办结回执",
    "manual": "受理回执",
    "reject": "不予受理告知",
}
RESULT_TEXT: dict[str, str] = {
    "approve": "准予办理",
    "manual": "已受理，转人工审核",
    "reject": "不予受理",
}
REASONS_LABEL: dict[str, str] = {
    "approve": "审核意见",
    "manual": "转人工审核原因",
    "reject": "不予受理理由",
}

CERT_FONT = "STSong-Light"


# ------------------------------------------------------------------ masking
def mask_name(name: str) -> str:
    """张桂兰 -> 张*兰, 李四 -> 李*, 欧阳娜娜 -> 欧**娜."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(id_number: str) -> str:
    """371402195203140022 -> 3714**********0022 (first 4 and last 4 kept)."""
    s = id_number.strip()
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


_FULL_ID = re.compile(r"\d{17}[\dXx]|\d{15}")


# ------------------------------------------------------------------ receipt
@dataclass(frozen=True)
class ReceiptData:
    """Everything a receipt shows.  Names and ID numbers arrive masked (see :func:`mask_name`)."""

    hall_name: str
    item_name: str
    case_id: str
    decision: Decision
    reasons: tuple[str, ...]
    applicant_name_masked: str
    id_number_masked: str
    submitted_at: dt.datetime
    pickup_text: str
    progress_url: str
    contact_line: str

    def __post_init__(self) -> None:
        if self.decision not in RECEIPT_TITLES:
            raise ValueError(f"unknown decision {self.decision!r}")
        if "*" not in self.applicant_name_masked:
            raise ValueError("applicant name must be masked on a receipt")
        if "*" not in self.id_number_masked or _FULL_ID.search(self.id_number_masked):
            raise ValueError("ID number must be masked on a receipt")
        if isinstance(self.reasons, str) or not all(isinstance(r, str) for r in self.reasons):
            raise TypeError("reasons must be a sequence of strings")
        object.__setattr__(self, "reasons", tuple(self.reasons))

    def __repr__(self) -> str:
        return f"ReceiptData(case_id={self.case_id!r}, decision={self.decision!r})"


def _text(text: str, *, bold: bool = False, align: str = "left", double: bool = False) -> ReceiptLine:
    return ReceiptLine(kind="text", text=text, bold=bold, align=align, double=double)


def build_receipt(data: ReceiptData) -> ReceiptDoc:
    """The receipt for one case: title by decision, case facts, reasons, a QR code to track progress."""
    lines: list[ReceiptLine] = [
        _text(data.hall_name, bold=True, align="center"),
        _text(RECEIPT_TITLES[data.decision], bold=True, align="center", double=True),
        ReceiptLine(kind="feed"),
        _text(f"事项名称：{data.item_name}"),
        _text(f"受理编号：{data.case_id}", bold=True),
        _text(f"申 请 人：{data.applicant_name_masked}"),
        _text(f"证件号码：{data.id_number_masked}"),
        _text(f"提交时间：{data.submitted_at.strftime('%Y-%m-%d %H:%M')}"),
        _text(f"办理结果：{RESULT_TEXT[data.decision]}", bold=True),
    ]
    if data.reasons:
        lines.append(_text(f"{REASONS_LABEL[data.decision]}："))
        lines.extend(_text(f"{i}. {reason}") for i, reason in enumerate(data.reasons, start=1))
    if data.pickup_text:
        lines.append(_text(f"取件方式：{data.pickup_text}"))
    lines += [
        ReceiptLine(kind="feed"),
        _text("扫码查询办理进度", align="center"),
        ReceiptLine(kind="qr", text=data.progress_url, align="center"),
        ReceiptLine(kind="feed"),
        _text(data.contact_line, align="center"),
        _text("请妥善保管本回执", align="center"),
        ReceiptLine(kind="cut"),
    ]
    return ReceiptDoc(tuple(lines))


# ------------------------------------------------------------------ certificate
@dataclass(frozen=True)
class CertificateData:
    title: str  # e.g. 老年人优待证
    number: str
    holder_name: str
    id_number: str  # in full: the certificate itself carries it
    issue_date: dt.date
    authority: str
    verify_url: str

    def __repr__(self) -> str:
        return f"CertificateData(title={self.title!r}, number={self.number!r})"


def _cert_font() -> str:
    if CERT_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CERT_FONT))
    return CERT_FONT


def build_certificate_pdf(data: CertificateData) -> bytes:
    """One A4 page: bordered certificate with the fields and a verification QR code."""
    font = _cert_font()
    buf = io.BytesIO()
    width, height = A4
    c = Canvas(buf, pagesize=A4, invariant=True)
    c.setTitle(data.title)
    c.setAuthor(data.authority)
    c.setSubject(f"{data.title} {data.number}")

    red = Color(0.72, 0.08, 0.08)
    left, right = 25 * mm, width - 25 * mm
    top, bottom = height - 25 * mm, height - 175 * mm
    c.setStrokeColor(red)
    c.setLineWidth(3)
    c.rect(left, bottom, right - left, top - bottom)
    c.setLineWidth(1)
    c.rect(left + 3 * mm, bottom + 3 * mm, right - left - 6 * mm, top - bottom - 6 * mm)

    c.setFillColor(red)
    c.setFont(font, 30)
    c.drawCentredString(width / 2, top - 25 * mm, data.title)

    c.setFillColor(Color(0, 0, 0))
    rows = (
        ("证件编号", data.number),
        ("持证人", data.holder_name),
        ("身份证号", data.id_number),
        ("发证日期", f"{data.issue_date.year}年{data.issue_date.month}月{data.issue_date.day}日"),
        ("发证机关", data.authority),
    )
    y = top - 50 * mm
    for label, value in rows:
        c.setFont(font, 14)
        c.drawString(left + 15 * mm, y, f"{label}：")
        c.setFont(font, 16)
        c.drawString(left + 45 * mm, y, value)
        y -= 13 * mm

    qr_size = 38 * mm
    widget = QrCodeWidget(data.verify_url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(qr_size, qr_size, transform=[qr_size / (x1 - x0), 0, 0, qr_size / (y1 - y0), 0, 0])
    drawing.add(widget)
    qr_x, qr_y = right - 15 * mm - qr_size, bottom + 12 * mm
    renderPDF.draw(drawing, c, qr_x, qr_y)
    c.setFont(font, 10)
    c.drawCentredString(qr_x + qr_size / 2, qr_y - 4 * mm, "扫码核验真伪")

    # Seal: the issuing authority's name in a red ring (a drawn stand-in for the electronic seal).
    cx, cy, r = left + 50 * mm, bottom + 32 * mm, 20 * mm
    c.setStrokeColor(red)
    c.setFillColor(red)
    c.setLineWidth(2)
    c.circle(cx, cy, r)
    c.setFont(font, 9)
    c.drawCentredString(cx, cy - 2, data.authority[:12])
    c.drawCentredString(cx, cy - 14, "（电子印章）")

    c.showPage()
    c.save()
    return buf.getvalue()
