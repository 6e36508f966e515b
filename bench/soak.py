"""Soak: many headless citizen sessions with faults injected (``python -m bench.soak``).

The demo-profile terminal as it runs (terminal/runtime.py ``build_terminal``): the real session
coordinator and step services, the device drivers talking to the simulators over their real wire
protocols (ID card reader on a pty, ESC/POS printer over TCP, PDF spool, camera frames), the
encrypted store, the outbox drainer's thread and the sandbox platform on 127.0.0.1.  Only the face
model is replayed: the first check of each citizen runs the real verifier and records its result,
later checks read one real camera frame and return the recorded result (``ReplayFace``).  The
citizen's wait for the platform's acknowledgement on the result screen is shortened (``--ack-wait``)
so that sessions under an outage do not each sit out the 3 s the screen waits.  There is no window:
the core's idle limit (kiosk/session/idle.py) ends idle sessions, on the session machine's clock; a
citizen whose card is refused walks away, which moves that clock on by the idle limit
(``WalkAwayClock``) so the terminal's own limit ends the session at once.

Each session is one of the three demo citizens, start to finish (card, face, form, materials,
review, sign and submit, outputs, card taken, rating).  Before a session, with probability
``--fault-rate``, one fault is injected for that session: a device fault (ID card reader unplugged,
receipt printer unplugged or out of paper, camera unplugged), a network fault (platform down,
answers dropped after processing, slow answers) or platform errors (5xx with and without
Retry-After, 429).  After the session the fault is cleared and the terminal must be back on the
attract screen (out of service is allowed while the fault lasts and must clear by itself).  The next
citizen places their card once the terminal has seen the last one lifted: the card step asks the
reader every ``session.card_lift_poll_s`` for that (0.5 s on a real terminal; ``--lift-poll``, 50 ms
here, so that the next citizen does not stand idle for it).

Volume: a session is about 0.04 s of CPU on the terminal and the platform for one terminal alone,
0.05 s with six sharing two cores (all threads of the terminal process, the in-process platform's
included; printed as ``cpu_s_per_session``), plus waits (the upload's round trips and fsyncs before
the acknowledgement, the card lift); the default six terminal processes overlap those waits on 2
cores (docs/security.md "Soak" has the measured run).  The default is 10,000 sessions;
``--sessions 100000`` is the long run: each terminal keeps only sums of its RSS tenths and a
thousand samples, reads the platform's case ids without their bodies at the end, and reports its
progress on stderr every tenth of its sessions and at least once a minute.

Printed (last stdout line, JSON): ``sessions``, ``crashes`` (an exception out of a step service),
``lost`` (a case the citizen was given a number for that the platform does not have once the queue
drained), ``duplicated`` (a case the platform holds twice, or holds but the terminal never
numbered), ``undefined_states`` (a session that left the terminal anywhere but the attract screen
once its fault cleared), ``rss_growth_pct`` (mean RSS of the last tenth of sessions against the first
tenth), the submitted and acknowledged counts, faults by kind and the wall time.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import json
import logging
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

#: Faults injected for one session: kind -> (inject, clear) over the terminal.
Fault = tuple[Callable[[Any], None], Callable[[Any], None]]


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


class RssSeries:
    """RSS after each session, kept in bounded memory: the sums of the first and the last tenth of
    the ``sessions`` (the growth figure), the latest value and at most ``samples`` evenly spaced
    values (every session when there are fewer)."""

    def __init__(self, sessions: int, samples: int = 1000) -> None:
        self.tenth = max(1, sessions // 10)
        self.sessions = sessions
        self.stride = max(1, sessions // samples)
        self.first = self.last_tenth = self.latest = 0.0
        self.count = 0
        self.samples: list[float] = []

    def add(self, mb: float) -> None:
        if self.count < self.tenth:
            self.first += mb
        if self.count >= self.sessions - self.tenth:
            self.last_tenth += mb
        if self.count % self.stride == 0:
            self.samples.append(mb)
        self.count += 1
        self.latest = mb

    def growth_pct(self) -> float:
        """Mean RSS of the last tenth against the first tenth, in per cent."""
        return (self.last_tenth - self.first) / self.first * 100.0


class WalkAwayClock:
    """The session machine's monotonic clock, which a citizen walking away moves on: the idle time
    they leave passes at once, so the core's idle limit ends their session (the terminal's own
    limit, not a bench timer) without the bench sitting it out."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return time.monotonic() + self._offset

    def walk_away(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


class ReplayFace:
    """The face verifier with recorded results: the real model decides the first check of each
    card photo; later checks read one real frame from the camera and return that result."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.recorded: dict[bytes, Any] = {}
        self.loaded = True

    def verify(
        self, reference: Any, frames: Iterable[Any], timeout_s: float, max_frames: int, **kw: Any
    ) -> Any:
        key = bytes(memoryview(reference).tobytes()[:4096]) if reference is not None else b""
        if key not in self.recorded:
            self.recorded[key] = self.real.verify(reference, frames, timeout_s, max_frames, **kw)
            return self.recorded[key]
        for _frame in frames:  # the camera still delivers (or fails) for real
            break
        return replace(self.recorded[key], elapsed_ms=1)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def _platform_faults(t: Any, **faults: Any) -> None:
    """Switch the sandbox's fault mode (bench machinery, not a session: idempotent, so retried when
    the request meets a keep-alive connection the server closed meanwhile)."""
    from kiosk.cases.platform_client import PlatformUnavailable

    for attempt in range(5):
        try:
            t.client.sandbox.set_faults(**faults)
            return
        except PlatformUnavailable:
            if attempt == 4:
                raise
            time.sleep(0.1)


def _faults() -> dict[str, Fault]:
    def sandbox(**faults: Any) -> Fault:
        return (lambda t: _platform_faults(t, **faults), lambda t: _platform_faults(t))

    return {
        "idcard_unplugged": (lambda t: t.bench.idcard.unplug(), lambda t: t.bench.replug_idcard()),
        "printer_unplugged": (lambda t: t.bench.printer.unplug(), lambda t: t.bench.printer.plug_in()),
        "paper_out": (lambda t: t.bench.printer.paper_out(), lambda t: t.bench.printer.refill()),
        "paper_low": (lambda t: t.bench.printer.paper_low(), lambda t: t.bench.printer.refill()),
        "camera_unplugged": (lambda t: t.bench.camera.unplug(), lambda t: t.bench.camera.replug()),
        "platform_down": sandbox(down=True),
        "answers_dropped": sandbox(drop_after_processing=True),
        "platform_slow": sandbox(latency_ms=300),
        "platform_500": sandbox(error_rate=0.7, error_status=500),
        "platform_503_retry_after": sandbox(error_rate=1.0, error_status=503, retry_after_s=1),
        "platform_429": sandbox(error_rate=0.5, error_status=429),
    }


def run_session(t: Any, citizen: Any, signature: bytes) -> str | None:
    """One citizen, start to finish as far as the terminal lets them; the case id if numbered."""
    from kiosk.session.machine import Step

    s, bench = t.session, t.bench
    case_id: str | None = None
    _card_lifted(t)  # the last citizen's card has left the reader (seen from the attract screen)
    s.start()
    s.choose_item(citizen.item_id)
    bench.present_face(citizen.live_images)
    bench.idcard.insert(citizen.key)
    # The card step listens until cancel or the idle limit: a citizen whose card is refused (e.g. an
    # expired one) walks away and the idle limit ends the session (run_soak's walk-away listener).
    read = s.card.read()
    if read is None or s.step is not Step.FACE_CHECK:
        return None
    for _ in range(3):
        if s.step is not Step.FACE_CHECK:
            break
        s.face.check()
    if s.step is Step.FORM:
        values = {f.key: f.value for f in s.form.fields()}
        values.update(citizen.form)
        s.form.submit(values)
    if s.step is Step.MATERIALS:
        s.materials.finish()
    if s.step is Step.REVIEW:
        s.review.run()
    if s.step is Step.CONFIRM_SIGN:
        result = s.submission.submit(signature)
        if result is not None:
            case_id = result.case_id
    if s.step is Step.RESULT:
        s.outputs.print("zh")
        bench.idcard.remove()
        s.finish_result()
        s.rating.rate("good")
    return case_id


def _card_lifted(t: Any, deadline_s: float = 3.0) -> bool:
    """The next citizen places their card once the terminal has seen the last one lifted (it polls
    the reader every 0.5 s; a card it never saw lifted is not read again, card.py)."""
    end = time.monotonic() + deadline_s
    while t.session.card.awaiting_lift and time.monotonic() < end:
        time.sleep(0.02)
    return not t.session.card.awaiting_lift


def _settle(t: Any, deadline_s: float = 10.0) -> bool:
    """Back on the attract screen (leaving out of service once the fault is gone)."""
    from kiosk.session.machine import Step

    s = t.session
    if s.step not in (Step.ATTRACT, Step.OUT_OF_SERVICE):
        s.cancel()
    end = time.monotonic() + deadline_s
    while s.step is Step.OUT_OF_SERVICE and time.monotonic() < end:
        if not s.try_leave_out_of_service():
            time.sleep(0.05)
    return s.step is Step.ATTRACT


def _signature() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (360, 120), "white")
    ImageDraw.Draw(img).line([(20, 90), (80, 20), (140, 100), (220, 30), (330, 80)], fill="black", width=6)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def soak(
    index: int,
    sessions: int,
    fault_rate: float,
    ack_wait: float,
    seed: int,
    lift_poll: float = 0.05,
    progress_s: float = 60.0,
) -> dict[str, Any]:
    """One terminal (in its own process) through ``sessions`` sessions; its counts and RSS series."""
    logging.basicConfig(level=logging.CRITICAL)  # thousands of injected faults: keep stderr readable
    from kiosk.config import SessionConfig, TerminalConfig
    from kiosk.identity.face import FaceVerifier
    from kiosk.session.events import CardRefused
    from kiosk.session.steps import submit
    from offline_cache.store import OutboxState
    from terminal.runtime import DEMO_CITIZENS, build_terminal

    submit.ACK_WAIT_S = ack_wait
    rng = random.Random(seed * 1000 + index)
    faults = _faults()
    signature = _signature()
    real = FaceVerifier()
    real.load()
    numbered: list[str] = []
    counts: Counter[str] = Counter()
    injected: Counter[str] = Counter()
    rss = RssSeries(sessions)
    t0 = last_report = time.perf_counter()
    cpu0, cpu_from = 0.0, 0
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        # The card-lift watch asks the reader often (the next citizen waits for it, not for work).
        session = SessionConfig(card_lift_poll_s=lift_poll)
        config = TerminalConfig(data_dir=tmp, terminal_id=f"SOAK-{index:04d}", session=session)
        clock = WalkAwayClock()
        t = build_terminal(config, Path(tmp) / "work", face=ReplayFace(real), session_monotonic=clock)
        # No window here: the core's idle watch ends idle sessions (polled often: walking away
        # below is instant).  A citizen whose card is refused takes it and leaves.
        t.session.watch_idle(0.05)
        t.session.subscribe(
            lambda e: clock.walk_away(t.session.idle.timeout_s) if isinstance(e, CardRefused) else None
        )
        try:
            for n in range(sessions):
                citizen = DEMO_CITIZENS[n % len(DEMO_CITIZENS)]
                fault = rng.choice(sorted(faults)) if rng.random() < fault_rate else None
                if fault is not None:
                    injected[fault] += 1
                    faults[fault][0](t)
                try:
                    case_id = run_session(t, citizen, signature)
                    if case_id is not None:
                        numbered.append(case_id)
                except Exception:
                    counts["crashes"] += 1
                    logging.getLogger("bench.soak").critical("session %d crashed", n, exc_info=True)
                finally:
                    if fault is not None:
                        faults[fault][1](t)
                    t.bench.idcard.remove()  # the citizen leaves with the card
                    t.bench.printer.collect()  # and their receipt
                if not _settle(t):
                    counts["undefined_states"] += 1
                rss.add(rss_mb())
                if n + 1 == rss.tenth:  # models and caches warmed up: CPU from here is the sessions'
                    cpu0, cpu_from = time.process_time(), n + 1
                now = time.perf_counter()
                if (n + 1) % rss.tenth == 0 or now - last_report >= progress_s:
                    last_report = now
                    print(
                        f"[{index}] {n + 1}/{sessions} sessions, {now - t0:.0f} s, rss {rss.latest:.0f} MB, "
                        f"{counts['crashes']} crashes, {counts['undefined_states']} undefined",
                        file=sys.stderr,
                        flush=True,
                    )
            elapsed = time.perf_counter() - t0
            cpu_per_session = (time.process_time() - cpu0) / max(1, sessions - cpu_from)
            # Faults off: the queue drains to the platform; then compare.
            _platform_faults(t)
            for _ in range(200):
                for entry in t.store.outbox.entries(state=OutboxState.PENDING):
                    t.store.outbox.retry(entry.entry_id, "soak: due now", 0.0)
                t.drainer.drain_once(500)
                if not t.store.outbox.entries(state=OutboxState.PENDING):
                    break
            # What the platform holds from this terminal, read from its database in this process
            # (ids only: /_sandbox/cases answers every body, over the client's size cap on a long run).
            received = Counter(t.sandbox.app.state.db.case_ids(config.terminal_id))
            acknowledged = 0
            for c in numbered:  # one entry at a time: a long run's cases do not all fit in memory
                e = t.store.cases.get(c)
                acknowledged += e is not None and e.state is OutboxState.ACKNOWLEDGED
                if received[c] == 0:  # a numbered case the platform does not have: say where it is
                    state = (e.state.value, e.last_error) if e is not None else "not in the store"
                    print(f"[{index}] not on the platform: case {c}: {state}", file=sys.stderr)
        finally:
            t.close()
    known = set(numbered)
    return {
        "sessions": sessions,
        "crashes": counts["crashes"],
        "lost": sum(1 for c in numbered if received[c] == 0),
        "duplicated": sum(k - 1 for k in received.values() if k > 1)
        + sum(1 for c in received if c not in known),
        "undefined_states": counts["undefined_states"],
        "numbered": len(numbered),
        "acknowledged": acknowledged,
        "faults": dict(injected),
        "elapsed_s": elapsed,
        "cpu_s_per_session": cpu_per_session,
        "rss": rss.samples,
        "rss_growth_pct": rss.growth_pct(),
        "rss_last_mb": rss.latest,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sessions", type=int, default=10_000, help="sessions in all (split over the workers)"
    )
    parser.add_argument("--workers", type=int, default=6, help="terminals, one process each")
    parser.add_argument("--fault-rate", type=float, default=0.1, help="share of sessions with a fault")
    parser.add_argument("--ack-wait", type=float, default=0.3, help="s the result screen waits for the ack")
    parser.add_argument(
        "--lift-poll", type=float, default=0.05, help="s between the card-lift watch's reader polls"
    )
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    if args.sessions < 10 * args.workers or args.workers < 1:
        parser.error("at least 10 sessions per worker")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    t0 = time.perf_counter()
    shares = [
        args.sessions // args.workers + (1 if i < args.sessions % args.workers else 0)
        for i in range(args.workers)
    ]
    context = multiprocessing.get_context("spawn")  # no threads or Qt state inherited
    with concurrent.futures.ProcessPoolExecutor(args.workers, mp_context=context) as pool:
        futures = [
            pool.submit(soak, i, n, args.fault_rate, args.ack_wait, args.seed, args.lift_poll)
            for i, n in enumerate(shares)
        ]
        parts = [f.result() for f in futures]
    growth = [part["rss_growth_pct"] for part in parts]
    faults: Counter[str] = Counter()
    for part in parts:
        faults.update(part["faults"])
    wall = time.perf_counter() - t0
    total = {
        k: sum(p[k] for p in parts) for k in ("sessions", "crashes", "lost", "duplicated", "undefined_states")
    }
    result = {
        **total,
        "rss_growth_pct": round(max(growth), 2),  # the worst terminal's
        "numbered": sum(p["numbered"] for p in parts),
        "acknowledged": sum(p["acknowledged"] for p in parts),
        "faults": dict(sorted(faults.items())),
        "workers": args.workers,
        "wall_s": round(wall, 1),
        "sessions_per_s": round(total["sessions"] / max(p["elapsed_s"] for p in parts), 2),
        # CPU of a terminal process (all its threads, the in-process platform's included) per
        # session after the first tenth (start-up and warm-up left out), the mean of the terminals:
        # what a session costs whatever else the machine does.
        "cpu_s_per_session": round(sum(p["cpu_s_per_session"] for p in parts) / len(parts), 4),
        "rss_last_mb": [round(p["rss_last_mb"], 1) for p in parts],
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
