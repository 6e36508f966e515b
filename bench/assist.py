"""Remote video help on loopback (``python -m bench.assist``): the terminal's aiortc peer with its
Qt call panel against the agent console in headless Chromium (fake camera and microphone), through
the sandbox platform's signalling.

For ``--calls`` calls: help tapped → consent → queue → the console accepts at once (its
``autoaccept`` flag) → the first frame of the agent's video at the terminal (``call_setup_ms``).
During ``--seconds`` of each call: the agent's video frames received at the terminal per second
(``video_fps``), the terminal process's CPU time over wall time (``cpu_percent``, 100 = one of the
machine's cores; Chromium, the agent's side, not counted) and the GUI thread's longest gap between
two ticks of a 5 ms timer while the window is grabbed as the kiosk screen (``gui_max_gap_ms``).
The last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench._stats import percentile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8.0, help="measured time in each call")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import (
        QApplication,
        QHBoxLayout,
        QLabel,
        QMainWindow,
        QPushButton,
        QVBoxLayout,
        QWidget,
    )

    from kiosk.assist.state import CallState
    from sandbox_platform.assist_browser import ConsoleBrowser
    from tests.assist.harness import Rig, agent_console_url
    from ui.facade_assist import AssistFacade
    from ui.screens.assist import install_assist

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = QMainWindow()
    root = QWidget()
    outer = QVBoxLayout(root)
    header = QWidget()
    hl = QHBoxLayout(header)
    cancel = QPushButton("取消")
    hl.addWidget(QLabel("政务服务大厅"))
    hl.addWidget(cancel)
    outer.addWidget(header)
    outer.addWidget(QLabel("form"), 1)
    window.setCentralWidget(root)
    window.resize(1280, 800)

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-assist-") as tmp:
        rig = Rig(Path(tmp))
        rig.service.frame_source = None
        facade = AssistFacade(rig.service)
        install_assist(window, cancel, facade)
        window.show()
        browser = ConsoleBrowser(agent_console_url(rig.server) + "&autoaccept=1").start()
        rig.browser = browser
        gaps: list[float] = []
        measuring = threading.Event()
        last = [time.monotonic()]

        def tick() -> None:
            now = time.monotonic()
            if measuring.is_set():
                gaps.append((now - last[0]) * 1000.0)
            last[0] = now

        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(tick)
        timer.start()
        setup_ms: list[float] = []
        fps: list[float] = []
        cpu: list[float] = []
        failures: list[str] = []

        def drive() -> None:
            svc = rig.service
            for n in range(args.calls):
                try:
                    svc.ask()
                    svc.consent(True)
                    rig.wait(lambda: svc.status.state is CallState.IN_CALL, 30, "first agent video frame")
                    assert svc.help_tapped_at is not None and svc.first_media_at is not None
                    setup_ms.append((svc.first_media_at - svc.help_tapped_at) * 1000.0)
                    time.sleep(1.0)  # past the first keyframes
                    frames0, cpu0, t0 = (
                        svc.media_stats()["video_received"],
                        time.process_time(),
                        time.monotonic(),
                    )
                    measuring.set()
                    time.sleep(args.seconds)
                    measuring.clear()
                    frames1, cpu1, t1 = (
                        svc.media_stats()["video_received"],
                        time.process_time(),
                        time.monotonic(),
                    )
                    fps.append((frames1 - frames0) / (t1 - t0))
                    cpu.append((cpu1 - cpu0) / (t1 - t0) * 100.0)
                    svc.hang_up()
                    rig.wait(lambda: svc.status.state is CallState.ENDED, 15, "call ended")
                    svc.wait_idle()
                    browser.wait_for("window.assistStats().ended !== null", 10)
                    print(
                        f"call {n + 1}/{args.calls}: setup {setup_ms[-1]:.0f} ms, {fps[-1]:.1f} fps",
                        file=sys.stderr,
                    )
                except Exception as err:
                    failures.append(f"call {n + 1}: {err}")
                    print(f"call {n + 1} failed: {err}", file=sys.stderr)
                    svc.hang_up()
                    svc.wait_idle()

        driver = threading.Thread(target=drive, name="bench-driver")
        driver.start()
        while driver.is_alive():
            app.processEvents()
            time.sleep(0.001)
        timer.stop()
        facade.shutdown()
        rig.close()
        window.close()
        results = {
            "calls": args.calls,
            "failed_calls": len(failures),
            "call_setup_ms_p50": round(percentile(setup_ms, 50), 1),
            "call_setup_ms_max": round(max(setup_ms), 1) if setup_ms else None,
            "video_fps": round(statistics.median(fps), 1) if fps else None,
            "cpu_percent": round(statistics.median(cpu), 1) if cpu else None,
            "cpu_count": os.cpu_count(),
            "gui_max_gap_ms": round(max(gaps), 1) if gaps else None,
            "gui_gap_ms_p99": round(percentile(gaps, 99), 1) if gaps else None,
            "failures": failures,
        }
    print(json.dumps(results, ensure_ascii=False))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
