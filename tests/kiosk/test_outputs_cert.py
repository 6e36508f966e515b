"""Certificate: signed QR token, embedded TrueType CJK font, the drawn seal."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pyzbar import pyzbar

from kiosk.outputs.render import (
    DEMO_CERT_SIGNING_KEY,
    CertificateData,
    TokenError,
    build_certificate_pdf,
    certificate_claims,
    sign_certificate_token,
    token_from_qr,
    verify_certificate_token,
)

CERT = CertificateData(
    title="老年人优待证",
    number="LN0001202611230001",
    holder_name="张桂兰",
    id_number="371402195203140022",
    issue_date=dt.date(2026, 11, 23),
    authority="德州市德城区民政局",
    verify_url="https://zwfw.example.gov.cn/verify/LN0001202611230001",
)


def test_token_round_trip_and_tamper() -> None:
    token = sign_certificate_token(certificate_claims(CERT), DEMO_CERT_SIGNING_KEY)
    claims = verify_certificate_token(token, DEMO_CERT_SIGNING_KEY)
    assert claims == {
        "n": "LN0001202611230001",
        "t": "老年人优待证",
        "d": "2026-11-23",
        "a": "德州市德城区民政局",
        "h": "张*兰",
        "i": "3714**********0022",
    }
    with pytest.raises(TokenError):
        verify_certificate_token(token, b"another key")
    prefix, _payload, mac = token.split(".")
    forged = sign_certificate_token({**claims, "n": "LN0001202611230002"}, b"x").split(".")[1]
    with pytest.raises(TokenError):
        verify_certificate_token(f"{prefix}.{forged}.{mac}", DEMO_CERT_SIGNING_KEY)
    for bad in ("", "KZ1.a", "XX.a.b", "KZ1.!!.??"):
        with pytest.raises(TokenError):
            verify_certificate_token(bad, DEMO_CERT_SIGNING_KEY)


def test_pdf_embeds_font_qr_verifies_and_seal_is_red(tmp_path: Path) -> None:
    pdf = tmp_path / "cert.pdf"
    pdf.write_bytes(build_certificate_pdf(CERT))
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "WenQuanYi" in line or "Droid" in line]
    assert cjk and all(" yes yes yes " in line for line in cjk), fonts  # embedded, subset, unicode
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "德州市德城区民政局" in text and "电子印章" in text
    subprocess.run(
        ["pdftoppm", "-r", "100", "-png", "-singlefile", str(pdf), str(tmp_path / "p")], check=True
    )
    page = Image.open(tmp_path / "p.png").convert("RGB")
    (code,) = pyzbar.decode(page, symbols=[pyzbar.ZBarSymbol.QRCODE])
    claims = verify_certificate_token(token_from_qr(code.data.decode()), DEMO_CERT_SIGNING_KEY)
    assert claims["n"] == CERT.number
    # The seal: a red disc region around its centre (left + 50 mm, bottom + 32 mm on A4).
    px = np.asarray(page).astype(int)
    mm = page.width / 210
    cx, cy = round((25 + 50) * mm), round(page.height - (297 - 175 + 32) * mm)
    box = px[cy - round(21 * mm) : cy + round(21 * mm), cx - round(21 * mm) : cx + round(21 * mm)]
    red = (box[..., 0] > 180) & (box[..., 1] < 90) & (box[..., 2] < 90)
    assert red.sum() > 500  # ring, star and characters
    star = px[cy - 3 : cy + 3, cx - 3 : cx + 3]
    assert ((star[..., 0] > 180) & (star[..., 1] < 90)).all()  # the star fills the centre
