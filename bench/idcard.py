"""Time from card placed to parsed identity, over the ID card simulator on a pty.

The simulator paces its bytes like a UART at the configured baud rate (10 bits per
byte, 8N1), both the commands it receives and the responses it sends, because a
pty itself delivers instantly.  ``wire_ms`` is the line time of the frames of one
successful read (find card, select card, read text+photo: commands and responses);
``overhead_ms`` is what the placed-to-parsed time adds beyond it: waiting for the
next poll (the reader polls every ``poll_interval``), a find that just missed the
card, Python, the pty and the parsing.  The card is placed at a random moment of
the polling cycle.

Run: ``.venv/bin/python -m bench.idcard [--n 40] [--baud 115200] [--poll-interval 0.02]``.
The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import threading
import time

from bench._stats import percentile
from devices.idcard import codec
from devices.idcard.codec import Command, SamCode
from devices.idcard.driver import SerialIdCardReader
from devices.idcard.sim_cards import SIM_CARDS
from devices.idcard.simulator import IdCardSimulator

TARGET_OVERHEAD_MS = 50.0


def read_wire_bytes() -> int:
    """Bytes on the line for one successful find/select/read exchange."""
    card = SIM_CARDS["senior"]
    exchange = [
        codec.encode(Command.FIND_CARD),
        codec.encode_response(SamCode.FIND_OK, bytes(4)),
        codec.encode(Command.SELECT_CARD),
        codec.encode_response(SamCode.SUCCESS, bytes(8)),
        codec.encode(Command.READ_TEXT_PHOTO),
        codec.encode_response(
            SamCode.SUCCESS, codec.encode_read_payload(card.text_block(), card.photo_block())
        ),
    ]
    return sum(len(frame) for frame in exchange)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="card placements to time")
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--poll-interval", type=float, default=0.02, help="seconds between find-card polls")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rng = random.Random(args.seed)
    wire_bytes = read_wire_bytes()
    wire_ms = wire_bytes * 10 / args.baud * 1000.0
    cards = ["senior", "business", "expired"]
    measured: list[float] = []
    with IdCardSimulator(baudrate=args.baud) as sim:
        reader = SerialIdCardReader(
            sim.port, args.baud, poll_interval=args.poll_interval, response_timeout=2.0
        )
        try:
            reader.open()
            for key in cards:  # build (and cache) each card's text and photo blocks up front
                sim.insert(key)
            sim.remove()
            for i in range(args.n):
                key = cards[i % len(cards)]
                sim.remove()
                placed: dict[str, float] = {}

                def place(card: str = key, box: dict[str, float] = placed) -> None:
                    sim.insert(card)  # the blocks are built before the card "lands"
                    box["t"] = time.perf_counter()

                # place the card at a random phase of the polling cycle, after polling started
                timer = threading.Timer(0.05 + rng.uniform(0, args.poll_interval), place)
                timer.start()
                result = reader.read_card(timeout=5.0)
                done = time.perf_counter()
                timer.join()
                if result is None or result.text != SIM_CARDS[key].text:
                    print(f"read {i}: wrong or no result", file=sys.stderr)
                    continue
                measured.append((done - placed["t"]) * 1000.0)
        finally:
            reader.close()
    overheads = [m - wire_ms for m in measured]
    p50 = percentile(overheads, 50)
    p95 = percentile(overheads, 95)
    print(
        f"baud {args.baud}, poll every {args.poll_interval * 1000:.0f} ms: wire {wire_ms:.1f} ms "
        f"({wire_bytes} bytes), placed->parsed p50 {percentile(measured, 50):.1f} ms, "
        f"overhead p50 {p50:.1f} ms p95 {p95:.1f} ms (target < {TARGET_OVERHEAD_MS:.0f} ms)"
    )
    summary = {
        "n": args.n,
        "reads": len(measured),
        "baudrate": args.baud,
        "poll_interval_ms": round(args.poll_interval * 1000.0, 1),
        "wire_bytes": wire_bytes,
        "wire_ms": round(wire_ms, 2),
        "measured_ms_p50": round(percentile(measured, 50), 2),
        "measured_ms_p95": round(percentile(measured, 95), 2),
        "measured_ms_min": round(min(measured), 2) if measured else None,
        "overhead_ms_p50": round(p50, 2),
        "overhead_ms_p95": round(p95, 2),
        "target_overhead_ms": TARGET_OVERHEAD_MS,
        "ok": bool(measured) and p95 < TARGET_OVERHEAD_MS and len(measured) == args.n,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
