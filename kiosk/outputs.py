"""What the citizen takes away: the receipt (as a device-neutral ReceiptDoc) and the certificate PDF.

Pure functions: no device, no clock, no I/O.  The receipt carries only masked
personal data (``张*兰``, ``3714**********0022``); the certificate itself shows
the ID number in full, as issued certificates do.

Fonts: the certificate embeds (subsets) a TrueType CJK font, WenQuanYi Zen Hei
from Debian ``fonts-wqy-zenhei`` (see :data:`CERT_TTF_CANDIDATES`).  Only when
none is installed does it fall back to reportlab's CID font ``STSong-Light``,
which is *not embedded* (viewers substitute a Song face).

The certificate QR code carries a signed token (:func:`sign_certificate_token`,
HMAC-SHA256) that the platform checks with :func:`verify_certificate_token`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import json
import math
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
from reportlab.pdfbase.ttfonts import TTFError, TTFont
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

CERT_FONT = "STSong-Light"  # fallback, not embedded
CERT_TTF_NAME = "KioskCJK"
#: TrueType CJK fonts reportlab can embed, first found wins: (path, index in a collection).
CERT_TTF_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),  # Debian fonts-wqy-zenhei
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),  # Debian fonts-droid-fallback
)

#: PLACEHOLDER signing key for the demo and tests.  Production: a per-authority secret provisioned
#: to the terminal (config ``certificate.signing_key``) and held by the platform, which verifies.
DEMO_CERT_SIGNING_KEY = b"DEMO-ONLY-certificate-qr-key-replace-in-production"
TOKEN_PREFIX = "KZ1"


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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenError(ValueError):
    """A certificate token that is malformed or whose signature does not match."""


def certificate_claims(data: CertificateData) -> dict[str, str]:
    """What the QR token asserts.  Personal data only masked; the platform looks the rest up by number."""
    return {
        "n": data.number,
        "t": data.title,
        "d": data.issue_date.isoformat(),
        "a": data.authority,
        "h": mask_name(data.holder_name),
        "i": mask_id_number(data.id_number),
    }


def sign_certificate_token(claims: dict[str, str], key: bytes) -> str:
    """``KZ1.<payload>.<mac>``: base64url canonical JSON and its HMAC-SHA256 under ``key``."""
    payload = json.dumps(claims, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    body = f"{TOKEN_PREFIX}.{_b64(payload)}"
    mac = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify_certificate_token(token: str, key: bytes) -> dict[str, str]:
    """The claims of a genuine token; :class:`TokenError` otherwise (constant-time compare)."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise TokenError("not a certificate token")
    try:
        mac = _unb64(parts[2])
        expected = hmac.new(key, f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(mac, expected):
            raise TokenError("certificate token signature mismatch")
        claims = json.loads(_unb64(parts[1]).decode("utf-8"))
    except (ValueError, UnicodeError) as err:
        if isinstance(err, TokenError):
            raise
        raise TokenError("malformed certificate token") from err
    if not isinstance(claims, dict) or not all(isinstance(v, str) for v in claims.values()):
        raise TokenError("malformed certificate claims")
    return {str(k): v for k, v in claims.items()}


def certificate_qr_content(data: CertificateData, key: bytes = DEMO_CERT_SIGNING_KEY) -> str:
    """The QR text: the verify URL with the signed token as ``t``."""
    sep = "&" if "?" in data.verify_url else "?"
    return f"{data.verify_url}{sep}t={sign_certificate_token(certificate_claims(data), key)}"


def token_from_qr(content: str) -> str:
    """The token part of a scanned certificate QR."""
    match = re.search(r"[?&]t=([A-Za-z0-9_.=-]+)", content)
    if match is None:
        raise TokenError("no token in QR content")
    return match.group(1)


def _cert_font() -> str:
    """An embeddable TrueType CJK font when installed, else the non-embedded CID font."""
    registered = pdfmetrics.getRegisteredFontNames()
    if CERT_TTF_NAME in registered:
        return CERT_TTF_NAME
    for path, index in CERT_TTF_CANDIDATES:
        try:
            pdfmetrics.registerFont(TTFont(CERT_TTF_NAME, path, subfontIndex=index))
        except (OSError, TTFError):
            continue
        return CERT_TTF_NAME
    if CERT_FONT not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CERT_FONT))
    return CERT_FONT


def draw_seal(c: Canvas, cx: float, cy: float, r: float, authority: str, font: str) -> None:
    """A red round seal: double ring, five-pointed star, the authority's name along the upper arc."""
    red = Color(0.85, 0.05, 0.05)
    c.saveState()
    c.setStrokeColor(red)
    c.setFillColor(red)
    c.setLineWidth(2.2)
    c.circle(cx, cy, r)
    c.setLineWidth(0.6)
    c.circle(cx, cy, r - 3)
    star_r = r * 0.3
    path = c.beginPath()
    for k in range(10):
        rad = star_r if k % 2 == 0 else star_r * 0.382
        ang = math.pi / 2 + k * math.pi / 5
        x, y = cx + rad * math.cos(ang), cy + rad * math.sin(ang)
        if k == 0:
            path.moveTo(x, y)
        else:
            path.lineTo(x, y)
    path.close()
    c.drawPath(path, stroke=0, fill=1)
    name = authority[:16]
    size = min(r * 0.26, 14)
    text_r = r - 4 - size
    span = min(math.radians(240), len(name) * size * 1.1 / text_r)
    for k, ch in enumerate(name):
        ang = math.pi / 2 + span / 2 - (span * (k + 0.5) / len(name))
        c.saveState()
        c.translate(cx + text_r * math.cos(ang), cy + text_r * math.sin(ang))
        c.rotate(math.degrees(ang) - 90)
        c.setFont(font, size)
        c.drawCentredString(0, 0, ch)
        c.restoreState()
    c.setFont(font, size * 0.8)
    c.drawCentredString(cx, cy - r * 0.62, "电子印章")
    c.restoreState()


def build_certificate_pdf(data: CertificateData, signing_key: bytes = DEMO_CERT_SIGNING_KEY) -> bytes:
    """One A4 page: bordered certificate with the fields, the seal and a signed verification QR code."""
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
    widget = QrCodeWidget(certificate_qr_content(data, signing_key), barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(qr_size, qr_size, transform=[qr_size / (x1 - x0), 0, 0, qr_size / (y1 - y0), 0, 0])
    drawing.add(widget)
    qr_x, qr_y = right - 15 * mm - qr_size, bottom + 12 * mm
    renderPDF.draw(drawing, c, qr_x, qr_y)
    c.setFont(font, 10)
    c.drawCentredString(qr_x + qr_size / 2, qr_y - 4 * mm, "扫码核验真伪")

    draw_seal(c, left + 50 * mm, bottom + 32 * mm, 21 * mm, data.authority, font)

    c.showPage()
    c.save()
    return buf.getvalue()
