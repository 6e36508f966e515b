"""Maintenance mode for hall staff (no Qt): diagnostics, consumables, sync, outbox, logs.

Staff unlock it with their staff card and PIN (:mod:`kiosk.maintenance.staff_watcher` sees the
card and calls :meth:`MaintenanceService.card_verified`; the screen's PIN pad calls
:meth:`MaintenanceService.submit_pin`; lockout and alarm in :mod:`kiosk.maintenance.access`); the
staff member's role decides which functions are open (:data:`kiosk.maintenance.access.ROLE_FUNCTIONS`).
It is entered only from the attract screen or out of service, never in the middle of a citizen's
session, and left to the attract screen when staff press "leave", pull the card, or leave it idle.

What staff see is counts, case ids, states, versions and error texts: never a citizen's name, ID
number, address or phone.  Case payloads are not read here; error texts from the platform are
passed through :func:`kiosk.logsetup.redact` (the platform may echo a field).  Logs are shown as
written: they are already redacted by :mod:`kiosk.logsetup`.

Every staff action (entering, each view, sync, requeue, test print, leaving) and every refused
unlock goes to the hash-chained audit trail with the staff id.  The methods block (device,
network, disk) and run on a worker thread.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devices.base import DeviceError, DeviceStatus, RequiredAction
from devices.interfaces import ReceiptDoc, ReceiptLine
from kiosk import logsetup
from kiosk.maintenance.access import ROLE_FUNCTIONS, Function, PinOutcome, StaffAccess
from kiosk.maintenance.staff_card import Role, StaffCardRefusal, StaffCardResult
from kiosk.review.sync import last_verified_at
from kiosk.session.events import (
    MaintenanceEntered,
    MaintenanceLeft,
    SessionEvent,
    StaffCardRefused,
    StaffPinRequired,
)
from kiosk.session.machine import TRANSITIONS, EndReason, Step, TransitionError
from offline_cache.store import OutboxState, StorageError

if TYPE_CHECKING:
    from kiosk.cases.outbox import OutboxDrainer
    from kiosk.cases.platform_client import PlatformClient
    from kiosk.session.coordinator import SessionCoordinator

log = logging.getLogger(__name__)

#: Below this much free space (or this fraction) the data disk is reported low.
DISK_LOW_BYTES = 1 << 30
DISK_LOW_FRACTION = 0.05
#: Devices whose NO_MEDIA means "out of paper" (for the others it means "no card/page": normal).
_MEDIA_DEVICES = frozenset({"receipt_printer", "document_printer"})


class MaintenanceLocked(Exception):
    """A maintenance action was asked for outside maintenance mode (a bug in the caller)."""


class MaintenanceForbidden(MaintenanceLocked):
    """The staff member's role does not allow this function (audited)."""


class LeaveReason(enum.Enum):
    """Why maintenance mode ended.  Values are stable identifiers (audit trail)."""

    STAFF = "staff"  # staff pressed "leave"
    CARD_REMOVED = "card_removed"
    IDLE_TIMEOUT = "idle_timeout"
    SHUTDOWN = "shutdown"


class Paper(enum.Enum):
    """Receipt paper as the printer's paper sensor reports it."""

    PRESENT = "present"
    LOW = "low"
    OUT = "out"
    UNKNOWN = "unknown"  # printer offline or in error: the sensor cannot be read


# --------------------------------------------------------------------------- values
@dataclass(frozen=True)
class DeviceDiagnosis:
    name: str
    status: DeviceStatus
    action: RequiredAction


@dataclass(frozen=True)
class PlatformDiagnosis:
    reachable: bool
    latency_ms: float | None
    error: str | None
    clock_skew_s: float | None = None  # platform clock minus ours, from its Date header


@dataclass(frozen=True)
class ModelDiagnosis:
    name: str  # face | ocr
    loaded: bool


@dataclass(frozen=True)
class DiskDiagnosis:
    path: str
    total_bytes: int
    free_bytes: int

    @property
    def low(self) -> bool:
        return self.free_bytes < DISK_LOW_BYTES or self.free_bytes < self.total_bytes * DISK_LOW_FRACTION


@dataclass(frozen=True)
class PackageDiagnosis:
    item_id: str
    version: str
    last_verified_at: float | None  # epoch s of the last verified sync, None = never
    max_offline_days: int
    stale: bool  # past max_offline_days: its decisions go to manual review


@dataclass(frozen=True)
class Diagnostics:
    devices: tuple[DeviceDiagnosis, ...]
    platform: PlatformDiagnosis
    models: tuple[ModelDiagnosis, ...]
    disk: DiskDiagnosis
    packages: tuple[PackageDiagnosis, ...]
    taken_at: float
    update: Any = None  # kiosk.update.report.UpdateView (the app's updates), added by the UI's facade

    @property
    def faults(self) -> int:
        """How many things need someone (device actions, platform, disk, stale packages)."""
        n = sum(1 for d in self.devices if d.action is not RequiredAction.NONE)
        n += 0 if self.platform.reachable else 1
        n += 1 if self.disk.low else 0
        return n + sum(1 for p in self.packages if p.stale)


@dataclass(frozen=True)
class Consumables:
    receipt_status: DeviceStatus
    receipt_paper: Paper
    receipt_action: RequiredAction
    receipt_job_pending: bool  # a receipt that did not print to the end is kept for reprinting
    document_printer_status: DeviceStatus
    document_printer_action: RequiredAction


@dataclass(frozen=True)
class DeadLetterView:
    case_id: str
    item_id: str
    created_at: float
    attempts: int
    error: str  # redacted


@dataclass(frozen=True)
class OutboxView:
    counts: Mapping[OutboxState, int]
    dead: tuple[DeadLetterView, ...]


@dataclass(frozen=True)
class LogTail:
    app: tuple[str, ...]
    wire: tuple[str, ...]


@dataclass(frozen=True)
class TestPrintResult:
    printed: bool
    status: DeviceStatus
    action: RequiredAction
    error: str | None


# --------------------------------------------------------------------------- helpers
def required_action(name: str, status: DeviceStatus) -> RequiredAction:
    """What clears ``status`` of device ``name`` (XFS4IoT-style required action)."""
    if status is DeviceStatus.READY:
        return RequiredAction.NONE
    if status is DeviceStatus.BUSY:
        return RequiredAction.WAIT
    if status in (DeviceStatus.NO_MEDIA, DeviceStatus.MEDIA_LOW):
        return RequiredAction.CLEAR_BY_STAFF if name in _MEDIA_DEVICES else RequiredAction.NONE
    if status is DeviceStatus.USER_ERROR:
        return RequiredAction.RETRY
    return RequiredAction.MAINTENANCE  # OFFLINE, HARDWARE_ERROR: check the cable/power, call the engineer


def paper_state(status: DeviceStatus) -> Paper:
    return {
        DeviceStatus.READY: Paper.PRESENT,
        DeviceStatus.BUSY: Paper.PRESENT,
        DeviceStatus.MEDIA_LOW: Paper.LOW,
        DeviceStatus.NO_MEDIA: Paper.OUT,
    }.get(status, Paper.UNKNOWN)


def tail_lines(path: Path, n: int, block: int = 65536) -> list[str]:
    """The last ``n`` lines of a text file (empty when it does not exist), read from the end."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            end = fh.tell()
            data = b""
            pos = end
            while pos > 0 and data.count(b"\n") <= n:
                step = min(block, pos)
                pos -= step
                fh.seek(pos)
                data = fh.read(step) + data
    except FileNotFoundError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    return lines[-n:]


# --------------------------------------------------------------------------- service
class MaintenanceService:
    """Maintenance mode over a running :class:`~kiosk.session.coordinator.SessionCoordinator`."""

    def __init__(
        self,
        kiosk: SessionCoordinator,
        *,
        client: PlatformClient,
        drainer: OutboxDrainer,
        log_dir: Path,
        data_dir: Path,
        clock: Callable[[], float] = time.time,
        access: StaffAccess | None = None,
        allow_card_only: bool = False,
    ) -> None:
        self.kiosk = kiosk
        self.client = client
        self.drainer = drainer
        self.log_dir = log_dir
        self.data_dir = data_dir
        self._clock = clock
        self.access = access or StaffAccess(kiosk.store, clock=clock, allow_card_only=allow_card_only)
        self._lock = threading.RLock()
        self._staff_id: str | None = None
        self._role: Role | None = None
        self._by_card = False
        self.staff_reader_status: Callable[[], DeviceStatus] | None = None  # set by the watcher
        kiosk.machine.subscribe(self._on_step)

    # ------------------------------------------------------------------ events
    def _publish(self, event: SessionEvent) -> None:
        """On the session's event bus: the UI facade hears maintenance through the same door."""
        self.kiosk.ctx.publish(event)

    def _on_step(self, old: Step, new: Step) -> None:
        # The session left maintenance without leave() (e.g. a reset elsewhere): forget the staff.
        if old is Step.MAINTENANCE and new is not Step.MAINTENANCE:
            with self._lock:
                staff, self._staff_id, self._role = self._staff_id, None, None
            if staff is not None:
                self._audit_as(staff, "maintenance_left", {"reason": "reset"})
                self._publish(MaintenanceLeft(None))

    # ------------------------------------------------------------------ entering and leaving
    @property
    def staff_id(self) -> str | None:
        return self._staff_id

    @property
    def active(self) -> bool:
        return self._staff_id is not None

    @property
    def entered_by_card(self) -> bool:
        return self._by_card

    @property
    def role(self) -> Role | None:
        return self._role

    def allowed(self) -> frozenset[Function]:
        """The functions the staff member in maintenance mode may use (the screen shows these)."""
        return ROLE_FUNCTIONS[self._role] if self._role is not None else frozenset()

    def card_verified(self, result: StaffCardResult, reader: str) -> PinOutcome:
        """The staff card verified (first factor): ask for the PIN ("pin_required"), or refuse
        (locked out, no PIN provisioned, a citizen being served: no PIN pad over a citizen's
        session), or enter when the card alone suffices (demo only)."""
        step = self.kiosk.machine.step
        if step is Step.STAFF_ASSIST:  # staff vouch for a citizen's identity (kiosk/session/steps/staff.py)
            return self.kiosk.staff_assist.card_verified(result, reader, self.access)
        if Step.MAINTENANCE not in TRANSITIONS[step] and result.staff_id is not None:
            details = {"reason": "session_in_progress", "step": step.value}
            self._audit_as(result.staff_id, "maintenance_refused", details)
            return PinOutcome(result.staff_id, None, StaffCardRefusal.SESSION_IN_PROGRESS)
        outcome = self.access.card_verified(result, reader)
        if outcome.ok and outcome.staff_id is not None and outcome.role is not None:
            self.enter(outcome.staff_id, by_card=True, role=outcome.role)
        elif outcome.refusal is not None:
            self._refuse(StaffCardResult(result.staff_id, outcome.refusal), reader, outcome)
        else:
            self.kiosk.store.audit_trail.append(
                "maintenance_pin_required", {"staff": result.staff_id, "reader": reader}
            )
            self._publish(StaffPinRequired(result.staff_id, reader, outcome.attempts_left))
        return outcome

    def submit_pin(self, pin: str) -> PinOutcome:
        """The PIN for the card waiting for it (second factor); enters maintenance mode when right.
        A wrong PIN is audited; the fifth in a row locks the staff id and raises the alarm."""
        pending = self.access.pending
        outcome = self.access.submit_pin(pin)
        if outcome.ok and outcome.staff_id is not None and outcome.role is not None:
            self.enter(outcome.staff_id, by_card=True, role=outcome.role)
        elif outcome.refusal is not None:
            reader = pending.reader if pending is not None else ""
            self._refuse(StaffCardResult(outcome.staff_id, outcome.refusal), reader, outcome)
        return outcome

    def cancel_pin(self) -> bool:
        """Forget a card waiting for its PIN (card removed, or cancel on the PIN pad)."""
        return self.access.cancel()

    def enter(self, staff_id: str, *, by_card: bool = True, role: Role = Role.TECHNICIAN) -> bool:
        """Enter maintenance mode for verified ``staff_id`` (both factors checked by the caller:
        :meth:`card_verified` / :meth:`submit_pin`).  False (audited) mid-session."""
        with self._lock:
            if self._staff_id is not None:
                return self._staff_id == staff_id
            previous = self.kiosk.machine.step
            # Staff is set before the step changes: the screen may ask for diagnostics at once.
            self._staff_id, self._by_card, self._role = staff_id, by_card, role
            try:
                self.kiosk.machine.go(Step.MAINTENANCE)
            except TransitionError:
                self._staff_id, self._by_card, self._role = None, False, None
                self._audit_as(
                    staff_id, "maintenance_refused", {"reason": "session_in_progress", "step": previous.value}
                )
                log.info("maintenance refused for %s: a citizen session is on (%s)", staff_id, previous.value)
                return False
        self._audit_as(
            staff_id, "maintenance_entered", {"from": previous.value, "by_card": by_card, "role": role.value}
        )
        self._publish(MaintenanceEntered(staff_id))
        return True

    def refused(self, result: StaffCardResult, reader: str) -> None:
        """A card on the staff reader did not unlock maintenance mode: audit it (forged and unknown
        cards count towards the lockout)."""
        self._refuse(result, reader, self.access.card_refused(result, reader))
        if self.kiosk.machine.step is Step.STAFF_ASSIST:
            self.kiosk.staff_assist.card_refused(result)

    def _refuse(self, result: StaffCardResult, reader: str, outcome: PinOutcome) -> None:
        reason = result.refusal.value if result.refusal is not None else "unknown"
        details: dict[str, Any] = {"staff": result.staff_id, "reason": reason, "reader": reader}
        if outcome.attempts_left is not None:
            details["attempts_left"] = outcome.attempts_left
        self.kiosk.store.audit_trail.append("maintenance_refused", details)
        if result.refusal is not None:
            self._publish(StaffCardRefused(result.refusal.value, reader))

    def leave(self, reason: LeaveReason = LeaveReason.STAFF) -> bool:
        """Leave maintenance mode to the attract screen.  False when it was not on."""
        with self._lock:
            staff = self._staff_id
            if staff is None:
                return False
            self._staff_id, self._by_card, self._role = None, False, None
        self._audit_as(staff, "maintenance_left", {"reason": reason.value})
        if self.kiosk.machine.step is Step.MAINTENANCE:
            self.kiosk.machine.reset(EndReason.MAINTENANCE_LEFT)
        self._publish(MaintenanceLeft(reason.value))
        return True

    def check_idle(self, timeout_s: float) -> bool:
        """Leave when untouched for ``timeout_s`` (called by the watcher).  True when it left."""
        if self.active and self.kiosk.machine.idle_seconds() >= timeout_s:
            return self.leave(LeaveReason.IDLE_TIMEOUT)
        return False

    def _staff(self, function: Function) -> str:
        staff, role = self._staff_id, self._role
        if staff is None or role is None:
            raise MaintenanceLocked("not in maintenance mode")
        self.kiosk.machine.touch()
        if function not in ROLE_FUNCTIONS[role]:
            self._audit_as(staff, "maintenance_forbidden", {"role": role.value, "function": function.value})
            raise MaintenanceForbidden(f"role {role.value} may not use {function.value}")
        return staff

    def _audit_as(self, staff: str, event: str, details: Mapping[str, Any]) -> None:
        try:
            self.kiosk.store.audit_trail.append(event, {"staff": staff, **details})
        except StorageError:
            log.exception("audit of %s failed", event)
            raise

    def _audit(self, function: Function, event: str, details: Mapping[str, Any] | None = None) -> str:
        staff = self._staff(function)
        self._audit_as(staff, event, details or {})
        return staff

    # ------------------------------------------------------------------ diagnostics
    def diagnostics(self) -> Diagnostics:
        self._audit(Function.DIAGNOSTICS, "maintenance_diagnostics")
        try:
            # The ID card reader reports what it last saw; opening it asks the SAM module now
            # (as try_leave_out_of_service does).  No citizen is being served in maintenance.
            self.kiosk.devices.idcard.open()
        except DeviceError as err:
            log.info("ID card reader probe: %s", err)
        statuses = dict(self.kiosk.devices.statuses())
        for name in ("camera", "document_camera"):
            statuses[name] = self._probe_camera(name)
        if self.staff_reader_status is not None:
            try:
                statuses["staff_card"] = self.staff_reader_status()
            except Exception:
                log.exception("staff card reader status failed")
                statuses["staff_card"] = DeviceStatus.HARDWARE_ERROR
        devices = tuple(DeviceDiagnosis(n, s, required_action(n, s)) for n, s in statuses.items())
        models = tuple(
            ModelDiagnosis(name, bool(getattr(model, "loaded", False)))
            for name, model in (("face", self.kiosk.face.verifier), ("ocr", self.kiosk.materials.ocr))
        )
        usage = shutil.disk_usage(self.data_dir)
        now = self._clock()
        packages = []
        for pkg in self.kiosk.catalogue.items():
            verified = last_verified_at(self.kiosk.store, pkg.id)
            packages.append(
                PackageDiagnosis(
                    pkg.id, pkg.version, verified, pkg.max_offline_days, pkg.offline_too_long(verified, now)
                )
            )
        return Diagnostics(
            devices=devices,
            platform=self._platform({n: s.value for n, s in statuses.items()}),
            models=models,
            disk=DiskDiagnosis(str(self.data_dir), usage.total, usage.free),
            packages=tuple(packages),
            taken_at=now,
        )

    def _probe_camera(self, name: str) -> DeviceStatus:
        """Cameras are closed between citizens (and then say OFFLINE): open one, take a frame."""
        camera = getattr(self.kiosk.devices, name)
        try:
            camera.open()
            camera.read_frame(timeout=3.0)
            return DeviceStatus.READY
        except DeviceError as err:
            log.info("%s probe: %s", name, err)
            return err.status
        finally:
            try:
                camera.close()
            except DeviceError:
                log.warning("%s close failed", name, exc_info=True)

    def _platform(self, statuses: Mapping[str, str]) -> PlatformDiagnosis:
        """Reachability by a real signed call: the heartbeat carrying the device statuses."""
        from kiosk.cases.platform_client import PlatformError

        t0 = time.perf_counter()
        try:
            self.client.heartbeat(statuses)
        except PlatformError as err:
            return PlatformDiagnosis(False, None, logsetup.redact(str(err)), self.client.clock_skew_s)
        return PlatformDiagnosis(True, (time.perf_counter() - t0) * 1000.0, None, self.client.clock_skew_s)

    # ------------------------------------------------------------------ consumables
    def consumables(self) -> Consumables:
        self._audit(Function.CONSUMABLES, "maintenance_consumables")
        printer = self.kiosk.devices.receipt_printer
        r_status = printer.status()
        d_status = self.kiosk.devices.document_printer.status()
        return Consumables(
            receipt_status=r_status,
            receipt_paper=paper_state(r_status),
            receipt_action=required_action("receipt_printer", r_status),
            receipt_job_pending=getattr(printer, "pending_job", None) is not None,
            document_printer_status=d_status,
            document_printer_action=required_action("document_printer", d_status),
        )

    def test_print(self) -> TestPrintResult:
        """Print a test receipt (no personal data on it) and report the printer's state after."""
        staff = self._audit(Function.TEST_PRINT, "maintenance_test_print")
        now = dt.datetime.fromtimestamp(self._clock()).astimezone()
        doc = ReceiptDoc(
            (
                ReceiptLine("text", self.kiosk.config.ui.hall_name, bold=True, align="center"),
                ReceiptLine("text", "打印测试 / TEST PRINT", bold=True, align="center", double=True),
                ReceiptLine("feed"),
                ReceiptLine("text", f"终端 Terminal: {self.kiosk.config.terminal_id}"),
                ReceiptLine("text", f"时间 Time: {now.strftime('%Y-%m-%d %H:%M:%S')}"),
                ReceiptLine("text", f"工作人员 Staff: {staff}"),
                ReceiptLine("text", "中文字符测试：政务服务自助终端"),
                ReceiptLine("qr", f"TEST-{self.kiosk.config.terminal_id}", align="center"),
                ReceiptLine("cut"),
            )
        )
        printer = self.kiosk.devices.receipt_printer
        error: str | None = None
        try:
            printer.print_receipt(doc)
        except DeviceError as err:
            error = str(err)
            log.warning("test print failed: %s", err)
        status = printer.status()
        result = TestPrintResult(error is None, status, required_action("receipt_printer", status), error)
        self._audit_as(
            staff, "maintenance_test_print_done", {"printed": result.printed, "status": status.value}
        )
        return result

    # ------------------------------------------------------------------ sync
    def sync_now(self) -> dict[str, str]:
        """Rule packages and warning lists now (the catalogue's verified sync) and a push of the outbox."""
        staff = self._audit(Function.SYNC, "maintenance_sync")
        try:
            result = self.kiosk.catalogue.sync()
        except Exception as err:  # the sync reports failures itself; anything else is shown, not raised
            log.exception("sync from maintenance failed")
            result = {"error": type(err).__name__}
        self.drainer.kick()
        self._audit_as(staff, "maintenance_sync_done", {"ok": "error" not in result})
        return result

    # ------------------------------------------------------------------ outbox
    def outbox(self) -> OutboxView:
        self._audit(Function.OUTBOX, "maintenance_outbox")
        return self._outbox_view()

    def _outbox_view(self) -> OutboxView:
        """The one outbox (cases, publicity records, revocations, late certificate uploads): counts
        per state; a dead job shows its kind where a case shows its item."""
        outbox = self.kiosk.store.outbox
        dead = tuple(
            DeadLetterView(
                d.entry_id,
                d.item_id if d.item_id is not None else d.kind,
                d.created_at,
                d.attempts,
                logsetup.redact(d.last_error or ""),
            )
            for d in outbox.dead_letters()
        )
        return OutboxView(outbox.counts(), dead)

    def requeue(self, case_id: str) -> bool:
        """Put one dead letter (a case, or another job by its id) back in the queue.  False when
        it is not (or no longer) dead."""
        staff = self._staff(Function.REQUEUE)
        outbox = self.kiosk.store.outbox
        entry = outbox.get(case_id)
        if entry is None or entry.state is not OutboxState.DEAD:
            self._audit_as(staff, "maintenance_requeue", {"case": case_id, "requeued": False})
            return False
        outbox.requeue(case_id, self._clock())
        self._audit_as(staff, "maintenance_requeue", {"case": case_id, "requeued": True})
        self.drainer.kick()
        return True

    def requeue_all(self) -> int:
        staff = self._staff(Function.REQUEUE)
        outbox = self.kiosk.store.outbox
        dead = [d.entry_id for d in outbox.dead_letters(limit=100_000)]
        now = self._clock()
        for entry_id in dead:
            outbox.requeue(entry_id, now)
        self._audit_as(staff, "maintenance_requeue_all", {"count": len(dead)})
        if dead:
            self.drainer.kick()
        return len(dead)

    # ------------------------------------------------------------------ logs
    def logs(self, lines: int | None = None) -> LogTail:
        """The last lines of the app log and the wire log, as written (already redacted)."""
        n = lines or self.kiosk.config.maintenance.log_lines
        self._audit(Function.LOGS, "maintenance_logs", {"lines": n})
        return LogTail(
            tuple(tail_lines(self.log_dir / "kiosk.log", n)),
            tuple(tail_lines(self.log_dir / "wire.log", n)),
        )
