"""What the two CUPS document printers share, whichever way they talk to cupsd (``lp``/``lpstat``
in devices/docprinter/cups.py, IPP in devices/docprinter/ipp_printer.py): the queue name and job
title rules, and the sweep that purges finished jobs from cupsd's spool.

CUPS keeps a printed job's document (the PDF with the holder's name and full ID number) for
``PreserveJobFiles`` and its history longer.  :class:`SpoolSweep` purges the queue's finished jobs
whenever none is pending (a pending job's file is still needed): when the printer is built
(start-up), before every new job and once a job is seen completed.
"""

from __future__ import annotations

import logging
import re
from typing import Protocol

from devices.base import DeviceError

logger = logging.getLogger(__name__)

_QUEUE_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def queue_name(queue: str) -> str:
    """``queue`` when it is a CUPS queue name this terminal accepts (no spaces, slashes or options),
    else ValueError."""
    if not _QUEUE_NAME.fullmatch(queue):
        raise ValueError(f"bad CUPS queue name {queue!r}")
    return queue


def job_title(title: str) -> str:
    """The job name cupsd is given: ``title`` (a certificate number, never a holder's name) in
    plain ASCII, at most 64 characters."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", title)[:64] or "document"


def require_pdf(pdf: bytes) -> None:
    if not pdf.startswith(b"%PDF-"):
        raise ValueError("not a PDF document")


class QueueJobs(Protocol):
    """A CUPS queue's jobs as one printer asks for them.  Listing raises DeviceError when cupsd
    or the queue cannot be asked; purging raises DeviceError when cupsd refuses."""

    def pending_jobs(self) -> list[str]: ...

    def finished_jobs(self) -> list[str]: ...

    def purge_finished_jobs(self) -> None: ...


class SpoolSweep:
    """Purges the finished jobs of ``queue`` (their files and history) while none is pending, and
    remembers which it purged (a purged job was a completed one)."""

    def __init__(self, queue: str, jobs: QueueJobs) -> None:
        self.queue = queue
        self.jobs = jobs
        self.purged: set[str] = set()

    def sweep(self) -> list[str]:
        """The purged job ids.  Raises DeviceError when cupsd cannot be asked."""
        if self.jobs.pending_jobs():  # a job still printing: its file is needed, purge next time
            return []
        finished = self.jobs.finished_jobs()
        if not finished:
            return []
        try:
            self.jobs.purge_finished_jobs()
        except DeviceError as err:
            logger.warning("purging finished CUPS jobs failed: %s", err)
            return []
        self.purged.update(finished)
        logger.info("purged %d finished job(s) from CUPS queue %s", len(finished), self.queue)
        return finished

    def sweep_if_possible(self, when: str) -> None:
        """Sweep where a cupsd that cannot be asked is no error of its own (start-up, after a job
        completed): it is said in the log and the next sweep tries again."""
        try:
            self.sweep()
        except DeviceError as err:
            logger.info("CUPS sweep %s not possible: %s", when, err)
