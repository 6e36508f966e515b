"""``CupsDocumentPrinter``: certificates and decision documents through a CUPS queue.

Uses the CUPS command-line clients (``lp``, ``lpstat`` from Debian ``cups-client``):
no C extension to build, and the same commands staff use.  The PDF goes to
``lp`` on stdin (never a temp file with a holder's name in it).  A queue that
is disabled (``cupsdisable``: the printer was stopped, e.g. after a jam) or
rejecting jobs (``cupsreject``) raises :class:`QueueStopped`, which staff clear.

CUPS keeps a printed job's document file (``d<job>-001`` under its RequestRoot, the PDF with the
holder's name and full ID number) for ``PreserveJobFiles`` (default one day) and its history
longer.  :meth:`CupsDocumentPrinter.sweep` purges the queue's finished jobs (``cancel -a -x``,
i.e. IPP Cancel-Jobs with purge-jobs) whenever no job of the queue is still pending
(devices/docprinter/queue.py): when the printer is built (start-up), before every new job and
once a job is seen completed.  The queue is the terminal's own; the production cupsd.conf should
also say ``PreserveJobFiles No`` (docs/security.md).
"""

from __future__ import annotations

import logging
import os
import re
import subprocess

from devices.base import DeviceError, DeviceNotFound, DeviceStatus, DeviceTimeout, RequiredAction
from devices.docprinter.queue import SpoolSweep, job_title, queue_name, require_pdf

logger = logging.getLogger(__name__)

KIND = "document_printer"

_REQUEST_ID = re.compile(r"request id is (\S+)")


class QueueStopped(DeviceError):
    """The CUPS queue is disabled or not accepting jobs: staff must re-enable it."""

    default_action = RequiredAction.CLEAR_BY_STAFF
    default_status = DeviceStatus.HARDWARE_ERROR


def _C_LOCALE_ENV() -> dict[str, str]:
    """The environment for lp/lpstat/cancel: CUPS translates their output (``LANG=zh_CN.UTF-8``:
    "打印机 kiosk-a4 目前空闲"), and the answers are parsed, so they run in the C locale (UTF-8)."""
    return {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "LANGUAGE": ""}


class CupsDocumentPrinter:
    """Implements :class:`devices.interfaces.DocumentPrinter` on a CUPS queue.

    ``server`` is ``host:port`` of the CUPS scheduler (``127.0.0.1:631``); ``None``
    uses the client default (``CUPS_SERVER`` / ``client.conf``)."""

    kind = KIND

    def __init__(
        self, queue: str, server: str | None = None, timeout: float = 15.0, *, sweep_at_start: bool = True
    ) -> None:
        self.queue = queue_name(queue)
        self.server = server
        self.timeout = timeout
        self._spool = SpoolSweep(self.queue, self)
        if sweep_at_start:
            self._spool.sweep_if_possible("at start")

    def _job_ids(self, *which: str) -> list[str]:
        done = self._run(["lpstat", *which, "-o", self.queue])
        if done.returncode != 0:
            err = done.stderr.decode("utf-8", "replace").strip()
            raise DeviceNotFound(f"CUPS queue {self.queue} not available: {err}", device=KIND)
        return [
            line.split(" ", 1)[0]
            for line in done.stdout.decode("utf-8", "replace").splitlines()
            if line.strip()
        ]

    def pending_jobs(self) -> list[str]:
        return self._job_ids()

    def finished_jobs(self) -> list[str]:
        return self._job_ids("-W", "completed")

    def purge_finished_jobs(self) -> None:
        done = self._run(["cancel", "-a", "-x", self.queue])
        if done.returncode != 0:
            err = done.stderr.decode("utf-8", "replace").strip()
            raise DeviceError(f"cancel -a -x failed: {err}", device=KIND, action=RequiredAction.RETRY)

    def sweep(self) -> list[str]:
        """Purge the document files and history of the queue's finished jobs (while none is pending);
        returns the purged job ids.  Raises DeviceError when CUPS cannot be asked."""
        return self._spool.sweep()

    def _run(self, args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        cmd = [args[0]] + (["-h", self.server] if self.server else []) + args[1:]
        try:
            return subprocess.run(
                cmd, input=stdin, capture_output=True, timeout=self.timeout, check=False, env=_C_LOCALE_ENV()
            )
        except FileNotFoundError as err:
            raise DeviceNotFound(f"{args[0]} not installed (cups-client)", device=KIND) from err
        except subprocess.TimeoutExpired as err:
            raise DeviceTimeout(
                f"{args[0]} got no answer from CUPS in {self.timeout} s", device=KIND
            ) from err

    def queue_state(self) -> tuple[bool, bool]:
        """``(enabled, accepting)`` of the queue, from ``lpstat -p`` and ``lpstat -a``.

        Raises :class:`DeviceNotFound` when the scheduler or the queue is not there."""
        printers = self._run(["lpstat", "-p", self.queue])
        accepting = self._run(["lpstat", "-a", self.queue])
        out_p = printers.stdout.decode("utf-8", "replace")
        out_a = accepting.stdout.decode("utf-8", "replace")
        if printers.returncode != 0 or not out_p.startswith(f"printer {self.queue} "):
            err = printers.stderr.decode("utf-8", "replace").strip()
            raise DeviceNotFound(f"CUPS queue {self.queue} not available: {err}", device=KIND)
        enabled = " disabled " not in out_p.split("\n", 1)[0]
        return enabled, f"{self.queue} accepting requests" in out_a

    def status(self) -> DeviceStatus:
        try:
            enabled, accepting = self.queue_state()
        except DeviceError:
            return DeviceStatus.OFFLINE
        return DeviceStatus.READY if enabled and accepting else DeviceStatus.HARDWARE_ERROR

    def _require_ready(self) -> None:
        enabled, accepting = self.queue_state()
        if not enabled:
            raise QueueStopped(f"CUPS queue {self.queue} is stopped (disabled)", device=KIND)
        if not accepting:
            raise QueueStopped(f"CUPS queue {self.queue} is rejecting jobs", device=KIND)

    def print_pdf(self, pdf: bytes, title: str) -> str:
        """Submit ``pdf``; returns the CUPS job id (``<queue>-<n>``).

        ``title`` becomes the job name: pass a certificate number, never a holder's name."""
        require_pdf(pdf)
        self._require_ready()
        self.sweep()
        done = self._run(
            ["lp", "-d", self.queue, "-t", job_title(title), "-o", "document-format=application/pdf", "-"],
            pdf,
        )
        out = done.stdout.decode("utf-8", "replace")
        match = _REQUEST_ID.search(out)
        if done.returncode != 0 or match is None:
            err = done.stderr.decode("utf-8", "replace").strip()
            if "not accepting" in err:
                raise QueueStopped(f"CUPS queue {self.queue} is rejecting jobs", device=KIND)
            raise DeviceError(f"lp failed: {err or out}", device=KIND, action=RequiredAction.RETRY)
        job_id = match.group(1)
        logger.info("document job %s sent to CUPS queue %s (%d bytes)", job_id, self.queue, len(pdf))
        return job_id

    def job_completed(self, job_id: str) -> bool:
        """True once CUPS lists ``job_id`` among completed jobs (or it was purged as one); a
        completed job is then purged with the other finished ones."""
        if job_id in self._spool.purged:
            return True
        done = self._run(["lpstat", "-W", "completed", "-o", self.queue])
        completed = any(
            line.split(" ", 1)[0] == job_id for line in done.stdout.decode("utf-8", "replace").splitlines()
        )
        if completed:
            self._spool.sweep_if_possible(f"after job {job_id}")
        return completed

    def close(self) -> None:
        """Nothing held open between jobs."""
