"""Start-up cost of the text catalogues: a fresh interpreter imports kiosk.i18n (Babel included),
reads the default catalogue on the first tr(), then the second language on switching; and the
cost of one tr() once loaded.  Wall times (p50) and the CPU time of import + default catalogue,
which a loaded machine inflates less.

    .venv/bin/python -m bench.i18n [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from bench._stats import percentile

_CHILD = """
import json, time
c0, t0 = time.process_time(), time.perf_counter()
import kiosk.i18n as i18n
t1 = time.perf_counter()
i18n.tr("card.title")
c2, t2 = time.process_time(), time.perf_counter()
i18n.set_language("en")
i18n.tr("card.title")
t3 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "default_ms": (t2 - t1) * 1e3, "second_ms": (t3 - t2) * 1e3,
                  "startup_cpu_ms": (c2 - c0) * 1e3}))
"""


def _cold_runs(runs: int) -> list[dict[str, float]]:
    out = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True)
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def _tr_us(calls: int) -> float:
    from kiosk.i18n import tr

    tr("receipt.item", "zh", v="x")
    t0 = time.perf_counter()
    for k in range(calls):
        tr("receipt.item", "en" if k % 2 else "zh", v="x")
    return (time.perf_counter() - t0) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    runs = _cold_runs(args.runs)
    result: dict[str, object] = {"bench": "i18n", "runs": args.runs}
    for name in ("import_ms", "default_ms", "second_ms"):
        result[f"{name}_p50"] = round(percentile([r[name] for r in runs], 50), 1)
    result["startup_cpu_ms_p50"] = round(percentile([r["startup_cpu_ms"] for r in runs], 50), 1)
    result["startup_ms_p50"] = round(percentile([r["import_ms"] + r["default_ms"] for r in runs], 50), 1)
    result["tr_call_us"] = round(_tr_us(20000), 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
