"""``IppDocumentPrinter``: the certificate printer's CUPS queue through IPP (devices/docprinter/ipp.py)
instead of ``lp``/``lpstat``: the queue's state, its ``printer-state-reasons`` keywords and each
job's state, none of them translated, whatever the terminal's locale.

Device status from the printer's attributes (keywords may carry a ``-report``/``-warning``/
``-error`` suffix, RFC 8011 §5.4.12):

==========================================  =====================  ========================
printer                                     status                 print_pdf
==========================================  =====================  ========================
cupsd or the queue not reachable            OFFLINE                DeviceNotFound
reason ``offline`` / ``shutdown``           OFFLINE                DeviceError (wait)
reason ``media-empty`` / ``media-needed``   NO_MEDIA               MediaError (staff)
reason ``media-jam`` / ``door-open`` / ..   HARDWARE_ERROR         MediaError (staff)
stopped (disabled) or not accepting         HARDWARE_ERROR         QueueStopped (staff)
reason ``media-low`` / ``toner-low``        MEDIA_LOW              prints
idle or processing                          READY                  prints
==========================================  =====================  ========================

Finished jobs are purged (Purge-Jobs, as ``cancel -a -x`` does) whenever none is pending, so the
PDF with the holder's data does not stay in cupsd's spool (devices/docprinter/queue.py).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass

from devices.base import DeviceError, DeviceNotFound, DeviceStatus, DeviceTimeout, MediaError, RequiredAction
from devices.docprinter.cups import KIND, QueueStopped
from devices.docprinter.ipp import (
    BOOLEAN,
    GET_JOB_ATTRIBUTES,
    GET_JOBS,
    GET_PRINTER_ATTRIBUTES,
    INTEGER,
    JOB_COMPLETED,
    JOB_TAG,
    KEYWORD,
    MIME,
    NAME,
    PRINT_JOB,
    PRINTER_STOPPED,
    PRINTER_TAG,
    PURGE_JOBS,
    IppClient,
    IppError,
    IppResponse,
    Value,
)
from devices.docprinter.queue import SpoolSweep, job_title, queue_name, require_pdf

logger = logging.getLogger(__name__)

DEFAULT_SOCKET = "/run/cups/cups.sock"
_OFFLINE = ("offline", "shutdown", "connecting-to-device")
_NO_MEDIA = ("media-empty", "media-needed")
_STAFF = ("media-jam", "door-open", "cover-open", "input-tray-missing", "marker-supply-empty", "toner-empty")
_LOW = ("media-low", "toner-low", "marker-supply-low")


def _reason(keyword: str) -> str:
    """``media-empty-error`` -> ``media-empty``."""
    return re.sub(r"-(report|warning|error)$", "", keyword)


@dataclass(frozen=True)
class QueueState:
    state: int  # 3 idle, 4 processing, 5 stopped
    accepting: bool
    reasons: tuple[str, ...]  # without their severity suffix; "none" dropped

    def status(self) -> DeviceStatus:
        reasons = set(self.reasons)
        if reasons & set(_OFFLINE):
            return DeviceStatus.OFFLINE
        if reasons & set(_NO_MEDIA):
            return DeviceStatus.NO_MEDIA
        if reasons & set(_STAFF) or self.state == PRINTER_STOPPED or not self.accepting:
            return DeviceStatus.HARDWARE_ERROR
        if reasons & set(_LOW):
            return DeviceStatus.MEDIA_LOW
        return DeviceStatus.READY


def default_server() -> str:
    """cupsd's Unix socket when there is one (the kiosk user authenticates by its uid), else TCP."""
    return os.environ.get("CUPS_SERVER") or (
        DEFAULT_SOCKET if os.path.exists(DEFAULT_SOCKET) else "127.0.0.1:631"
    )


class IppDocumentPrinter:
    """Implements :class:`devices.interfaces.DocumentPrinter` on a CUPS queue, over IPP."""

    kind = KIND

    def __init__(
        self, queue: str, server: str | None = None, timeout: float = 15.0, *, sweep_at_start: bool = True
    ) -> None:
        self.queue = queue_name(queue)
        self.client = IppClient(server or default_server(), timeout)
        self._spool = SpoolSweep(self.queue, self)
        if sweep_at_start:
            self._spool.sweep_if_possible("at start")

    def _request(
        self, operation: int, attrs: list[tuple[int, str, list[Value]]], document: bytes = b""
    ) -> IppResponse:
        try:
            return self.client.request(operation, self.queue, attrs, document)
        except TimeoutError as err:
            raise DeviceTimeout(f"cupsd at {self.client.server} did not answer", device=KIND) from err
        except IppError as err:
            if err.status == 0x0406:  # client-error-not-found
                raise DeviceNotFound(f"CUPS queue {self.queue} not found", device=KIND) from err
            if err.status == 0x0506:  # server-error-not-accepting-jobs
                raise QueueStopped(f"CUPS queue {self.queue} is rejecting jobs", device=KIND) from err
            raise DeviceError(f"CUPS refused: {err}", device=KIND, action=RequiredAction.RETRY) from err
        except (OSError, ValueError) as err:
            raise DeviceNotFound(f"cupsd at {self.client.server} not reachable: {err}", device=KIND) from err

    def queue_state(self) -> QueueState:
        """The queue's state, accepting flag and state reasons.  Raises DeviceError when cupsd or the
        queue is not there."""
        wanted = ["printer-state", "printer-state-reasons", "printer-is-accepting-jobs"]
        resp = self._request(GET_PRINTER_ATTRIBUTES, [(KEYWORD, "requested-attributes", [*wanted])])
        attrs = resp.group(PRINTER_TAG)
        reasons = tuple(_reason(str(r)) for r in attrs.get("printer-state-reasons", []) if r != "none")
        return QueueState(
            state=int(attrs.get("printer-state", [0])[0]),
            accepting=bool(attrs.get("printer-is-accepting-jobs", [False])[0]),
            reasons=reasons,
        )

    def status(self) -> DeviceStatus:
        try:
            return self.queue_state().status()
        except DeviceError:
            return DeviceStatus.OFFLINE

    def _require_ready(self) -> None:
        state = self.queue_state()
        status = state.status()
        why = ", ".join(state.reasons) or "no reason given"
        if status is DeviceStatus.OFFLINE:
            raise DeviceError(
                f"printer of queue {self.queue} is offline ({why})",
                device=KIND,
                action=RequiredAction.WAIT,
                status=DeviceStatus.OFFLINE,
            )
        if status is DeviceStatus.NO_MEDIA:
            raise MediaError(f"printer of queue {self.queue} is out of paper ({why})", device=KIND)
        if set(state.reasons) & set(_STAFF):
            raise MediaError(
                f"printer of queue {self.queue} needs staff ({why})",
                device=KIND,
                status=DeviceStatus.HARDWARE_ERROR,
            )
        if state.state == PRINTER_STOPPED:
            raise QueueStopped(f"CUPS queue {self.queue} is stopped (disabled)", device=KIND)
        if not state.accepting:
            raise QueueStopped(f"CUPS queue {self.queue} is rejecting jobs", device=KIND)

    def _job_ids(self, which: str) -> list[str]:
        resp = self._request(
            GET_JOBS, [(KEYWORD, "which-jobs", [which]), (KEYWORD, "requested-attributes", ["job-id"])]
        )
        return [
            f"{self.queue}-{int(attrs['job-id'][0])}" for attrs in resp.all(JOB_TAG) if attrs.get("job-id")
        ]

    def pending_jobs(self) -> list[str]:
        return self._job_ids("not-completed")

    def finished_jobs(self) -> list[str]:
        return self._job_ids("completed")

    def purge_finished_jobs(self) -> None:
        self._request(PURGE_JOBS, [(BOOLEAN, "purge-jobs", [True])])

    def sweep(self) -> list[str]:
        """Purge the queue's finished jobs (files and history) while none is pending; the purged
        job ids.  Raises DeviceError when cupsd cannot be asked."""
        return self._spool.sweep()

    def print_pdf(self, pdf: bytes, title: str) -> str:
        """Submit ``pdf``; returns the job id (``<queue>-<n>``).  ``title``: never a holder's name."""
        require_pdf(pdf)
        self._require_ready()
        self.sweep()
        resp = self._request(
            PRINT_JOB,
            [(NAME, "job-name", [job_title(title)]), (MIME, "document-format", ["application/pdf"])],
            pdf,
        )
        job = resp.group(JOB_TAG).get("job-id")
        if not job:
            raise DeviceError(
                "CUPS accepted the job without a job id", device=KIND, action=RequiredAction.RETRY
            )
        job_id = f"{self.queue}-{int(job[0])}"
        logger.info("document job %s sent to CUPS queue %s over IPP (%d bytes)", job_id, self.queue, len(pdf))
        return job_id

    def job_state(self, job_id: str) -> tuple[int, tuple[str, ...]]:
        """``(job-state, job-state-reasons)`` of ``job_id`` (3 pending ... 9 completed)."""
        number = int(job_id.rsplit("-", 1)[1])
        resp = self._request(
            GET_JOB_ATTRIBUTES,
            [
                (INTEGER, "job-id", [number]),
                (KEYWORD, "requested-attributes", ["job-state", "job-state-reasons"]),
            ],
        )
        attrs = resp.group(JOB_TAG)
        return int(attrs.get("job-state", [0])[0]), tuple(str(r) for r in attrs.get("job-state-reasons", []))

    def job_completed(self, job_id: str) -> bool:
        """True once the job is completed (or was purged as one); then finished jobs are purged."""
        if job_id in self._spool.purged:
            return True
        try:
            state, _reasons = self.job_state(job_id)
        except DeviceNotFound:
            return False
        if state != JOB_COMPLETED:
            return False
        self._spool.sweep_if_possible(f"after job {job_id}")
        return True

    def close(self) -> None:
        """Nothing held open between requests."""
