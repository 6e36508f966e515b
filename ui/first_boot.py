"""The first-boot screen: the installer enrols an unprovisioned terminal from its own screen.

Shown instead of the terminal when it starts without a config (terminal/first_boot.py decides and
supplies the backend).  The installer scans the platform's enrolment QR code with the camera
(``hallkiosk:enrol?...``: it fills every field) or types the platform address, the terminal id,
the one-time enrolment code and the TUF root's SHA-256 with the on-screen keys, then starts.  The
same provisioning as ``hall-kiosk provision`` runs in the background (enrol and pin, discover
devices, write the config, sync, self-check), its steps drive the progress bar and its lines show
in the log; the readiness report ends it, with "restart into the terminal" when it is ready and
"try again" when not (nothing the installer typed is lost).  The backend is a protocol: the UI
knows nothing of the composition root.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import tr
from ui.keyboard import shared_panel
from ui.style import stylesheet
from ui.widgets import BigButton, Title
from ui.worker import Background

_STEP = re.compile(r"^\[(\d+)/(\d+)\]")


@dataclass(frozen=True)
class Enrolment:
    """What the installer gives: the platform, this terminal's id, the code, the TUF root digest."""

    platform_url: str
    terminal_id: str
    code: str
    tuf_root_sha256: str


@dataclass(frozen=True)
class ProvisionOutcome:
    status: int  # 0 ready, 1 provisioned but not ready, 2 failed (nothing written)
    ready: bool
    report: tuple[str, ...]  # the readiness report's lines (one per check)
    error: str = ""


class FirstBootBackend(Protocol):
    def parse_qr(self, text: str) -> Enrolment: ...  # ValueError with the reason

    def scan_qr(self, timeout_s: float) -> str | None: ...

    def provision(self, enrolment: Enrolment, say: Callable[[str], None]) -> ProvisionOutcome: ...

    def restart(self) -> None: ...


class _Lines(QObject):
    line = Signal(str)  # from the provisioning thread, delivered on the GUI thread


class FirstBootWindow(QMainWindow):
    def __init__(self, backend: FirstBootBackend) -> None:
        super().__init__()
        self.backend = backend
        self.bg = Background(max_threads=2)
        self._lines = _Lines()
        self._lines.line.connect(self._on_line)
        self.setObjectName("firstBoot")
        root = QWidget()
        outer = QVBoxLayout(root)
        outer.addWidget(Title(tr("firstboot.title")))
        intro = QLabel(tr("firstboot.intro"))
        intro.setWordWrap(True)
        outer.addWidget(intro)
        form = QFormLayout()
        self.fields: dict[str, QLineEdit] = {}
        for name, key, hints in (
            ("platform_url", "firstboot.platform", Qt.InputMethodHint.ImhUrlCharactersOnly),
            ("terminal_id", "firstboot.terminal_id", Qt.InputMethodHint.ImhPreferUppercase),
            ("code", "firstboot.code", Qt.InputMethodHint.ImhNoPredictiveText),
            ("tuf_root_sha256", "firstboot.root", Qt.InputMethodHint.ImhNoPredictiveText),
        ):
            edit = QLineEdit()
            edit.setObjectName(f"firstBoot:{name}")
            # Latin keys whatever the language (no Pinyin composition for codes and addresses).
            edit.setInputMethodHints(
                hints | Qt.InputMethodHint.ImhLatinOnly | Qt.InputMethodHint.ImhNoAutoUppercase
            )
            self.fields[name] = edit
            form.addRow(tr(key), edit)
        outer.addLayout(form)
        self.scan = BigButton(tr("firstboot.scan"), "secondary")
        self.scan.setObjectName("firstBootScan")
        self.scan.clicked.connect(self.start_scan)
        self.start = BigButton(tr("firstboot.start"))
        self.start.setObjectName("firstBootStart")
        self.start.clicked.connect(self.start_provision)
        outer.addWidget(self.scan)
        outer.addWidget(self.start)
        self.status = QLabel("")
        self.status.setObjectName("firstBootStatus")
        self.status.setWordWrap(True)
        outer.addWidget(self.status)
        self.progress = QProgressBar()
        self.progress.setObjectName("firstBootProgress")
        self.progress.setRange(0, 5)
        self.progress.setValue(0)
        outer.addWidget(self.progress)
        self.log = QPlainTextEdit()
        self.log.setObjectName("firstBootLog")
        self.log.setReadOnly(True)
        outer.addWidget(self.log, 1)
        self.restart = BigButton(tr("firstboot.restart"))
        self.restart.setObjectName("firstBootRestart")
        self.restart.clicked.connect(backend.restart)
        self.restart.hide()
        outer.addWidget(self.restart)
        self.keyboard = shared_panel()
        outer.addWidget(self.keyboard)
        self.setCentralWidget(root)
        self.setStyleSheet(stylesheet())

    # ------------------------------------------------------------------ QR code
    def start_scan(self) -> None:
        self._busy(True)
        self.status.setText(tr("firstboot.scanning"))
        self.bg.run(
            lambda: self.backend.scan_qr(20.0), on_success=self._scanned, on_failure=self._scan_failed
        )

    def _scanned(self, text: str | None) -> None:
        self._busy(False)
        if text is None:
            self.status.setText(tr("firstboot.scan_none"))
            return
        self.fill_from_qr(text)

    def _scan_failed(self, err: BaseException) -> None:
        self._busy(False)
        self.status.setText(tr("firstboot.scan_failed", reason=str(err)))

    def fill_from_qr(self, text: str) -> bool:
        try:
            enrolment = self.backend.parse_qr(text)
        except ValueError as err:
            self.status.setText(tr("firstboot.qr_refused", reason=str(err)))
            return False
        for name, value in self.values(enrolment).items():
            if value:
                self.fields[name].setText(value)
        self.status.setText(tr("firstboot.qr_read"))
        return True

    @staticmethod
    def values(enrolment: Enrolment) -> Mapping[str, str]:
        return {
            "platform_url": enrolment.platform_url,
            "terminal_id": enrolment.terminal_id,
            "code": enrolment.code,
            "tuf_root_sha256": enrolment.tuf_root_sha256,
        }

    # ------------------------------------------------------------------ provisioning
    def enrolment(self) -> Enrolment | None:
        text = {name: edit.text().strip() for name, edit in self.fields.items()}
        missing = [name for name, value in text.items() if not value]
        if missing:
            self.fields[missing[0]].setFocus()
            self.status.setText(tr("firstboot.missing"))
            return None
        return Enrolment(**text)

    def start_provision(self) -> None:
        enrolment = self.enrolment()
        if enrolment is None:
            return
        self._busy(True)
        self.restart.hide()
        self.log.clear()
        self.progress.setValue(0)
        self.status.setText(tr("firstboot.running"))
        self.bg.run(
            lambda: self.backend.provision(enrolment, self._lines.line.emit),
            on_success=self._done,
            on_failure=lambda err: self._done(ProvisionOutcome(2, False, (), str(err))),
        )

    def _on_line(self, line: str) -> None:
        self.log.appendPlainText(line)
        step = _STEP.match(line)
        if step:
            self.progress.setValue(int(step.group(1)) - 1)

    def _done(self, outcome: ProvisionOutcome) -> None:
        self._busy(False)
        if outcome.status == 2:
            self.status.setText(tr("firstboot.failed", reason=outcome.error))
            return
        self.progress.setValue(self.progress.maximum())
        self.log.appendPlainText("\n".join(outcome.report))
        if outcome.ready:
            self.status.setText(tr("firstboot.ready"))
            self.restart.show()
        else:
            self.status.setText(tr("firstboot.not_ready"))

    def _busy(self, busy: bool) -> None:
        self.start.setEnabled(not busy)
        self.scan.setEnabled(not busy)
        for edit in self.fields.values():
            edit.setReadOnly(busy)

    def closeEvent(self, event: object) -> None:
        self.keyboard.detach()
        self.bg.wait(5000)
        super().closeEvent(event)  # type: ignore[arg-type]
