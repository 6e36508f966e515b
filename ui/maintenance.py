"""The hall staff's maintenance screen: 诊断 / 耗材 / 同步 / 待上传 / 日志.

Shown for :attr:`Step.MAINTENANCE` (entered with the staff card, see
kiosk/maintenance/service.py).  Every maintenance action goes through the facade's
:attr:`~ui.facade.KioskFacade.maintenance` part and runs on its background pool;
results come back on the GUI thread as its signals.
Staff see counts, case ids, states, versions and error texts, never a citizen's
personal data.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import tr
from ui.facade import KioskFacade
from ui.maintenance_pin import PinPad
from ui.screens.base import Screen, label
from ui.slots import follow
from ui.viewmodels import Consumables, Diagnostics, LogTail, OutboxState, OutboxView, Step, TestPrintResult
from ui.widgets import BigButton, Title

log = logging.getLogger(__name__)

TABS = ("diagnostics", "consumables", "sync", "outbox", "logs")
#: Terminal clock further than this from the platform's is shown in red (and alerted:
#: kiosk/maintenance/alerts.py); signed requests fail at 300 s.
CLOCK_SKEW_LIMIT_S = 60.0


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n = n / 1024  # type: ignore[assignment]
    return str(n)


def _when(ts: float | None) -> str:
    if ts is None:
        return tr("maint.never")
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def _update_rows(u: Any, attention: set[int], first: int) -> list[tuple[str, ...]]:
    """The app's version and updates (kiosk.update.report.UpdateView): what runs and what is
    available; how the last update ended; a rolled-back version needs the platform's attention."""
    available = (
        tr("maint.update.available", version=u.available) if u.available else tr("maint.update.latest")
    )
    rows: list[tuple[str, ...]] = [(tr("maint.update"), u.running, available)]
    if u.last_result is not None:
        if u.last_result in {"rolled_back", "refused", "error"}:
            attention.add(first + 1)
        rows.append(
            (
                tr("maint.update.last", at=_when(u.last_at)),
                tr(f"maint.update.result.{u.last_result}", version=u.last_version or ""),
                tr("maint.update.failed", versions=", ".join(u.failed)) if u.failed else "",
            )
        )
    return rows


def _table(columns: int, name: str) -> QTableWidget:
    t = QTableWidget(0, columns)
    t.setObjectName(name)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    t.verticalHeader().setVisible(False)
    t.verticalHeader().setDefaultSectionSize(76)  # touch-sized rows (requeue buttons are 72 px)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    return t


def _fill(table: QTableWidget, rows: list[tuple[str, ...]], attention: set[int] | None = None) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            if attention and r in attention:
                item.setForeground(Qt.GlobalColor.darkRed)
            table.setItem(r, c, item)


class MaintenanceScreen(Screen):
    step = Step.MAINTENANCE

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.layout_.setContentsMargins(24, 12, 24, 12)
        self.layout_.setSpacing(10)
        self.m = facade.maintenance
        self._data: dict[str, Any] = {}

        top = QHBoxLayout()
        self.title = Title()
        self.staff = label(name="hint")
        self.leave = BigButton(role="secondary")
        self.leave.setObjectName("maintLeave")
        top.addWidget(self.title, 1)
        top.addWidget(self.staff)
        top.addWidget(self.leave)
        self.layout_.addLayout(top)
        self.message = label(name="hint")
        self.layout_.addWidget(self.message)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("maintTabs")
        self.tabs.tabBar().setMinimumHeight(64)
        self.layout_.addWidget(self.tabs, 1)
        self._pages: dict[str, QWidget] = {}
        self._refresh_buttons: dict[str, BigButton] = {}
        self._build_diagnostics()
        self._build_consumables()
        self._build_sync()
        self._build_outbox()
        self._build_logs()
        self.tabs.currentChanged.connect(lambda _i: self._load_current())

        if self.m is not None:
            self.leave.clicked.connect(self.m.leave)
            # the maintenance facade outlives the window: connections dropped with this screen
            for signal, key in (
                (self.m.diagnostics, "diagnostics"),
                (self.m.consumables, "consumables"),
                (self.m.printed, "printed"),
                (self.m.synced, "sync"),
                (self.m.outbox, "outbox"),
                (self.m.logs, "logs"),
            ):
                follow(signal, self, functools.partial(self._show, key))
            self.m.failed.connect(self._failed)
            self.m.refused.connect(self._on_refused)
            self.m.pin_required.connect(self._ask_pin)
        self.pin_pad = PinPad(facade)
        self.pin_pad.retranslate()

    def _ask_pin(self, event: Any) -> None:
        """The pad goes over the whole window (the attract screen is up, not this one)."""
        if self.pin_pad.parentWidget() is not self.window():
            self.pin_pad.setParent(self.window())
        self.pin_pad.ask(event)

    # ------------------------------------------------------------------ layout
    def _page(self, key: str) -> QVBoxLayout:
        page = QWidget()
        page.setObjectName(f"maintTab:{key}")
        lay = QVBoxLayout(page)
        self._pages[key] = page
        self.tabs.addTab(page, "")
        return lay

    def _refresh(self, key: str, lay: QVBoxLayout | QHBoxLayout) -> BigButton:
        b = BigButton(role="secondary")
        b.setObjectName(f"maintRefresh:{key}")
        b.clicked.connect(self._load_current)
        self._refresh_buttons[key] = b
        lay.addWidget(b)
        return b

    def _build_diagnostics(self) -> None:
        lay = self._page("diagnostics")
        self.diag = _table(3, "maintDiagnostics")
        lay.addWidget(self.diag, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        self._refresh("diagnostics", row)
        lay.addLayout(row)

    def _build_consumables(self) -> None:
        lay = self._page("consumables")
        self.cons = _table(3, "maintConsumables")
        lay.addWidget(self.cons, 1)
        self.print_result = label(name="hint")
        lay.addWidget(self.print_result)
        row = QHBoxLayout()
        row.addStretch(1)
        self.test_print = BigButton()
        self.test_print.setObjectName("maintTestPrint")
        if self.m is not None:
            self.test_print.clicked.connect(self._on_test_print)
        row.addWidget(self.test_print)
        self._refresh("consumables", row)
        lay.addLayout(row)

    def _build_sync(self) -> None:
        lay = self._page("sync")
        self.sync_hint = label(name="hint")
        lay.addWidget(self.sync_hint)
        self.sync_table = _table(2, "maintSync")
        lay.addWidget(self.sync_table, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.sync_button = BigButton()
        self.sync_button.setObjectName("maintSyncNow")
        if self.m is not None:
            self.sync_button.clicked.connect(self._on_sync)
        row.addWidget(self.sync_button)
        row.addStretch(1)
        lay.addLayout(row)

    def _build_outbox(self) -> None:
        lay = self._page("outbox")
        self.counts = label()
        self.counts.setObjectName("maintOutboxCounts")
        lay.addWidget(self.counts)
        self.dead = _table(5, "maintDeadLetters")
        self.dead.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.dead.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Fixed)
        self.dead.setColumnWidth(4, 200)
        lay.addWidget(self.dead, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.requeue_all = BigButton()
        self.requeue_all.setObjectName("maintRequeueAll")
        if self.m is not None:
            self.requeue_all.clicked.connect(self._on_requeue_all)
        row.addWidget(self.requeue_all)
        self._refresh("outbox", row)
        lay.addLayout(row)

    def _build_logs(self) -> None:
        lay = self._page("logs")
        self.app_log_title = label(name="hint")
        self.app_log = QPlainTextEdit()
        self.app_log.setObjectName("maintAppLog")
        self.wire_log_title = label(name="hint")
        self.wire_log = QPlainTextEdit()
        self.wire_log.setObjectName("maintWireLog")
        for w in (self.app_log, self.wire_log):
            w.setReadOnly(True)
            w.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        lay.addWidget(self.app_log_title)
        lay.addWidget(self.app_log, 2)
        lay.addWidget(self.wire_log_title)
        lay.addWidget(self.wire_log, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        self._refresh("logs", row)
        lay.addLayout(row)

    # ------------------------------------------------------------------ behaviour
    def enter(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.message.setText("")
        self._data.clear()
        self._retranslate()
        self._load_current()

    def retranslate(self) -> None:
        self._retranslate()
        self.pin_pad.retranslate()
        for key, value in list(self._data.items()):
            self._render(key, value)

    def current_tab(self) -> str:
        return TABS[self.tabs.currentIndex()]

    def select_tab(self, key: str) -> None:
        self.tabs.setCurrentIndex(TABS.index(key))

    def _load_current(self) -> None:
        if self.m is None:
            self.message.setText(tr("maint.unavailable"))
            return
        if self.facade.view.step is not Step.MAINTENANCE:
            return
        key = self.current_tab()
        self.message.setText(tr("maint.working"))
        loader = {
            "diagnostics": self.m.refresh_diagnostics,
            "consumables": self.m.refresh_consumables,
            "outbox": self.m.refresh_outbox,
            "logs": self.m.refresh_logs,
        }.get(key)
        if loader is not None:
            loader()
        else:
            self.message.setText("")

    def _failed(self, text: str) -> None:
        self.message.setText(tr("maint.error", error=text))

    def _show(self, key: str, value: Any) -> None:
        self.message.setText("")
        self._data[key] = value
        self._render(key, value)

    def _on_test_print(self) -> None:
        assert self.m is not None
        self.message.setText(tr("maint.working"))
        self.m.test_print()

    def _on_sync(self) -> None:
        assert self.m is not None
        self.message.setText(tr("maint.working"))
        self.sync_button.setEnabled(False)
        self.m.sync_now()

    def _on_requeue(self, case_id: str) -> None:
        assert self.m is not None
        self.message.setText(tr("maint.working"))
        self.m.requeue(case_id)

    def _on_requeue_all(self) -> None:
        assert self.m is not None
        self.message.setText(tr("maint.working"))
        self.m.requeue_all()

    def _on_refused(self, reason: str) -> None:
        """A refused card is shown briefly on whatever screen is up (the attract screen)."""
        self.facade.busy.emit(f"maint.refused.{reason}")
        QTimer.singleShot(5000, self, lambda: self.facade.busy.emit(""))

    # ------------------------------------------------------------------ rendering
    def _retranslate(self) -> None:
        self.title.setText(tr("maint.title"))
        staff = self.m.staff_id if self.m is not None else None
        self.staff.setText(tr("maint.staff", staff=staff or "—"))
        self.leave.setText(tr("maint.leave"))
        for i, key in enumerate(TABS):
            self.tabs.setTabText(i, tr(f"maint.tab.{key}"))
        for b in self._refresh_buttons.values():
            b.setText(tr("maint.refresh"))
        headers = [tr("maint.col.item"), tr("maint.col.state"), tr("maint.col.action")]
        self.diag.setHorizontalHeaderLabels(headers)
        self.cons.setHorizontalHeaderLabels(headers)
        self.sync_table.setHorizontalHeaderLabels([tr("maint.col.item"), tr("maint.col.state")])
        self.dead.setHorizontalHeaderLabels(
            [
                tr("maint.col.case"),
                tr("maint.col.service"),
                tr("maint.col.attempts"),
                tr("maint.col.error"),
                "",
            ]
        )
        self.test_print.setText(tr("maint.test_print"))
        self.sync_button.setText(tr("maint.sync_now"))
        self.sync_hint.setText(tr("maint.sync.hint"))
        self.requeue_all.setText(tr("maint.requeue_all"))
        self.app_log_title.setText(tr("maint.logs.app"))
        self.wire_log_title.setText(tr("maint.logs.wire"))

    def _render(self, key: str, value: Any) -> None:
        if key == "diagnostics":
            self._render_diagnostics(value)
        elif key == "consumables":
            self._render_consumables(value)
        elif key == "printed":
            self._render_printed(value)
        elif key == "sync":
            self._render_sync(value)
        elif key == "outbox":
            self._render_outbox(value)
        elif key == "logs":
            self._render_logs(value)

    def _render_diagnostics(self, d: Diagnostics) -> None:
        rows: list[tuple[str, ...]] = []
        attention: set[int] = set()
        for dev in d.devices:
            if dev.action.value != "none":
                attention.add(len(rows))
            rows.append(
                (
                    tr(f"maint.device.{dev.name}"),
                    tr(f"maint.status.{dev.status.value}"),
                    tr(f"maint.action.{dev.action.value}"),
                )
            )
        p = d.platform
        if not p.reachable:
            attention.add(len(rows))
        rows.append(
            (
                tr("maint.platform"),
                tr("maint.platform.ok", ms=f"{p.latency_ms:.0f}")
                if p.reachable and p.latency_ms is not None
                else tr("maint.platform.down"),
                p.error or "",
            )
        )
        skew = p.clock_skew_s  # platform minus terminal: the terminal is -skew seconds off
        off = skew is not None and abs(skew) > CLOCK_SKEW_LIMIT_S
        if off:
            attention.add(len(rows))
        rows.append(
            (
                tr("maint.clock"),
                tr("maint.clock.skew", s=f"{-skew:+.0f}") if skew is not None else tr("maint.clock.unknown"),
                tr("maint.clock.off", limit=f"{CLOCK_SKEW_LIMIT_S:.0f}") if off else tr("maint.action.none"),
            )
        )
        for model in d.models:
            rows.append(
                (
                    tr(f"maint.model.{model.name}"),
                    tr("maint.model.loaded" if model.loaded else "maint.model.not_loaded"),
                    "",
                )
            )
        if d.disk.low:
            attention.add(len(rows))
        rows.append(
            (
                tr("maint.disk"),
                tr("maint.disk.space", free=_size(d.disk.free_bytes), total=_size(d.disk.total_bytes)),
                tr("maint.disk.low") if d.disk.low else d.disk.path,
            )
        )
        for pkg in d.packages:
            if pkg.stale:
                attention.add(len(rows))
            rows.append(
                (
                    tr("maint.package", id=pkg.item_id),
                    tr("maint.package.version", version=pkg.version, at=_when(pkg.last_verified_at)),
                    tr("maint.package.stale") if pkg.stale else tr("maint.action.none"),
                )
            )
        if d.update is not None:
            rows.extend(_update_rows(d.update, attention, len(rows)))
        _fill(self.diag, rows, attention)

    def _render_consumables(self, c: Consumables) -> None:
        rows: list[tuple[str, ...]] = [
            (
                tr("maint.paper"),
                tr(f"maint.paper.{c.receipt_paper.value}"),
                tr(f"maint.action.{c.receipt_action.value}"),
            ),
            (
                tr("maint.device.receipt_printer"),
                tr(f"maint.status.{c.receipt_status.value}"),
                tr("maint.pending_job") if c.receipt_job_pending else "",
            ),
            (
                tr("maint.device.document_printer"),
                tr(f"maint.status.{c.document_printer_status.value}"),
                tr(f"maint.action.{c.document_printer_action.value}"),
            ),
        ]
        attention = {i for i, r in enumerate(rows) if r[2] and r[2] != tr("maint.action.none")}
        _fill(self.cons, rows, attention)

    def _render_printed(self, r: TestPrintResult) -> None:
        text = tr("maint.test_print.ok") if r.printed else tr("maint.test_print.failed", error=r.error or "")
        self.print_result.setText(text)
        if self.m is not None:
            self.m.refresh_consumables()

    def _render_sync(self, result: dict[str, str]) -> None:
        self.sync_button.setEnabled(True)
        if "error" in result:
            self.message.setText(tr("maint.sync.error", error=result["error"]))
        _fill(self.sync_table, sorted((k, v) for k, v in result.items() if k != "error"))

    def _render_outbox(self, view: OutboxView) -> None:
        self.counts.setText(
            tr(
                "maint.outbox.counts",
                pending=view.counts.get(OutboxState.PENDING, 0),
                sent=view.counts.get(OutboxState.SENT, 0),
                dead=view.counts.get(OutboxState.DEAD, 0),
            )
        )
        if not view.dead:
            self.counts.setText(self.counts.text() + "\n" + tr("maint.outbox.none"))
        _fill(self.dead, [(d.case_id, d.item_id, str(d.attempts), d.error, "") for d in view.dead])
        for r, d in enumerate(view.dead):
            b = BigButton(tr("maint.requeue"), role="secondary")
            b.setMinimumWidth(160)
            b.setObjectName(f"maintRequeue:{d.case_id}")
            b.clicked.connect(lambda _c=False, case=d.case_id: self._on_requeue(case))
            self.dead.setCellWidget(r, 4, b)
        self.requeue_all.setEnabled(bool(view.dead))

    def _render_logs(self, tail: LogTail) -> None:
        self.app_log.setPlainText("\n".join(tail.app) or tr("maint.logs.empty"))
        self.wire_log.setPlainText("\n".join(tail.wire) or tr("maint.logs.empty"))
        for w in (self.app_log, self.wire_log):
            w.verticalScrollBar().setValue(w.verticalScrollBar().maximum())
