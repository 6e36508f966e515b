"""Whole citizen sessions through the real UI on the simulators (``python -m bench.session``).

Runs the three scripted demo sessions ``--rounds`` times (headless Qt), with the
face and OCR models loaded once, and prints per-step p50/p95 durations, the
whole-session p50, the peak RSS and the decisions by outcome.  The last line of
stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench._stats import percentile


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3, help="times the three demo sessions run")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    # Imported after QT_QPA_PLATFORM is set.
    from kiosk.documents.ocr import RapidOcrEngine
    from kiosk.identity.face import FaceVerifier
    from terminal.demo import run_demo
    from terminal.runtime import DEMO_CITIZENS

    t0 = time.perf_counter()
    face = FaceVerifier()
    face.load()
    ocr = RapidOcrEngine()
    ocr.load()
    print(f"models loaded in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    step_ms: dict[str, list[float]] = defaultdict(list)
    session_s: list[float] = []
    decisions: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="bench-session-") as tmp:
        for n in range(args.rounds):
            t_round = time.perf_counter()
            summary = run_demo(
                Path(tmp) / f"round-{n}", DEMO_CITIZENS, Path(tmp) / f"work-{n}", face=face, ocr=ocr
            )
            sessions: list[dict[str, Any]] = summary["sessions"]
            for s in sessions:
                total = 0.0
                for entry in s["steps"]:
                    step_ms[entry["step"]].append(float(entry["ms"]))
                    total += float(entry["ms"])
                session_s.append(total / 1000.0)
                decisions[s["decision"] or "none"] += 1
            print(
                f"round {n + 1}/{args.rounds}: {len(sessions)} sessions "
                f"in {time.perf_counter() - t_round:.1f} s",
                file=sys.stderr,
            )

    # the face check's worker processes' own peak, if it has any (it has none since SFace runs on a
    # thread: None); RUSAGE_CHILDREN would also count every forked helper as a copy of this process
    worker = face.worker_peak_rss_mb()
    face.close()
    parent = peak_rss_mb()
    result = {
        "rounds": args.rounds,
        "sessions": len(session_s),
        "session_s_p50": round(statistics.median(session_s), 2),
        "step_ms_p50": {k: round(percentile(v, 50), 1) for k, v in step_ms.items()},
        "step_ms_p95": {k: round(percentile(v, 95), 1) for k, v in step_ms.items()},
        "peak_rss_mb": round(parent + (worker or 0.0), 1),  # the terminal process + the face worker
        "peak_rss_parent_mb": round(parent, 1),
        "peak_rss_worker_mb": round(worker, 1) if worker is not None else None,
        "decisions": dict(sorted(decisions.items())),
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
