"""Certificate and queue numbers: unique per terminal and day, on disk before they are used."""

from __future__ import annotations

from kiosk.outputs import render as outputs
from kiosk.review.items import ItemPackage
from kiosk.session.context import SessionContext


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
