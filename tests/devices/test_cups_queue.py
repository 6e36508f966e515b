"""The spool sweep both CUPS printers share (devices/docprinter/queue.py), on its edges: a pending
job holds every purge back, a refused purge marks nothing purged, a cupsd that cannot be asked at
start is said in the log.  The sweep itself runs against a real cupsd in tests/devices/test_cups.py
(lp/lpstat) and tests/devices/test_cups_ipp.py (IPP); here the queue is a list, at the unit's edge."""

from __future__ import annotations

import logging

import pytest

from devices.base import DeviceError, DeviceNotFound
from devices.docprinter.queue import SpoolSweep, job_title, queue_name


class Jobs:
    def __init__(self, pending: list[str], finished: list[str], refuse: bool = False) -> None:
        self.pending, self.finished, self.refuse = pending, finished, refuse
        self.purges = 0

    def pending_jobs(self) -> list[str]:
        return list(self.pending)

    def finished_jobs(self) -> list[str]:
        return list(self.finished)

    def purge_finished_jobs(self) -> None:
        if self.refuse:
            raise DeviceError("cupsd refused", device="document_printer")
        self.purges += 1
        self.finished = []


def test_finished_jobs_are_purged_only_while_none_is_pending() -> None:
    jobs = Jobs(pending=["q-3"], finished=["q-1", "q-2"])
    sweep = SpoolSweep("q", jobs)
    assert sweep.sweep() == [] and jobs.purges == 0  # q-3's file is still needed
    jobs.pending = []
    assert sweep.sweep() == ["q-1", "q-2"] and jobs.purges == 1
    assert sweep.purged == {"q-1", "q-2"}  # a purged job was a completed one
    assert sweep.sweep() == [] and jobs.purges == 1  # nothing left to purge: no request


def test_a_refused_purge_marks_nothing_purged(caplog: pytest.LogCaptureFixture) -> None:
    sweep = SpoolSweep("q", Jobs(pending=[], finished=["q-1"], refuse=True))
    with caplog.at_level(logging.WARNING):
        assert sweep.sweep() == []
    assert sweep.purged == set() and "purging finished CUPS jobs failed" in caplog.text


def test_a_cupsd_that_cannot_be_asked_stops_only_the_sweep(caplog: pytest.LogCaptureFixture) -> None:
    class Gone(Jobs):
        def pending_jobs(self) -> list[str]:
            raise DeviceNotFound("no cupsd", device="document_printer")

    sweep = SpoolSweep("q", Gone([], []))
    with pytest.raises(DeviceNotFound):
        sweep.sweep()
    with caplog.at_level(logging.INFO):
        sweep.sweep_if_possible("at start")
    assert "CUPS sweep at start not possible" in caplog.text and "no cupsd" in caplog.text


def test_queue_names_and_job_titles() -> None:
    assert queue_name("kiosk-a4_1.x") == "kiosk-a4_1.x"
    for bad in ("", "a b", "a/b", "-o x", "队列"):
        with pytest.raises(ValueError, match="bad CUPS queue name"):
            queue_name(bad)
    assert job_title("YDZ 2026/001") == "YDZ_2026_001"
    assert job_title("") == "document" and len(job_title("x" * 100)) == 64
