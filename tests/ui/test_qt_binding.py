"""The Qt binding survives a long-running terminal's event traffic.

PySide6 6.12.0 on Python 3.11 over-releases ``None`` in static calls and signal
delivery, and the process dies with "Fatal Python error: deallocating None"
after a few thousand events: a terminal would crash within minutes.  This runs
that traffic in a child process, so a bad binding fails here and not in a hall.
"""

from __future__ import annotations

import os
import subprocess
import sys

PUMP = """
import sys
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication
app = QApplication([])
before = sys.getrefcount(None)
for _ in range(20000):
    QApplication.processEvents()
class Emitter(QObject):
    fired = Signal(object)
e = Emitter()
e.fired.connect(lambda value: None)
ticks = [0]
def tick():
    ticks[0] += 1
    e.fired.emit(None)
    if ticks[0] >= 20000:
        app.quit()
t = QTimer()
t.setInterval(0)
t.timeout.connect(tick)
t.start()
app.exec()
print("ok", ticks[0], sys.getrefcount(None) - before)
"""


def test_event_traffic_does_not_corrupt_the_interpreter() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", PUMP], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    word, ticks, leaked = proc.stdout.split()
    assert word == "ok" and int(ticks) == 20000
    assert abs(int(leaked)) < 1000
