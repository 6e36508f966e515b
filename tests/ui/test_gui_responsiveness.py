"""While OCR reads a real A4 page, the GUI's event loop keeps turning.

A QTimer ticks every 10 ms on the GUI thread and records the longest gap between ticks
while the citizen's capture runs through the facade's background worker (camera, page
capture, OCR, extraction).  The same meter, with the same page OCR'd on the GUI thread,
must see the stall: that is what makes the first measurement mean something.

On 2 cores shared with other work, the kernel sometimes keeps a runnable GUI thread waiting
in the run queue; that wait (``/proc/self/task/<tid>/schedstat``, second field) is CPU
contention, not the GUI thread being busy or blocked, so it is taken off each gap before the
100 ms limit applies (the raw gaps are in the failure message).  On a quiet machine the wait
is close to zero and raw and adjusted gaps agree.  A GUI thread doing the OCR itself is
*running*, not waiting: with the capture called on the GUI thread instead of the worker this
test fails (tried: adjusted stall 3.6 s, raw 16.3 s, under load 11).  Limit: contention from
the terminal's own OCR threads is discounted as well.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from kiosk.session.machine import Step
from terminal.docgen import render_demo_lease
from terminal.runtime import DEMO_CITIZENS
from tests.conftest import Factory

pytestmark = pytest.mark.slow
MEASURE_ENV = "KIOSK_GUI_MEASURE"
BUSINESS = DEMO_CITIZENS[1]
MAX_GAP_S = 0.100
#: The face check's limit: the face embeddings (YuNet + SFace in OpenCV, which releases the GIL)
#: run on a thread beside the GUI; a pass that held the GIL would show here as gaps of 90 ms and more.
FACE_MAX_GAP_S = 0.060


class TickMeter:
    """Longest gap between the ticks of a 10 ms QTimer on the GUI thread (the calling thread)."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self._schedstat = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat")
        self.t0 = self.last = 0.0
        self.last_wait = self.last_cpu = 0.0
        self.max_gap = 0.0  # raw
        self.max_app_gap = 0.0  # less the time the runnable thread waited for a CPU
        self.ticks = 0
        # gaps over 50 ms: (ms since start, raw gap, adjusted gap, GUI thread's own CPU time in it), ms
        self.long: list[tuple[int, int, int, int]] = []

    def _sched(self) -> tuple[float, float]:
        """(seconds on a CPU, seconds runnable but waiting for one) of the GUI thread so far."""
        on_cpu, waiting = self._schedstat.read_text().split()[:2]
        return int(on_cpu) / 1e9, int(waiting) / 1e9

    def _tick(self) -> None:
        now, (cpu, wait) = time.perf_counter(), self._sched()
        gap = now - self.last
        app_gap = gap - (wait - self.last_wait)
        if gap > 0.050:
            at, ms = round((now - self.t0) * 1000), round(gap * 1000)
            self.long.append((at, ms, round(app_gap * 1000), round((cpu - self.last_cpu) * 1000)))
        self.max_gap = max(self.max_gap, gap)
        self.max_app_gap = max(self.max_app_gap, app_gap)
        self.last, self.last_wait, self.last_cpu = now, wait, cpu
        self.ticks += 1

    def run(
        self, start: Callable[[], None], done: Callable[[Callable[[], None]], None], timeout_s: float
    ) -> None:
        """Start the meter, call ``start``, turn the real event loop until ``done``'s callback fires."""
        loop = QEventLoop()
        done(loop.quit)
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        self.last = self.t0 = time.perf_counter()
        self.last_cpu, self.last_wait = self._sched()
        self.timer.start()
        QTimer.singleShot(0, start)
        loop.exec()
        self.timer.stop()
        self._tick()  # the last stretch counts too (a loop blocked to the end never ticked)


def test_event_loop_never_stalls_while_ocr_reads_an_a4_page() -> None:
    """Measured in a fresh interpreter: late in the full suite, what earlier tests left in this
    process (Qt objects, timers, threads of earlier terminals) put ~0.2 s of C++ work on the GUI
    thread that no Python frame shows; the product's GUI is what this test is about."""
    _run_child("test_measure_event_loop_gaps_during_ocr")


def _measure_event_loop_gaps_during_ocr(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk()
    assert terminal.bench is not None
    driver.begin(BUSINESS.item_id)
    driver.present(BUSINESS)
    driver.wait_step(Step.FORM, timeout=60)
    driver.fill_form(BUSINESS)
    driver.click("formNext")
    driver.wait_step(Step.MATERIALS)
    driver.wait_until(lambda: ui.facade.bg.active() == 0, 10.0, "e-licence lookup done")
    page = render_demo_lease()  # A4 at 1536x2048 (~185 dpi), what the document camera delivers
    terminal.bench.place_document(page)

    # What earlier tests in the same process left for the cyclic GC would be collected on
    # whichever thread allocates next (here: the GUI thread, ~0.2 s seen late in the full suite):
    # collect it now and keep those old objects out of the measurement.
    # Windows earlier tests in this process left behind still get layout/paint work on this
    # thread: close them, so what is measured is this terminal's GUI only.
    _isolate(ui)
    meter = TickMeter()
    results: list[object] = []

    def on_material(done: Callable[[], None]) -> None:
        ui.facade.material.connect(lambda r: (results.append(r), done()))

    started = time.perf_counter()
    meter.run(lambda: ui.facade.materials.capture("lease"), on_material, timeout_s=180)
    elapsed = time.perf_counter() - started
    gc.unfreeze()
    assert results and results[0] is not None, "the capture did not finish"
    result = terminal.session.data.application.materials["lease"]
    assert result.ocr_ms > 300 and len(result.pages) == 1  # the OCR really ran on the page
    assert meter.max_app_gap < MAX_GAP_S, (
        f"GUI stalled {meter.max_app_gap * 1000:.0f} ms during OCR (raw {meter.max_gap * 1000:.0f} ms); "
        f"gaps over 50 ms (at, raw, adjusted, GUI CPU): {meter.long}"
    )
    assert meter.ticks > 0.3 * elapsed / 0.010  # the loop really turned, not once at the end

    # The meter sees the stall when the same OCR runs on the GUI thread.
    blocked = TickMeter()
    finished: list[bool] = []

    def ocr_on_gui_thread() -> None:
        terminal.session.materials.ocr.recognise(page)
        finished.append(True)

    blocked.run(ocr_on_gui_thread, lambda done: QTimer.singleShot(50, done), timeout_s=120)
    assert finished and blocked.max_app_gap > 3 * MAX_GAP_S


def test_event_loop_never_stalls_during_the_face_check() -> None:
    """The face check (camera frames, mesh, liveness, embeddings of the card photo and the live
    face) runs while the GUI keeps turning; measured in a fresh interpreter as above."""
    _run_child("test_measure_event_loop_gaps_during_face_check")


def _run_child(name: str) -> None:
    env = {**os.environ, MEASURE_ENV: "1", "QT_QPA_PLATFORM": "offscreen"}
    node = f"{Path(__file__).relative_to(Path.cwd())}::{name}"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0 and "1 passed" in proc.stdout.splitlines()[-1], (
        proc.stdout[-4000:] + proc.stderr[-2000:]
    )


def _isolate(ui: object) -> None:
    """Close windows earlier tests in this process left, collect and freeze old garbage."""
    for widget in QApplication.topLevelWidgets():
        if widget is not ui.window and widget.window() is not ui.window:  # type: ignore[attr-defined]
            widget.close()
            widget.deleteLater()
    QApplication.processEvents()
    gc.collect()
    gc.freeze()


def _measure_event_loop_gaps_during_face_check(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk()
    assert terminal.bench is not None
    senior = DEMO_CITIZENS[0]
    driver.begin(senior.item_id)
    _isolate(ui)
    meter = TickMeter()
    frames: list[object] = []
    ui.facade.frame.connect(frames.append)

    def on_form(done: Callable[[], None]) -> None:
        ui.facade.stepChanged.connect(lambda step: done() if step is Step.FORM else None)

    started = time.perf_counter()
    # The citizen and the simulated devices act from outside the GUI thread (making the simulated
    # card's photo block alone takes ~130 ms of CPU): what is measured is the terminal's GUI.
    meter.run(lambda: threading.Thread(target=driver.present, args=(senior,)).start(), on_form, timeout_s=120)
    elapsed = time.perf_counter() - started
    gc.unfreeze()
    assert terminal.session.step is Step.FORM, terminal.session.step
    face = terminal.session.data.identity.face
    assert face is not None and face.matched  # the embeddings really ran
    assert frames  # the preview was shown
    assert meter.max_app_gap < FACE_MAX_GAP_S, (
        f"GUI stalled {meter.max_app_gap * 1000:.0f} ms during the face check (raw {meter.max_gap * 1000:.0f} ms,"
        f" {elapsed:.2f} s in all); gaps over 50 ms (at, raw, adjusted, GUI CPU): {meter.long}"
    )


if os.environ.get(MEASURE_ENV) == "1":  # collected only in the child process started above
    test_measure_event_loop_gaps_during_ocr = _measure_event_loop_gaps_during_ocr
    test_measure_event_loop_gaps_during_face_check = _measure_event_loop_gaps_during_face_check
