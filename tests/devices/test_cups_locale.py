"""The CUPS document printer reads its queue under a Chinese locale (CUPS translates lpstat)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from devices.base import DeviceStatus
from devices.docprinter.cups import CupsDocumentPrinter
from tests.cupsd import private_cupsd

QUEUE = f"kiosk-a4-zh{os.getpid()}"


@pytest.fixture(scope="module")
def cupsd() -> Iterator[str]:
    with private_cupsd(QUEUE, "cups-zh-") as (server, _pdf):
        yield server


def test_the_queue_answers_ready_on_a_chinese_locale_terminal(
    cupsd: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    # CUPS does translate here: what the English parser would have read
    raw = subprocess.run(["lpstat", "-h", cupsd, "-p", QUEUE], capture_output=True, text=True, check=True)
    assert not raw.stdout.startswith(f"printer {QUEUE} ")
    printer = CupsDocumentPrinter(QUEUE, cupsd, sweep_at_start=False)
    assert printer.queue_state() == (True, True)
    assert printer.status() is DeviceStatus.READY
