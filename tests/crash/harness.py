"""Crash harness: kill a terminal process with SIGKILL mid submit-and-upload, restart, check exactly-once.

Each run starts a child process (``multiprocessing`` *forkserver* with only the
submit/upload modules preloaded, so a child is up in milliseconds) that opens the
encrypted store, then loops: ``add_case`` with a page-image attachment (one
transaction: case + attachment + outbox entry + audit), append the case id to
the acknowledgement file (``os.write`` after the commit returned: an id there is
a submission the citizen was told about), drain the outbox to the sandbox
platform: the attachment in resumable 16 KiB chunks first, then the case body,
both sealed with the field key agreed with the platform.  The child tells the
parent when its store is open; the parent SIGKILLs it after a random delay from
then (one run in ten right away, to hit start-up too), under a fault mode chosen
per run (injected 5xx with and without Retry-After, latency, responses dropped
after processing).  At the end the parent turns the faults off, drains what is
left and compares:

* ``lost``: acknowledged ids the platform does not have;
* ``duplicated``: ids the platform holds more than once, plus cases the platform
  has that the terminal's store does not (phantoms);
* every local case ``sent``; ``PRAGMA integrity_check`` = ok; audit chain intact;
* publicity jobs (one per case, queued after it with their own key) count in
  ``lost``/``duplicated`` the same way;
* ``attachments_bad``: platform cases whose attachment reference is not the page
  the terminal stored, or whose opened body is not the one it sealed.
"""

from __future__ import annotations

import collections
import concurrent.futures
import hashlib
import json
import multiprocessing
import os
import random
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.cases.outbox import JOB_PUBLICITY, Backoff, OutboxDrainer
from kiosk.cases.platform_client import PlatformClient
from kiosk.cases.uploads import AttachmentUploader, FieldKeyring
from offline_cache.store import NewAttachment, OutboxState, Store

ITEM_ID = "crash-item"
#: What the forkserver imports once: the submit/upload path (the children never start a sandbox).
PRELOAD = [
    "__main__",  # else every child re-imports the main module (bench.outbox pulls in the sandbox)
    "kiosk.cases.outbox",
    "kiosk.cases.platform_client",
    "kiosk.cases.uploads",
    "offline_cache.store",
    "tests.crash.harness",
    "tests.crash.warm",  # first-use costs paid once in the server, not in every child
]
PAYLOAD = '{"id_number":"371402195203140022","name":"张桂兰","form":{"x":1}}'.encode()
PAGE_BYTES = 40_000
MAX_BACKLOG = 3
CHUNK_BYTES = 16 * 1024


PUBLICITY_MARK = "P"  # acknowledgement lines of publicity jobs (case ids are hex UUIDs)


def publicity_for(publicity_id: str, case_id: str) -> bytes:
    record = {
        "party_name": "张桂兰",
        "party_type": "natural_person",
        "id_type": "resident_id",
        "id_number": "3714**********0022",
        "upload_time": "2026-11-23T10:00:00+08:00",
        "decision_document_name": "老年人优待证",
        "decision_document_number": f"YDZ-{case_id[:8]}",
        "authority": "德州市德城区民政局",
        "permit_category": "other",
        "content": "老年人优待证申领：准予办理",
        "decision_date": "2026-11-23",
        "case_id": case_id,
    }
    return json.dumps({"publicity_id": publicity_id, "record": record}, ensure_ascii=False).encode("utf-8")


def page_for(case_id: str) -> bytes:
    """The page image stored with a case (reproducible from its id, so the check can recompute it)."""
    return random.Random(case_id).randbytes(PAGE_BYTES)


RUNS_PER_FAULT_MODE = 3
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
    attachments_bad: int = 0


def child_main(
    db_path: str,
    url: str,
    terminal_id: str,
    token: str,
    key_hex: str,
    ack_path: str,
    secret_hex: str,
    ready: Any,
) -> None:
    """The terminal under test (runs in the killed process)."""
    store = Store(db_path, key=bytes.fromhex(key_hex))
    client = PlatformClient(url, terminal_id, timeout=1.0, token=token)
    keyring = FieldKeyring(store, client, bytes.fromhex(secret_hex), terminal_id=terminal_id)
    drainer = OutboxDrainer(
        store,
        client,
        backoff=Backoff(base_s=0.001, max_s=0.005, jitter=0.0),
        batch_size=5,
        cipher=keyring.cipher,
        uploader=AttachmentUploader(store, client, keyring.cipher, chunk_bytes=CHUNK_BYTES),
    )
    fd = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    ready.send_bytes(b"r")
    for _ in range(500):
        # Like a terminal between citizens, it catches up before taking more: the queue left by the
        # previous (killed) runs stays short, so kills land in uploads as often as in submissions
        # and the final check does not have to drain a backlog of hundreds.
        if store.outbox_counts()[OutboxState.PENDING] >= MAX_BACKLOG:
            drainer.drain_once()
            continue
        case_id = str(uuid.uuid4())
        page = NewAttachment(str(uuid.uuid4()), "material:page:0", "image/jpeg", page_for(case_id))
        store.add_case(case_id, ITEM_ID, PAYLOAD, time.time(), attachments=[page])
        os.write(fd, (case_id + "\n").encode("ascii"))
        publicity_id = str(uuid.uuid4())  # its own job, its own key (as an approval queues it)
        store.add_job(
            publicity_id, JOB_PUBLICITY, publicity_for(publicity_id, case_id), time.time(), case_id=case_id
        )
        os.write(fd, (PUBLICITY_MARK + publicity_id + "\n").encode("ascii"))
        drainer.drain_once()
    drainer.drain_once(1000)


def _preload() -> list[str]:
    """PRELOAD plus the main module when it runs as ``python -m name``: every forkserver child
    re-runs that module (multiprocessing's main fix-up), and bench.outbox imports the sandbox
    (uvicorn, FastAPI: ~0.3 s a child) unless the server imported it once."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = getattr(spec, "name", None)
    return PRELOAD + ([name] if isinstance(name, str) and not name.endswith("__main__") else [])


def run_crashes(
    workdir: Path,
    url: str,
    runs: int,
    *,
    seed: int = 0,
    max_delay_s: float = 0.2,
    terminal_id: str = "CRASH1",
    time_budget_s: float | None = None,
    lanes: int = 1,
) -> CrashResult:
    """Run ``runs`` killed children against the sandbox at ``url`` (fewer if ``time_budget_s``
    runs out first), then drain and check.

    ``lanes`` > 1 runs that many independent terminals side by side (own store, own terminal id,
    own kill schedule; one child each at a time), so the waits of one overlap the work of another;
    the results are summed."""
    workdir.mkdir(parents=True, exist_ok=True)
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_preload())
    deadline = None if time_budget_s is None else time.monotonic() + time_budget_s
    ctl = PlatformClient(url, terminal_id, timeout=5.0)
    try:
        if lanes == 1:
            lane = _lane(ctx, workdir, url, runs, seed, max_delay_s, terminal_id, deadline, ctl)
            ctl.sandbox.set_faults()
            return _check(url, *lane)
        shares = [runs // lanes + (1 if k < runs % lanes else 0) for k in range(lanes)]
        with concurrent.futures.ThreadPoolExecutor(lanes) as pool:
            done = list(
                pool.map(
                    lambda k: _lane(
                        ctx,
                        workdir / f"lane{k}",
                        url,
                        shares[k],
                        seed * 1000 + k,
                        max_delay_s,
                        f"{terminal_id}-{k}",
                        deadline,
                        ctl if k == 0 else None,
                    ),
                    range(lanes),
                )
            )
        ctl.sandbox.set_faults()  # every lane stopped: the checks drain without faults
        results = [_check(url, *lane) for lane in done]
        return CrashResult(
            runs=sum(r.runs for r in results),
            acknowledged=sum(r.acknowledged for r in results),
            on_platform=sum(r.on_platform for r in results),
            lost=sum(r.lost for r in results),
            duplicated=sum(r.duplicated for r in results),
            integrity="ok"
            if all(r.integrity == "ok" for r in results)
            else "; ".join(r.integrity for r in results),
            audit_ok=all(r.audit_ok for r in results),
            all_sent=all(r.all_sent for r in results),
            attachments_bad=sum(r.attachments_bad for r in results),
        )
    finally:
        ctl.sandbox.set_faults()
        ctl.close()


def _lane(
    ctx: Any,
    workdir: Path,
    url: str,
    runs: int,
    seed: int,
    max_delay_s: float,
    terminal_id: str,
    deadline: float | None,
    faults: PlatformClient | None,
) -> tuple[Path, bytes, Path, str, str, int, bytes]:
    """One terminal killed ``runs`` times; ``faults``: the client that switches the fault mode.
    Returns what :func:`_check` needs."""
    rng = random.Random(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = workdir / "terminal.db"
    ack_path = workdir / "acknowledged.txt"
    key = rng.randbytes(32)
    secret = rng.randbytes(32)
    with PlatformClient(url, terminal_id, timeout=5.0) as ctl:
        token = ctl.enrol(code=ctl.sandbox.issue_enrolment_code(ctl.terminal_id))
        done = 0
        for i in range(runs):
            if deadline is not None and time.monotonic() > deadline:
                break
            done += 1
            if faults is not None and i % RUNS_PER_FAULT_MODE == 0:
                faults.sandbox.set_faults(**FAULT_MODES[(i // RUNS_PER_FAULT_MODE) % len(FAULT_MODES)])
            theirs, ours = ctx.Pipe(duplex=False)
            proc = ctx.Process(
                target=child_main,
                args=(str(db_path), url, terminal_id, token, key.hex(), str(ack_path), secret.hex(), ours),
                daemon=True,
            )
            proc.start()
            ours.close()
            if rng.random() >= 0.1:  # else: killed at once, during start-up
                theirs.poll(10)  # the store is open: the submit/upload path starts now
                time.sleep(rng.uniform(0.0, max_delay_s))
            if proc.pid is not None and proc.is_alive():
                os.kill(proc.pid, signal.SIGKILL)
            proc.join(10)
            proc.close()
            theirs.close()
    return db_path, key, ack_path, terminal_id, token, done, secret


def _check(
    url: str,
    db_path: Path,
    key: bytes,
    ack_path: Path,
    terminal_id: str,
    token: str,
    runs: int,
    secret: bytes,
) -> CrashResult:
    with PlatformClient(url, terminal_id, timeout=5.0, token=token) as ctl:
        return _check_with(ctl, db_path, key, ack_path, terminal_id, runs, secret)


def _check_with(
    ctl: PlatformClient, db_path: Path, key: bytes, ack_path: Path, terminal_id: str, runs: int, secret: bytes
) -> CrashResult:
    lines = ack_path.read_text("ascii").split() if ack_path.exists() else []
    acknowledged = [x for x in lines if not x.startswith(PUBLICITY_MARK)]
    acknowledged_publicity = {x[len(PUBLICITY_MARK) :] for x in lines if x.startswith(PUBLICITY_MARK)}
    with Store(db_path, key=key) as store:
        integrity = str(store.pragma("integrity_check"))
        # Restart: a fresh drainer with a clock past every backoff drains what is left.
        keyring = FieldKeyring(store, ctl, secret, terminal_id=terminal_id)
        drainer = OutboxDrainer(
            store,
            ctl,
            clock=lambda: time.time() + 1e6,
            batch_size=500,
            cipher=keyring.cipher,
            uploader=AttachmentUploader(store, ctl, keyring.cipher, chunk_bytes=CHUNK_BYTES),
        )
        for _ in range(100):
            if (
                store.outbox_counts()[OutboxState.PENDING] == 0
                and store.job_counts()[OutboxState.PENDING] == 0
            ):
                break
            drainer.drain_once()
        counts, job_counts = store.outbox_counts(), store.job_counts()
        all_sent = all(c[OutboxState.PENDING] == 0 and c[OutboxState.DEAD] == 0 for c in (counts, job_counts))
        local = {r[0] for r in store.db.execute("SELECT case_id FROM cases").fetchall()}
        local_jobs = {j.job_id for j in store.jobs(kind=JOB_PUBLICITY)}
        audit_ok = store.verify_audit()
    cases = [c for c in ctl.sandbox.received_cases() if c.get("terminal_id") == terminal_id]
    received = [c["case_id"] for c in cases]
    seen = collections.Counter(received)
    attachments_bad = 0
    for c in cases:
        refs = c.get("attachments") or []
        expected = hashlib.sha256(page_for(c["case_id"])).hexdigest()
        if [r.get("sha256") for r in refs] != [expected] or ctl.sandbox.opened_case(c["case_id"]) != PAYLOAD:
            attachments_bad += 1
    published = collections.Counter(
        p["publicity_id"] for p in ctl.sandbox.publicity() if p["terminal_id"] == terminal_id
    )
    lost = sum(1 for case_id in set(acknowledged) if seen[case_id] == 0)
    lost += sum(1 for pid in acknowledged_publicity if published[pid] == 0)
    duplicated = sum(n - 1 for n in seen.values() if n > 1) + len(set(seen) - local)
    duplicated += sum(n - 1 for n in published.values() if n > 1) + len(set(published) - local_jobs)
    return CrashResult(
        runs=runs,
        acknowledged=len(acknowledged),
        on_platform=len(seen),
        lost=lost,
        duplicated=duplicated,
        integrity=integrity,
        audit_ok=audit_ok,
        all_sent=all_sent and set(acknowledged) <= local and acknowledged_publicity <= local_jobs,
        attachments_bad=attachments_bad,
    )
