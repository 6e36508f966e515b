"""``PdfSpoolPrinter``: drops each PDF job atomically into a spool directory.

A print server (or a person, in the demo) takes ``<job id>.pdf`` files from the
directory.  The file appears complete or not at all: written to a hidden temp
file, fsynced, then renamed.

A certificate names its holder and carries the full ID number, so a job must not stay
in the spool: one the print server has not taken within ``max_age_s`` (default 15 min)
is deleted, and so is any leftover temp file.  The sweep runs when the printer is
built (start-up), before every new job, and on :meth:`PdfSpoolPrinter.sweep`.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from devices.base import DeviceError, DeviceNotFound, DeviceStatus, MediaError, RequiredAction
from devices.docprinter.queue import require_pdf

logger = logging.getLogger(__name__)

KIND = "document_printer"
#: How long a spooled job may wait for the print server before it is deleted.
DEFAULT_MAX_AGE_S = 900.0


class PdfSpoolPrinter:
    """Implements :class:`devices.interfaces.DocumentPrinter` on a spool directory."""

    kind = KIND

    def __init__(
        self,
        spool_dir: str | os.PathLike[str],
        *,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_age_s <= 0:
            raise ValueError("max_age_s must be positive")
        self.spool_dir = Path(spool_dir)
        self.max_age_s = max_age_s
        self._clock = clock
        self.sweep()

    def sweep(self) -> list[str]:
        """Delete spooled jobs (and temp files) older than ``max_age_s``; returns their names."""
        now = self._clock()
        removed: list[str] = []
        try:
            entries = list(os.scandir(self.spool_dir))
        except OSError:
            return removed
        for entry in entries:
            if not (entry.name.endswith(".pdf") or entry.name.endswith(".pdf.tmp")):
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                if now - entry.stat(follow_symlinks=False).st_mtime < self.max_age_s:
                    continue
                os.unlink(entry.path)
            except FileNotFoundError:
                continue  # the print server took it meanwhile
            except OSError as err:
                logger.warning("spool sweep could not delete a job: %s", err.strerror or err)
                continue
            removed.append(entry.name)
        if removed:
            logger.info(
                "spool sweep deleted %d job file(s) not taken in %.0f s", len(removed), self.max_age_s
            )
        return removed

    def job_completed(self, job_id: str) -> bool:
        """True once the print server took ``<job id>.pdf`` (or the sweep deleted it)."""
        return not (self.spool_dir / f"{job_id}.pdf").exists()

    def status(self) -> DeviceStatus:
        if not self.spool_dir.is_dir():
            return DeviceStatus.OFFLINE
        if not os.access(self.spool_dir, os.W_OK | os.X_OK):
            return DeviceStatus.HARDWARE_ERROR
        return DeviceStatus.READY

    def print_pdf(self, pdf: bytes, title: str) -> str:
        """Spool ``pdf``; returns the job id (the file is ``<spool_dir>/<job id>.pdf``).

        ``title`` is not written anywhere: titles can name the holder."""
        require_pdf(pdf)
        if not self.spool_dir.is_dir():
            raise DeviceNotFound(
                f"spool directory {self.spool_dir} is missing", device=KIND, action=RequiredAction.MAINTENANCE
            )
        self.sweep()
        job_id = f"{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}"
        final = self.spool_dir / f"{job_id}.pdf"
        tmp = self.spool_dir / f".{job_id}.pdf.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(pdf)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, final)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        except OSError as err:
            raise self._spool_error(err) from err
        logger.info("spooled document job %s (%d bytes)", job_id, len(pdf))
        return job_id

    def _spool_error(self, err: OSError) -> DeviceError:
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            return MediaError(
                f"spool directory {self.spool_dir} is full",
                device=KIND,
                action=RequiredAction.CLEAR_BY_STAFF,
                status=DeviceStatus.NO_MEDIA,
            )
        if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return MediaError(
                f"spool directory {self.spool_dir} is not writable",
                device=KIND,
                action=RequiredAction.MAINTENANCE,
                status=DeviceStatus.HARDWARE_ERROR,
            )
        if err.errno in (errno.ENOENT, errno.ENOTDIR):
            return DeviceNotFound(f"spool directory {self.spool_dir} is gone", device=KIND)
        return DeviceError(f"spooling failed: {err.strerror or err}", device=KIND)

    def close(self) -> None:
        """Nothing held open between jobs."""
