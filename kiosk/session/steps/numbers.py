"""Certificate, queue and case numbers: unique per terminal and day, on disk before they are used."""

from __future__ import annotations

import json
import string

from kiosk.outputs import render as outputs
from kiosk.review.items import ItemPackage
from kiosk.session.context import SessionContext

#: The characters of a case number's check character (ISO/IEC 7064 MOD 37,36).
CHECK_ALPHABET = string.digits + string.ascii_uppercase


def check_character(body: str) -> str:
    """ISO/IEC 7064 hybrid MOD 37,36 check character over the digits and letters of ``body``
    (separators ignored): catches every single wrong character and adjacent swap."""
    p = 36
    for ch in body.upper():
        if ch not in CHECK_ALPHABET:
            continue
        s = (p + CHECK_ALPHABET.index(ch)) % 36 or 36
        p = (s * 2) % 37
    return CHECK_ALPHABET[(1 - p) % 36]


def case_number_ok(number: str) -> bool:
    """Whether a terminal-local case number's check character matches (a mistyped number fails)."""
    body, check = number[:-1], number[-1:]
    return bool(check) and check_character(body) == check.upper()


def terminal_short_id(terminal_id: str) -> str:
    """The last four letters or digits of the terminal id, upper case (what a case number shows)."""
    alnum = [c for c in terminal_id.upper() if c in CHECK_ALPHABET]
    return "".join(alnum[-4:]).rjust(4, "0")


def platform_case_number(ack: bytes | None) -> str | None:
    """The platform's own number for the case (``platform_ref`` of its acknowledgement), if any."""
    if not ack:
        return None
    try:
        ref = json.loads(ack).get("platform_ref")
    except (ValueError, AttributeError):
        return None
    return ref.strip() if isinstance(ref, str) and ref.strip() and len(ref) <= 32 else None


class Numbering:
    def __init__(self, ctx: SessionContext) -> None:
        self.ctx = ctx

    def next_certificate(self, pkg: ItemPackage) -> str:
        """Coding rule: prefix + terminal + date + per-day sequence, persisted before use (never reused)."""
        today = self.ctx.clock().strftime("%Y%m%d")
        key = f"cert-seq:{today}"
        store = self.ctx.store
        seq = int(store.meta.get(key) or "0") + 1
        store.meta.set(key, str(seq))  # persisted before use: never reused after a crash
        prefix = pkg.certificate.number_prefix if pkg.certificate else "Z"
        return f"{prefix}{self.ctx.config.terminal_id[-4:]}{today}{seq:04d}"

    def next_queue(self) -> str:
        """Queue ticket number: unique per terminal and day, on disk before it is printed."""
        today = self.ctx.clock().strftime("%Y%m%d")
        seq = self.ctx.store.meta.next_sequence(f"queue-seq:{today}")
        return outputs.queue_number(self.ctx.config.delivery.queue_prefix, seq)

    def next_case_number(self) -> str:
        """A short readable case number for when the platform has not answered: terminal short id,
        date, per-day sequence and a check character (``0001-261202-0007K``), on disk before use.
        The case's UUID stays its idempotency key; this is what the citizen reads and tells staff."""
        today = self.ctx.clock().strftime("%y%m%d")
        seq = self.ctx.store.meta.next_sequence(f"case-seq:{today}")
        body = f"{terminal_short_id(self.ctx.config.terminal_id)}-{today}-{seq:04d}"
        return body + check_character(body)
