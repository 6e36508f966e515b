"""Crash harness: kill a terminal process with SIGKILL mid submit-and-upload, restart, check exactly-once.

Each run starts a child process (``multiprocessing`` *forkserver* with the kiosk
modules preloaded, so a child is up in milliseconds) that opens the encrypted
store, then loops: ``add_case`` (one transaction: case + outbox entry + audit),
append the case id to the acknowledgement file (``os.write`` after the commit
returned: an id there is a submission the citizen was told about), drain the
outbox to the sandbox platform.  The parent SIGKILLs it after a random delay,
under a fault mode chosen per run (injected 5xx with and without Retry-After,
latency, responses dropped after processing).  At the end the parent turns the
faults off, drains what is left and compares:

* ``lost``: acknowledged ids the platform does not have;
* ``duplicated``: ids the platform holds more than once, plus cases the platform
  has that the terminal's store does not (phantoms);
* every local case ``sent``; ``PRAGMA integrity_check`` = ok; audit chain intact.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import random
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.outbox import Backoff, OutboxDrainer
from kiosk.platform_client import PlatformClient
from offline_cache.store import OutboxState, Store

ITEM_ID = "crash-item"
PRELOAD = [
    "__main__",
    "sandbox_platform.server",
    "kiosk.outbox",
    "kiosk.platform_client",
    "offline_cache.store",
    "tests.crash.harness",
]

FAULT_MODES: tuple[dict[str, Any], ...] = (
    {},
    {"error_rate": 0.3, "error_status": 503},
    {"error_rate": 0.2, "error_status": 429, "retry_after_s": 0},
    {"drop_after_processing": True},
    {"latency_ms": 15},
)


@dataclass(frozen=True)
class CrashResult:
    runs: int
    acknowledged: int
    on_platform: int
    lost: int
    duplicated: int
    integrity: str
    audit_ok: bool
    all_sent: bool


def child_main(db_path: str, url: str, terminal_id: str, token: str, key_hex: str, ack_path: str) -> None:
    """The terminal under test (runs in the killed process)."""
    store = Store(db_path, key=bytes.fromhex(key_hex))
    client = PlatformClient(url, terminal_id, timeout=1.0, token=token)
    drainer = OutboxDrainer(
        store, client, backoff=Backoff(base_s=0.001, max_s=0.005, jitter=0.0), batch_size=5
    )
    fd = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    payload = '{"id_number":"371402195203140022","name":"张桂兰","form":{"x":1}}'.encode()
    for _ in range(500):
        case_id = str(uuid.uuid4())
        store.add_case(case_id, ITEM_ID, payload, time.time())
        os.write(fd, (case_id + "\n").encode("ascii"))
        drainer.drain_once()
    drainer.drain_once(1000)


def run_crashes(
    workdir: Path,
    url: str,
    runs: int,
    *,
    seed: int = 0,
    max_delay_s: float = 0.3,
    terminal_id: str = "CRASH1",
    time_budget_s: float | None = None,
) -> CrashResult:
    """Run ``runs`` killed children against the sandbox at ``url`` (fewer if ``time_budget_s``
    runs out first), then drain and check."""
    rng = random.Random(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = workdir / "terminal.db"
    ack_path = workdir / "acknowledged.txt"
    key = rng.randbytes(32)
    ctl = PlatformClient(url, terminal_id, timeout=5.0)
    token = ctl.enrol()
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    deadline = None if time_budget_s is None else time.monotonic() + time_budget_s
    done = 0
    try:
        for i in range(runs):
            if deadline is not None and time.monotonic() > deadline:
                break
            done += 1
            ctl.set_sandbox_faults(**FAULT_MODES[i % len(FAULT_MODES)])
            proc = ctx.Process(
                target=child_main,
                args=(str(db_path), url, terminal_id, token, key.hex(), str(ack_path)),
                daemon=True,
            )
            proc.start()
            time.sleep(rng.uniform(0.0, max_delay_s))
            if proc.pid is not None and proc.is_alive():
                os.kill(proc.pid, signal.SIGKILL)
            proc.join(10)
            proc.close()
        ctl.set_sandbox_faults()
        return _check(db_path, key, ack_path, ctl, terminal_id, done)
    finally:
        ctl.set_sandbox_faults()
        ctl.close()


def _check(
    db_path: Path, key: bytes, ack_path: Path, ctl: PlatformClient, terminal_id: str, runs: int
) -> CrashResult:
    acknowledged = ack_path.read_text("ascii").split() if ack_path.exists() else []
    with Store(db_path, key=key) as store:
        integrity = str(store.pragma("integrity_check"))
        # Restart: a fresh drainer with a clock past every backoff drains what is left.
        drainer = OutboxDrainer(store, ctl, clock=lambda: time.time() + 1e6, batch_size=500)
        for _ in range(100):
            if store.outbox_counts()[OutboxState.PENDING] == 0:
                break
            drainer.drain_once()
        counts = store.outbox_counts()
        all_sent = counts[OutboxState.PENDING] == 0 and counts[OutboxState.DEAD] == 0
        local = {r[0] for r in store.db.execute("SELECT case_id FROM cases").fetchall()}
        audit_ok = store.verify_audit()
    received = [c["case_id"] for c in ctl.received_cases() if c.get("terminal_id") == terminal_id]
    seen = collections.Counter(received)
    lost = sum(1 for case_id in set(acknowledged) if seen[case_id] == 0)
    duplicated = sum(n - 1 for n in seen.values() if n > 1) + len(set(seen) - local)
    return CrashResult(
        runs=runs,
        acknowledged=len(acknowledged),
        on_platform=len(seen),
        lost=lost,
        duplicated=duplicated,
        integrity=integrity,
        audit_ok=audit_ok,
        all_sent=all_sent and set(acknowledged) <= local,
    )
