"""The receipt's QR code: the hall's progress URL base, the case reference and a tag the platform
can check (``GET /api/v1/progress?case_ref=…&tag=…``).

The tag is the first 80 bits (hex) of ``HMAC-SHA256(lookup_key, "receipt-ref/v1\\n" + case_ref)``,
keyed with the platform's lookup key the terminal got at enrolment: a reference typed by hand (or
guessed) without its tag does not open a case's progress.  A terminal that has not enrolled yet
prints the reference without a tag; such a QR is still shown at the window, where staff look the
case up.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import urllib.parse
from dataclasses import dataclass

TAG_LENGTH = 20
_REF = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_TAG = re.compile(r"[0-9a-f]{20}")


def receipt_tag(key: bytes, case_ref: str) -> str:
    mac = hmac.new(key, b"receipt-ref/v1\n" + case_ref.encode("utf-8"), hashlib.sha256)
    return mac.hexdigest()[:TAG_LENGTH]


def progress_url(base: str, case_ref: str | None, key: bytes | None) -> str:
    """What the receipt's QR carries: ``<base><case_ref>?t=<tag>`` (no tag without a key)."""
    ref = case_ref or ""
    url = base + urllib.parse.quote(ref, safe="")
    return f"{url}?t={receipt_tag(key, ref)}" if key and ref else url


@dataclass(frozen=True)
class ReceiptReference:
    case_ref: str
    tag: str | None  # None: a QR printed before the terminal had a key (or not ours)


def parse_receipt_qr(payload: str) -> ReceiptReference | None:
    """The case reference and tag in a scanned receipt QR (any hall's base URL); None when the
    payload is not one."""
    text = payload.strip()
    parsed = urllib.parse.urlsplit(text)
    path = parsed.path if parsed.scheme else text.split("?", 1)[0]
    ref = urllib.parse.unquote(path.rstrip("/").rsplit("/", 1)[-1])
    if not _REF.fullmatch(ref):
        return None
    query = parsed.query if parsed.scheme else (text.split("?", 1)[1] if "?" in text else "")
    tags = urllib.parse.parse_qs(query).get("t", [])
    tag = tags[0].lower() if tags and _TAG.fullmatch(tags[0].lower()) else None
    return ReceiptReference(ref, tag)
