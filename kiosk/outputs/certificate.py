"""The certificate PDF and the signed token its QR code carries.

Fonts: the certificate embeds (subsets) a TrueType CJK font, WenQuanYi Zen Hei
from Debian ``fonts-wqy-zenhei`` (see :data:`CERT_TTF_CANDIDATES`).  Only when
none is installed does it fall back to reportlab's CID font ``STSong-Light``,
which is *not embedded* (viewers substitute a Song face).

The certificate QR code carries a signed token (:func:`sign_certificate_token`,
HMAC-SHA256) that the platform checks with :func:`verify_certificate_token`.
The certificate itself shows the ID number in full, as issued certificates do.
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
from typing import TYPE_CHECKING

import numpy as np
import zxingcpp

if TYPE_CHECKING:  # reportlab is imported when the first PDF is built, not at start-up
    from reportlab.pdfgen.canvas import Canvas

from kiosk.outputs.masking import mask_id_number, mask_name

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


def cert_font() -> str:
    """An embeddable TrueType CJK font when installed, else the non-embedded CID font."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

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
    from reportlab.lib.colors import Color

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


#: Light modules around the QR code, in modules (ISO/IEC 18004 asks for 4).
QR_QUIET_ZONE = 4


def draw_qr(c: Canvas, content: str, x: float, y: float, size: float) -> None:
    """A QR code (error correction M) with its quiet zone in the ``size`` square at (x, y).

    Encoded by zxing-cpp (native, a few ms) and drawn straight on the canvas, one filled rectangle
    per dark run of a row: reportlab's own QR widget encodes in Python (twice, for its bounds and
    its drawing) and builds a validated shape per run, a quarter of a second per certificate.  The
    runs are written in whole modules under one transform (``re f`` operators with integers), not
    through ``Canvas.rect``, whose pure-Python number formatting of four floats per run cost more
    than the rest of the certificate (a thousand runs for the signed verification link)."""
    code = zxingcpp.create_barcode(content, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    dark = np.asarray(code.to_image(scale=1, add_quiet_zones=False)) < 128
    n = dark.shape[0]
    module = size / (n + 2 * QR_QUIET_ZONE)
    left, top = x + QR_QUIET_ZONE * module, y + size - QR_QUIET_ZONE * module
    ops: list[str] = []
    for row in range(n):
        # run boundaries of this row: where dark starts (+1) and ends (-1)
        edges = np.flatnonzero(np.diff(np.concatenate(([0], dark[row].astype(np.int8), [0]))))
        for start, end in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
            # one fill per run: rasterisers snap a lone rectangle's edges to whole pixels
            ops.append(f"{start} {-row - 1} {end - start} 1 re f")
    c.saveState()
    c.setFillColorRGB(0, 0, 0)
    c.transform(module, 0, 0, module, left, top)  # one unit = one module, origin at the top left
    c.addLiteral("\n".join(ops))
    c.restoreState()


def a4_page(title: str, author: str, subject: str) -> tuple[Canvas, io.BytesIO]:
    """A reproducible one-page A4 canvas with its document info, and the buffer it writes to.

    Streams are deflated but not also ASCII85-armoured (reportlab's default, encoded in pure Python
    without its C accelerator): binary streams are a quarter smaller and cost no encoding time."""
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    rl_config.useA85 = 0  # read when the canvas is saved; these pages are the only PDFs made here
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=True)
    c.setTitle(title)
    c.setAuthor(author)
    c.setSubject(subject)
    return c, buf


def build_certificate_pdf(data: CertificateData, signing_key: bytes = DEMO_CERT_SIGNING_KEY) -> bytes:
    """One A4 page: bordered certificate with the fields, the seal and a signed verification QR code."""
    from reportlab.lib.colors import Color
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm

    font = cert_font()
    width, height = A4
    c, buf = a4_page(data.title, data.authority, f"{data.title} {data.number}")

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
    qr_x, qr_y = right - 15 * mm - qr_size, bottom + 12 * mm
    draw_qr(c, certificate_qr_content(data, signing_key), qr_x, qr_y, qr_size)
    c.setFont(font, 10)
    c.drawCentredString(qr_x + qr_size / 2, qr_y - 4 * mm, "扫码核验真伪")

    draw_seal(c, left + 50 * mm, bottom + 32 * mm, 21 * mm, data.authority, font)

    c.showPage()
    c.save()
    return buf.getvalue()
