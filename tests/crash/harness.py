"""Crash harness: kill a terminal process mid submit-and-upload, cut its power, restart, check
exactly-once.

Each run starts a child process (``multiprocessing`` *forkserver* with only the
submit/upload modules preloaded, so a child is up in milliseconds) that opens the
encrypted store and runs the outbox drainer's thread as the terminal does, then
loops through the submit path: ``store.cases.add`` with a page image and a signature
(one transaction: case + attachments + outbox entry + audit), append the case id
to the acknowledgement file (``os.write`` after the commit returned: an id there
is a submission the citizen was told about), the approval's publicity record
through ``kiosk.outputs.publicity.queue_publicity`` (its own key, its id appended
too), a kick to the drainer and ``wait_acknowledged``; the drainer sends the
page in resumable 16 KiB chunks and the signature inline (one request) first,
then the case body, all sealed with the field key agreed with the platform, then
the publicity record.  The
child tells the parent when its store is open; the parent SIGKILLs it after a
random delay from then (one run in ten right away, to hit start-up too), under a
fault mode chosen per run (injected 5xx with and without Retry-After, latency,
responses dropped after processing).  With ``power_cut`` (the default) the child
runs with the shim of tests/crash/powercut.py and, once it is dead, the store and
its WAL lose every write not yet synced, as after a power cut.  At the end the
parent turns the faults off, drains what is left and compares:

* ``lost``: acknowledged ids the platform does not have;
* ``duplicated``: ids the platform holds more than once, plus cases the platform
  has that the terminal's store does not (phantoms);
* every local outbox entry (cases and publicity jobs) ``acknowledged``;
  ``PRAGMA integrity_check`` = ok; audit chain intact;
* publicity jobs count in ``lost``/``duplicated`` the same way;
* ``attachments_bad``: platform cases whose attachment reference is not the page
  the terminal stored, or whose opened body is not the one it sealed.

What the platform *received* is counted too (tests/crash/counting_proxy.py sits
between the terminals and the sandbox, which keeps only what it accepted): a second
copy under one key with another body, or a copy sent after the terminal had
recorded its acknowledgement, counts in ``duplicated``; ``received`` and
``resent`` (copies after a lost answer) are reported.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import datetime as dt
import hashlib
import multiprocessing
import os
import random
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from multiprocessing import forkserver
from pathlib import Path
from typing import Any

from kiosk.cases.outbox import JOB_PUBLICITY, Backoff, OutboxDrainer
from kiosk.cases.platform_client import PlatformClient
from kiosk.cases.uploads import AttachmentUploader, FieldKeyring
from kiosk.outputs import publicity, records
from offline_cache.store import NewAttachment, OutboxState, Store
from tests.crash import powercut
from tests.crash.counting_proxy import CountingProxy

ITEM_ID = "crash-item"
#: What the forkserver imports once: the submit/upload path (the children never start a sandbox).
PRELOAD = [
    "__main__",  # else every child re-imports the main module (bench.outbox pulls in the sandbox)
    "kiosk.cases.outbox",
    "kiosk.cases.platform_client",
    "kiosk.cases.uploads",
    "kiosk.outputs.publicity",
    "offline_cache.store",
    "tests.crash.harness",
    "tests.crash.warm",  # first-use costs paid once in the server, not in every child
]
PAYLOAD = '{"id_number":"371402195203140022","name":"张桂兰","form":{"x":1}}'.encode()
PAGE_BYTES = 40_000
SIGNATURE_BYTES = 3_000
MAX_BACKLOG = 3
CHUNK_BYTES = 16 * 1024


PUBLICITY_MARK = "P"  # acknowledgement lines of publicity jobs (case ids are hex UUIDs)


def publicity_record(case_id: str) -> records.PublicityRecord:
    """The double-publicity record an approval of the case produces (queued by the real
    :func:`kiosk.outputs.publicity.queue_publicity`, which masks the ID number)."""
    return records.PublicityRecord(
        party_name="张桂兰",
        party_type=records.PartyType.NATURAL_PERSON,
        id_type=records.IdType.RESIDENT_ID,
        id_number="371402195203140022",
        upload_time=dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        decision_document_name="老年人优待证",
        decision_document_number=f"YDZ-{case_id[:8]}",
        authority="德州市德城区民政局",
        permit_category=records.PermitCategory.OTHER,
        content="老年人优待证申领：准予办理",
        decision_date=dt.date(2026, 11, 23),
        case_id=case_id,
    )


def page_for(case_id: str) -> bytes:
    """The page image stored with a case (reproducible from its id, so the check can recompute it)."""
    return random.Random(case_id).randbytes(PAGE_BYTES)


def signature_for(case_id: str) -> bytes:
    """The signature stored with a case: small enough to go inline in the upload's create request
    (one request), where the page goes in chunks (create, PUTs, complete)."""
    return random.Random("signature:" + case_id).randbytes(SIGNATURE_BYTES)


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
    power_cuts: int = 0  # kills followed by the loss of every unsynced write
    power_cut_bytes: int = 0  # bytes those cuts put back as they were at the last sync
    received: int = 0  # upload requests (cases, publicity) the platform received, copies included
    resent: int = 0  # of which copies of an entry it had received before (lost answers)
    duplicates: tuple[str, ...] = ()  # what the received copies show, when they show a duplicate


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
    ready.send_bytes(b"p" if powercut.loaded() else b"r")
    # As the terminal runs it: the drainer's own thread, woken by a kick after each submission,
    # and the submitter told of the acknowledgement (or not, within its wait).
    drainer.start(interval_s=30.0)
    for _ in range(500):
        # Like a terminal between citizens, it catches up before taking more: the queue left by the
        # previous (killed) runs stays short, so kills land in uploads as often as in submissions
        # and the final check does not have to drain a backlog of hundreds.
        counts = store.outbox.counts(cases=True)
        if counts[OutboxState.PENDING] + counts[OutboxState.IN_FLIGHT] >= MAX_BACKLOG:
            drainer.drain_once()
            continue
        # The submit path: the case with its attachment and outbox entry in one transaction (the
        # citizen is told once it returns), the audit row, then the approval's publicity record
        # through kiosk.outputs.publicity (its own key), then wait for the acknowledgement.
        case_id = str(uuid.uuid4())
        page = NewAttachment(str(uuid.uuid4()), "material:page:0", "image/jpeg", page_for(case_id))
        signature = NewAttachment(str(uuid.uuid4()), "signature", "image/png", signature_for(case_id))
        store.cases.add(case_id, ITEM_ID, PAYLOAD, time.time(), attachments=[page, signature])
        os.write(fd, (case_id + "\n").encode("ascii"))
        store.audit_trail.append("case_submitted", {"case": case_id})
        publicity_id = publicity.queue_publicity(store, publicity_record(case_id), dt.datetime.now(dt.UTC))
        os.write(fd, (PUBLICITY_MARK + publicity_id + "\n").encode("ascii"))
        drainer.kick()
        drainer.wait_acknowledged(case_id, timeout_s=3.0)
    drainer.stop()
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
    power_cut: bool = True,
    min_submitted: int = 0,
    max_runs: int | None = None,
) -> CrashResult:
    """Run ``runs`` killed children against the sandbox at ``url`` (fewer if ``time_budget_s``
    runs out first), then drain and check.

    ``min_submitted``: go on past ``runs`` (up to ``max_runs``) until the children have submitted
    that many cases.  How far a child gets before its kill depends on the machine's load (the kill
    comes a random wall-clock delay after its store is open), so a fixed number of runs submits
    fewer cases on a loaded machine; with this the test exercises as many submissions either way.

    ``lanes`` > 1 runs that many independent terminals side by side (own store, own terminal id,
    own kill schedule; one child each at a time), so the waits of one overlap the work of another;
    the results are summed.

    ``power_cut``: each killed child runs with the power-cut shim (tests/crash/powercut.py) and,
    once it is dead, its store and WAL lose every write not yet synced, as a power cut would."""
    workdir.mkdir(parents=True, exist_ok=True)
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_preload())
    if power_cut:
        _start_forkserver_with(powercut.environment())
    deadline = None if time_budget_s is None else time.monotonic() + time_budget_s
    ctl = PlatformClient(url, terminal_id, timeout=5.0)
    proxy = CountingProxy(url)  # the terminals talk to the platform through it
    try:
        if lanes == 1:
            lane = _lane(
                ctx,
                workdir,
                proxy.url,
                _Runs(runs, max_runs or runs, min_submitted),
                seed,
                max_delay_s,
                terminal_id,
                deadline,
                ctl,
                power_cut,
            )
            ctl.sandbox.set_faults()
            return _check(proxy, *lane)
        shares = [
            _Runs(
                runs // lanes + (1 if k < runs % lanes else 0),
                (max_runs or runs) // lanes,
                -(-min_submitted // lanes),  # each lane its share, rounded up
            )
            for k in range(lanes)
        ]
        with concurrent.futures.ThreadPoolExecutor(lanes) as pool:
            done = list(
                pool.map(
                    lambda k: _lane(
                        ctx,
                        workdir / f"lane{k}",
                        proxy.url,
                        shares[k],
                        seed * 1000 + k,
                        max_delay_s,
                        f"{terminal_id}-{k}",
                        deadline,
                        ctl if k == 0 else None,
                        power_cut,
                    ),
                    range(lanes),
                )
            )
        ctl.sandbox.set_faults()  # every lane stopped: the checks drain without faults
        results = [_check(proxy, *lane) for lane in done]
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
            power_cuts=sum(r.power_cuts for r in results),
            power_cut_bytes=sum(r.power_cut_bytes for r in results),
            received=sum(r.received for r in results),
            resent=sum(r.resent for r in results),
            duplicates=tuple(d for r in results for d in r.duplicates),
        )
    finally:
        ctl.sandbox.set_faults()
        ctl.close()
        proxy.close()


@dataclass(frozen=True)
class _Runs:
    """How many children one lane kills: ``at_least``, then more (up to ``at_most``) while fewer
    than ``submitted`` cases were submitted."""

    at_least: int
    at_most: int
    submitted: int

    def another(self, done: int, ack_path: Path) -> bool:
        if done < self.at_least:
            return True
        return done < self.at_most and submitted(ack_path) < self.submitted


def submitted(ack_path: Path) -> int:
    """Cases the children submitted (the citizen was told): the case ids in the acknowledgement file."""
    if not ack_path.exists():
        return 0
    return sum(1 for x in ack_path.read_text("ascii").split() if not x.startswith(PUBLICITY_MARK))


def _lane(
    ctx: Any,
    workdir: Path,
    url: str,
    runs: _Runs,
    seed: int,
    max_delay_s: float,
    terminal_id: str,
    deadline: float | None,
    faults: PlatformClient | None,
    power_cut: bool,
) -> tuple[Path, bytes, Path, str, str, int, bytes, tuple[int, int]]:
    """One terminal killed as often as ``runs`` says; ``faults``: the client that switches the fault
    mode.  Returns what :func:`_check` needs."""
    cuts = reverted = 0
    rng = random.Random(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = workdir / "terminal.db"
    ack_path = workdir / "acknowledged.txt"
    key = rng.randbytes(32)
    secret = rng.randbytes(32)
    with PlatformClient(url, terminal_id, timeout=5.0) as ctl:
        token = ctl.enrol(code=ctl.sandbox.issue_enrolment_code(ctl.terminal_id))
        done = 0
        while runs.another(done, ack_path):
            if deadline is not None and time.monotonic() > deadline:
                break
            i = done
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
                if theirs.poll(10) and theirs.recv_bytes() != b"p" and power_cut:
                    raise RuntimeError("the terminal under test runs without the power-cut shim")
                time.sleep(rng.uniform(0.0, max_delay_s))
            if proc.pid is not None and proc.is_alive():
                os.kill(proc.pid, signal.SIGKILL)
            proc.join(10)
            proc.close()
            theirs.close()
            if power_cut:
                cuts += 1
                reverted += powercut.cut(db_path)
    return db_path, key, ack_path, terminal_id, token, done, secret, (cuts, reverted)


def _start_forkserver_with(env: dict[str, str]) -> None:
    """Start the forkserver (and so every child it forks) with ``env`` added, e.g. ``LD_PRELOAD``;
    this process keeps its own environment.  A forkserver already running keeps the one it had:
    the children say whether the shim is loaded and the lane checks it."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        forkserver.ensure_running()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _check(
    proxy: CountingProxy,
    db_path: Path,
    key: bytes,
    ack_path: Path,
    terminal_id: str,
    token: str,
    runs: int,
    secret: bytes,
    power_cuts: tuple[int, int] = (0, 0),
) -> CrashResult:
    with PlatformClient(proxy.url, terminal_id, timeout=5.0, token=token) as ctl:
        result = _check_with(ctl, proxy, db_path, key, ack_path, terminal_id, runs, secret)
    return dataclasses.replace(result, power_cuts=power_cuts[0], power_cut_bytes=power_cuts[1])


def _check_with(
    ctl: PlatformClient,
    proxy: CountingProxy,
    db_path: Path,
    key: bytes,
    ack_path: Path,
    terminal_id: str,
    runs: int,
    secret: bytes,
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
            # Entries a killed child left in flight count as unsent: the drainer puts them back first.
            counts = store.outbox.counts()
            if counts[OutboxState.PENDING] == 0 and counts[OutboxState.IN_FLIGHT] == 0:
                break
            drainer.drain_once()
        counts = store.outbox.counts()
        all_sent = counts[OutboxState.ACKNOWLEDGED] == sum(counts.values())
        local = {r[0] for r in store.db.execute("SELECT case_id FROM cases").fetchall()}
        local_jobs = {j.job_id for j in store.outbox.entries(kind=JOB_PUBLICITY)}
        acked_at = dict(store.db.execute("SELECT entry_id, sent_at FROM outbox_entries").fetchall())
        audit_ok = store.audit_trail.verify()
    cases = [c for c in ctl.sandbox.received_cases() if c.get("terminal_id") == terminal_id]
    received = [c["case_id"] for c in cases]
    seen = collections.Counter(received)
    attachments_bad = 0
    for c in cases:
        refs = c.get("attachments") or []
        expected = [hashlib.sha256(f(c["case_id"])).hexdigest() for f in (page_for, signature_for)]
        if [r.get("sha256") for r in refs] != expected or ctl.sandbox.opened_case(c["case_id"]) != PAYLOAD:
            attachments_bad += 1
    published = collections.Counter(
        p["publicity_id"] for p in ctl.sandbox.publicity() if p["terminal_id"] == terminal_id
    )
    lost = sum(1 for case_id in set(acknowledged) if seen[case_id] == 0)
    lost += sum(1 for pid in acknowledged_publicity if published[pid] == 0)
    duplicated = sum(n - 1 for n in seen.values() if n > 1) + len(set(seen) - local)
    duplicated += sum(n - 1 for n in published.values() if n > 1) + len(set(published) - local_jobs)
    # What the platform received, refused and replayed copies included: a second copy under one key
    # with another body, or any copy sent after the terminal had recorded the acknowledgement, is a
    # duplicate the platform's own records cannot show.  Copies re-sent before (the answer was lost,
    # or the power cut took the record of it) are the protocol working: ``resent``.
    received_n = resent = 0
    duplicates: list[str] = []
    for path, ours in (("/api/v1/cases", local), ("/api/v1/publicity", local_jobs)):
        for entry_id, copies in proxy.received(path).items():
            if entry_id not in ours:
                continue
            received_n += len(copies)
            resent += len(copies) - 1
            if len({c.body_sha256 for c in copies}) > 1:
                duplicated += 1
                duplicates.append(f"{path} {entry_id}: copies with different bodies")
            acked = acked_at.get(entry_id)
            late = 0 if acked is None else sum(1 for c in copies if c.at > acked)
            if late:
                duplicated += late
                duplicates.append(f"{path} {entry_id}: {late} sent after the acknowledgement was recorded")
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
        received=received_n,
        resent=resent,
        duplicates=tuple(duplicates),
    )
