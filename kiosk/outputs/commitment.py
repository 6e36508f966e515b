"""The commitment form (承诺单, 告知承诺制): the item's commitment text signed by the citizen,
printed on the document printer."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass

from PIL import Image

from kiosk.i18n import Language, format_date, tr
from kiosk.outputs.certificate import a4_page, cert_font
from kiosk.outputs.masking import FULL_ID


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
        if FULL_ID.search(self.id_number_masked):
            raise ValueError("ID number must be masked on the commitment form")

    def __repr__(self) -> str:
        return f"CommitmentData(case_id={self.case_id!r})"


def _wrap_width(text: str, font: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` points (CJK by character, Latin by word)."""
    from reportlab.pdfbase import pdfmetrics

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
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader

    lang = data.language
    font = cert_font()
    width, height = A4
    c, buf = a4_page(data.title, data.authority, f"{data.title} {data.case_id}")
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
