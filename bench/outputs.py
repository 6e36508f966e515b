"""Outputs: receipt, certificate, ledger (``python -m bench.outputs``).

* ``receipt_ms``: build the senior citizen's receipt, encode it to ESC/POS and send it over
  TCP to the receipt printer simulator on 127.0.0.1 with the driver's status queries before and
  after, until the simulator has decoded the cut receipt (median of ``--n``).
* ``certificate_ms``: render the certificate PDF (embedded CJK TrueType subset, seal, signed QR).
* ``ledger_ms``: write one ledger entry + publicity record as an immutable archive record
  (canonical JSON, SHA-256 fixity, O_EXCL file + hash-chain line, both fsynced) in a temp dir.

Median and max over ``--n`` runs each.  The last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devices.printer import EscPosReceiptPrinter
from devices.printer.simulator import ReceiptPrinterSimulator
from kiosk.outputs.records import IdType, Ledger, PartyType, PermitCategory, PublicityRecord, ledger_entry_for
from kiosk.outputs.render import (
    CertificateData,
    ReceiptData,
    build_certificate_pdf,
    build_receipt,
    mask_id_number,
    mask_name,
)

NOW = dt.datetime(2026, 11, 23, 10, 15)


def _time(fn: Callable[[int], None], n: int) -> tuple[float, float]:
    fn(-1)  # warm-up (font loading, first connection)
    samples = []
    for i in range(n):
        started = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args(argv)

    def receipt_data(i: int) -> ReceiptData:
        return ReceiptData(
            hall_name="德州市德城区政务服务中心",
            item_name="老年人优待证申领",
            case_id=f"DZ-20261123-{i + 2:04d}",
            decision="approve",
            reasons=("年满60周岁，符合申领条件",),
            applicant_name_masked=mask_name("张桂兰"),
            id_number_masked=mask_id_number("371402195203140022"),
            submitted_at=NOW,
            pickup_text="自助终端打印",
            progress_url=f"https://zwfw.example.gov.cn/progress/DZ-20261123-{i + 2:04d}",
            contact_line="咨询电话 0534-12345",
        )

    result: dict[str, Any] = {"n": args.n}
    with ReceiptPrinterSimulator() as sim:
        printer = EscPosReceiptPrinter("127.0.0.1", sim.port, timeout=5)

        def receipt(i: int) -> None:
            printer.print_receipt(build_receipt(receipt_data(i)))
            sim.wait_for_receipts(i + 2)

        result["receipt_ms"], result["receipt_max_ms"] = _time(receipt, args.n)
        printer.close()

    def certificate(i: int) -> None:
        number = f"LN0001202611230{i + 2:03d}"
        build_certificate_pdf(
            CertificateData(
                title="老年人优待证",
                number=number,
                holder_name="张桂兰",
                id_number="371402195203140022",
                issue_date=NOW.date(),
                authority="德州市德城区民政局",
                verify_url=f"https://zwfw.example.gov.cn/verify/{number}",
            )
        )

    result["certificate_ms"], result["certificate_max_ms"] = _time(certificate, args.n)

    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(Path(tmp), key=bytes(range(32)))

        def ledger_write(i: int) -> None:
            case_id = f"DZ-20261123-{i + 2:04d}"
            pub = PublicityRecord(
                party_name="张桂兰",
                party_type=PartyType.NATURAL_PERSON,
                id_type=IdType.RESIDENT_ID,
                id_number="371402195203140022",
                upload_time=NOW,
                decision_document_name="老年人优待证",
                decision_document_number=f"LN0001202611230{i + 2:03d}",
                authority="德州市德城区民政局",
                permit_category=PermitCategory.OTHER,
                content="准予发放老年人优待证",
                decision_date=NOW.date(),
                case_id=case_id,
            )
            entry = ledger_entry_for(
                case_id=case_id,
                terminal_id="DZ-DC-0001",
                item_id="senior-card",
                item_name="老年人优待证申领",
                party_name="张桂兰",
                id_number="371402195203140022",
                decision="approve",
                decided_at=NOW,
                certificate_number=pub.decision_document_number,
                publicity=pub,
            )
            ledger.record_approval(entry, pub, NOW)

        result["ledger_ms"], result["ledger_max_ms"] = _time(ledger_write, args.n)
        result["ledger_verified"] = ledger.verify()
    result = {k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
