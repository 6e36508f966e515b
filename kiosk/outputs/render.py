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

from PIL import Image
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
from kiosk.i18n import Language, format_date, tr

Decision = Literal["approve", "reject", "manual"]

#: The decisions a receipt can tell (its title, result and reasons label come from the catalogue:
#: ``receipt.title.<decision>``, ``receipt.result.<decision>``, ``receipt.reasons.<decision>``).
DECISIONS: tuple[Decision, ...] = ("approve", "manual", "reject")

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
class ReceiptDelivery:
    """The delivery choice as the receipt shows it: express details arrive masked."""

    method: str  # kiosk.outputs.delivery.DeliveryMethod value
    after_review: bool = False  # the case waits for manual review: delivery once approved
    recipient_masked: str = ""
    mobile_masked: str = ""
    address_masked: str = ""
    postal_code: str = ""

    def __post_init__(self) -> None:
        if self.method not in ("print_here", "window", "express"):
            raise ValueError(f"unknown delivery method {self.method!r}")
        if self.method == "express":
            for value in (self.recipient_masked, self.mobile_masked, self.address_masked):
                if "*" not in value:
                    raise ValueError("express details must be masked on a receipt")

    def __repr__(self) -> str:
        return f"ReceiptDelivery(method={self.method!r})"

    def lines(self, lang: Language) -> list[str]:
        key = self.method
        if self.after_review and self.method in ("window", "express"):
            key += "_after_review"
        out = [tr("receipt.pickup", lang, v=tr(f"receipt.delivery.{key}", lang))]
        if self.method == "express":
            out += [
                tr("receipt.recipient", lang, v=self.recipient_masked),
                tr("receipt.mobile", lang, v=self.mobile_masked),
                tr("receipt.address", lang, v=self.address_masked),
                tr("receipt.postal_code", lang, v=self.postal_code),
            ]
        return out


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
    language: Language = "zh"
    #: the citizen's delivery choice; when given it replaces ``pickup_text``
    delivery: ReceiptDelivery | None = None
    queue_number: str = ""  # the queue ticket printed with this receipt, if any
    certificate_number: str = ""

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
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
    """The receipt for one case: title by decision, case facts, reasons, the delivery choice, a QR
    code to track progress.  Labels in ``data.language`` (the session's); data texts (item name,
    reasons) arrive already in that language."""
    lang = data.language
    lines: list[ReceiptLine] = [
        _text(data.hall_name, bold=True, align="center"),
        _text(tr(f"receipt.title.{data.decision}", lang), bold=True, align="center", double=True),
        ReceiptLine(kind="feed"),
        _text(tr("receipt.item", lang, v=data.item_name)),
        _text(tr("receipt.case", lang, v=data.case_id), bold=True),
        _text(tr("receipt.applicant", lang, v=data.applicant_name_masked)),
        _text(tr("receipt.id_number", lang, v=data.id_number_masked)),
        _text(tr("receipt.submitted", lang, v=data.submitted_at.strftime("%Y-%m-%d %H:%M"))),
        _text(tr("receipt.result", lang, v=tr(f"receipt.result.{data.decision}", lang)), bold=True),
    ]
    if data.reasons:
        lines.append(_text(tr("receipt.reasons", lang, v=tr(f"receipt.reasons.{data.decision}", lang))))
        lines.extend(_text(f"{i}. {reason}") for i, reason in enumerate(data.reasons, start=1))
    if data.certificate_number:
        lines.append(_text(tr("receipt.certificate_no", lang, v=data.certificate_number)))
    if data.delivery is not None:
        lines.extend(_text(t) for t in data.delivery.lines(lang))
    elif data.pickup_text:
        lines.append(_text(tr("receipt.pickup", lang, v=data.pickup_text)))
    if data.queue_number:
        lines.append(_text(tr("receipt.queue", lang, v=data.queue_number), bold=True))
    lines += [
        ReceiptLine(kind="feed"),
        _text(tr("receipt.scan", lang), align="center"),
        ReceiptLine(kind="qr", text=data.progress_url, align="center"),
        ReceiptLine(kind="feed"),
        _text(data.contact_line, align="center"),
        _text(tr("receipt.keep", lang), align="center"),
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


# ------------------------------------------------------------------ slips (receipt printer)
@dataclass(frozen=True)
class PickupSlipData:
    """The pick-up slip for a result collected at the hall's window."""

    hall_name: str
    item_name: str
    case_id: str
    applicant_name_masked: str
    certificate_number: str  # "" while the case waits for manual review
    queue_number: str
    progress_url: str
    language: Language = "zh"

    def __post_init__(self) -> None:
        if "*" not in self.applicant_name_masked:
            raise ValueError("applicant name must be masked on a slip")

    def __repr__(self) -> str:
        return f"PickupSlipData(case_id={self.case_id!r})"


def build_pickup_slip(data: PickupSlipData) -> ReceiptDoc:
    """取件单: what the citizen shows at the window to collect the result."""
    lang = data.language
    ready = "slip.pickup.ready" if data.certificate_number else "slip.pickup.after_review"
    lines: list[ReceiptLine] = [
        _text(data.hall_name, bold=True, align="center"),
        _text(tr("slip.pickup.title", lang), bold=True, align="center", double=True),
        ReceiptLine(kind="feed"),
        _text(tr("receipt.item", lang, v=data.item_name)),
        _text(tr("receipt.case", lang, v=data.case_id), bold=True),
        _text(tr("receipt.applicant", lang, v=data.applicant_name_masked)),
    ]
    if data.certificate_number:
        lines.append(_text(tr("receipt.certificate_no", lang, v=data.certificate_number)))
    if data.queue_number:
        lines.append(_text(tr("receipt.queue", lang, v=data.queue_number), bold=True))
    lines += [
        _text(tr(ready, lang)),
        ReceiptLine(kind="feed"),
        ReceiptLine(kind="qr", text=data.progress_url, align="center"),
        ReceiptLine(kind="cut"),
    ]
    return ReceiptDoc(tuple(lines))


@dataclass(frozen=True)
class QueueTicketData:
    """排队号: a numbered ticket for a window (manual review or pick-up)."""

    hall_name: str
    number: str
    kind: Literal["pickup", "review"]
    item_name: str
    case_id: str
    terminal_id: str
    issued_at: dt.datetime
    language: Language = "zh"


def build_queue_ticket(data: QueueTicketData) -> ReceiptDoc:
    lang = data.language
    return ReceiptDoc(
        (
            _text(data.hall_name, bold=True, align="center"),
            _text(tr("slip.queue.title", lang), bold=True, align="center"),
            _text(data.number, bold=True, align="center", double=True),
            ReceiptLine(kind="feed"),
            _text(tr(f"slip.queue.kind.{data.kind}", lang)),
            _text(tr("receipt.item", lang, v=data.item_name)),
            _text(tr("receipt.case", lang, v=data.case_id)),
            _text(tr("slip.queue.issued", lang, v=data.issued_at.strftime("%Y-%m-%d %H:%M"))),
            _text(tr("slip.queue.terminal", lang, v=data.terminal_id)),
            _text(tr("slip.queue.wait", lang), align="center"),
            ReceiptLine(kind="cut"),
        )
    )


def queue_number(prefix: str, seq: int) -> str:
    """The printed number: ``<prefix><seq:03d>``.  The sequence is per terminal and day (the day
    and terminal are on the ticket)."""
    if seq < 1:
        raise ValueError("queue sequence starts at 1")
    return f"{prefix}{seq:03d}"


# ------------------------------------------------------------------ commitment form (document printer)
@dataclass(frozen=True)
class CommitmentData:
    """承诺单: the item's commitment text signed by the citizen (告知承诺制)."""

    title: str
    text: str
    originals: tuple[str, ...]
    item_name: str
    case_id: str
    applicant_name: str  # in full: the citizen's own signed form
    id_number_masked: str
    deadline: dt.date
    signed_on: dt.date
    signature_png: bytes
    authority: str
    language: Language = "zh"

    def __post_init__(self) -> None:
        if not self.signature_png.startswith(b"\x89PNG"):
            raise ValueError("the commitment form needs the signature as PNG")
        if _FULL_ID.search(self.id_number_masked):
            raise ValueError("ID number must be masked on the commitment form")

    def __repr__(self) -> str:
        return f"CommitmentData(case_id={self.case_id!r})"


def _wrap_width(text: str, font: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` points (CJK by character, Latin by word)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for token in re.findall(r"[A-Za-z0-9'’.,;:!?()\-]+\s*|\s+|.", paragraph):
            candidate = current + token
            if current and pdfmetrics.stringWidth(candidate.rstrip(), font, size) > width:
                lines.append(current.rstrip())
                current = token.lstrip()
            else:
                current = candidate
        lines.append(current.rstrip())
    return lines


#: Signature pixels darker than this are ink (the pad's dashed frame is light grey).
INK_THRESHOLD = 128
SIGNATURE_MARGIN = 8


def signature_ink(png: bytes) -> Image.Image:
    """The signature cropped to its ink (plus a small margin), grey scale: the pad is much wider
    than a signature, and the form has a signature-sized box."""
    img = Image.open(io.BytesIO(png)).convert("L")
    box = img.point(lambda v: 255 if v < INK_THRESHOLD else 0).getbbox()
    if box is None:
        return img
    m = SIGNATURE_MARGIN
    return img.crop(
        (max(box[0] - m, 0), max(box[1] - m, 0), min(box[2] + m, img.width), min(box[3] + m, img.height))
    )


def build_commitment_pdf(data: CommitmentData) -> bytes:
    """One A4 page: title, case facts, the commitment text, the originals and their deadline, the
    signature image and the date."""
    from reportlab.lib.utils import ImageReader

    lang = data.language
    font = _cert_font()
    buf = io.BytesIO()
    width, height = A4
    c = Canvas(buf, pagesize=A4, invariant=True)
    c.setTitle(data.title)
    c.setAuthor(data.authority)
    c.setSubject(f"{data.title} {data.case_id}")
    left, right = 25 * mm, width - 25 * mm
    y = height - 30 * mm
    c.setFont(font, 20)
    c.drawCentredString(width / 2, y, data.title)
    y -= 15 * mm
    c.setFont(font, 12)
    for line in (
        tr("commitment.case", lang, v=data.case_id),
        tr("commitment.item", lang, v=data.item_name),
        tr("commitment.applicant", lang, v=data.applicant_name),
        tr("commitment.id_number", lang, v=data.id_number_masked),
    ):
        c.drawString(left, y, line)
        y -= 8 * mm
    y -= 4 * mm
    c.setFont(font, 13)
    for line in _wrap_width(data.text, font, 13, right - left):
        c.drawString(left, y, line)
        y -= 7 * mm
    y -= 4 * mm
    c.setFont(font, 12)
    if data.originals:
        c.drawString(left, y, tr("commitment.originals", lang))
        y -= 7 * mm
        for i, original in enumerate(data.originals, start=1):
            c.drawString(left + 6 * mm, y, f"{i}. {original}")
            y -= 7 * mm
    c.drawString(left, y, tr("commitment.deadline", lang, v=format_date(data.deadline, lang)))
    y -= 18 * mm
    c.drawString(right - 95 * mm, y, tr("commitment.signature", lang))
    sig = ImageReader(signature_ink(data.signature_png))
    sig_w, sig_h = sig.getSize()
    box_w, box_h = 60 * mm, 25 * mm
    scale = min(box_w / sig_w, box_h / sig_h)
    c.drawImage(
        sig, right - 62 * mm, y - 8 * mm, sig_w * scale, sig_h * scale, mask="auto", preserveAspectRatio=True
    )
    y -= 22 * mm
    c.drawString(right - 95 * mm, y, tr("commitment.date", lang, v=format_date(data.signed_on, lang)))
    c.showPage()
    c.save()
    return buf.getvalue()
