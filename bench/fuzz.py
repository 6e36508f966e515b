"""Fuzz every parser that reads outside bytes, with many more examples than CI (issue 17).

The targets are those of tests/fuzz/targets.py (GA/T 467 frames and payloads, ESC/POS status
replies, QR payloads from the scanner and the platform's verification answers, rule packages,
warning lists, the config file, images through the bounded decoder).  Each input that lets
anything but the parser's own typed errors escape counts as ``unhandled`` (its exception type and
place are listed under ``findings``); ``max_ms`` is the slowest single input and ``rss_mb`` the
peak resident size after the target (a decompression bomb would show here).

Run: ``.venv/bin/python -m bench.fuzz [--examples 1500] [--target NAME ...]``.  The last stdout
line is one JSON object with ``inputs`` (target >= 10,000), ``unhandled`` (target 0) and the
figures per target.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import time
import traceback
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings

from tests.fuzz.targets import Target, targets

DEFAULT_EXAMPLES = 1500


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@contextmanager
def _quiet_stderr() -> Any:
    """libjpeg/libpng print a line for each corrupt image on fd 2: keep the output readable."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def fuzz(target: Target, examples: int) -> dict[str, Any]:
    inputs = unhandled = 0
    slowest = 0.0
    findings: dict[str, int] = {}

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(target.strategy)
    def run(value: Any) -> None:
        nonlocal inputs, unhandled, slowest
        inputs += 1
        t0 = time.perf_counter()
        try:
            target.run(value)
        except target.allowed:
            pass
        except Exception as err:  # a finding: counted, not raised (hypothesis would stop here)
            unhandled += 1
            where = traceback.extract_tb(err.__traceback__)[-1]
            key = f"{type(err).__name__} at {os.path.relpath(where.filename)}:{where.lineno}"
            findings[key] = findings.get(key, 0) + 1
        slowest = max(slowest, (time.perf_counter() - t0) * 1000)

    started = time.perf_counter()
    with _quiet_stderr():
        run()
    return {
        "inputs": inputs,
        "unhandled": unhandled,
        "max_ms": round(slowest, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "rss_mb": _rss_mb(),
        "findings": findings,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES, help="inputs per target")
    parser.add_argument("--target", action="append", help="only this target (repeatable)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger().setLevel(logging.CRITICAL)  # the parsers log every refusal
    chosen = [t for t in targets() if not args.target or t.name in args.target]
    per_target: dict[str, Any] = {}
    started = time.perf_counter()
    for target in chosen:
        per_target[target.name] = result = fuzz(target, args.examples)
        print(f"{target.name}: {json.dumps(result)}", file=sys.stderr)
    summary = {
        "inputs": sum(r["inputs"] for r in per_target.values()),
        "unhandled": sum(r["unhandled"] for r in per_target.values()),
        "targets": per_target,
        "seconds": round(time.perf_counter() - started, 1),
        "rss_mb": _rss_mb(),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
