"""RapidOCR (bundled PP-OCR models) on the rendered demo lease, through the document camera."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import numpy as np
import pytest

from devices.camera.simulator import document_camera, document_source
from kiosk.docgen import render_demo_lease, render_lease
from kiosk.materials import LEASE_FIELDS, cross_check, extract_fields
from kiosk.ocr import OcrEngine, OcrLine, RapidOcrEngine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine() -> RapidOcrEngine:
    eng = RapidOcrEngine()
    t = threading.Thread(target=eng.load)
    t.start()
    t.join()
    assert eng.loaded
    return eng


def test_rendered_lease_via_document_camera(engine: RapidOcrEngine, tmp_path: Path) -> None:
    assert isinstance(engine, OcrEngine)
    cam = document_camera(document_source(render_demo_lease(), tmp_path))
    cam.open()
    try:
        page = cam.read_frame(timeout=2.0)
    finally:
        cam.close()
    assert page.shape == (2048, 1536, 3)
    lines = engine.recognise(page)
    assert all(isinstance(line, OcrLine) and 0 < line.confidence <= 1 for line in lines)
    assert lines[0].text == "房屋租赁合同"  # reading order: title first
    fields = extract_fields(lines, LEASE_FIELDS)
    assert fields["lessee"].value == "李建国"
    assert fields["premises_address"].value == "山东省德州市德城区新华路26号"
    assert fields["term_end"].value == "2027-12-31"
    assert fields["term_start"].value == "2025-01-01"
    assert fields["lessee_id"].value == "37140219880721003X"
    assert fields["lessee"].confidence > 0.8
    xs = [p[0] for p in fields["lessee"].box]
    assert 100 < min(xs) < max(xs) < 1400
    checks = cross_check(fields, {"lessee": "李建国", "premises_address": "山东省德州市德城区新华路26号"})
    assert all(c.match for c in checks), checks


def test_other_lease_is_read_and_mismatch_detected(engine: RapidOcrEngine) -> None:
    page = render_lease(
        "周秀英",
        "王晓明",
        "371428197911020016",
        "山东省德州市武城县广运街5号",
        dt.date(2024, 3, 1),
        dt.date(2026, 2, 28),
    )
    fields = extract_fields(engine.recognise(page), LEASE_FIELDS)
    assert fields["lessee"].value == "王晓明"
    assert fields["term_end"].value == "2026-02-28"
    checks = cross_check(fields, {"lessee": "李建国", "premises_address": "山东省德州市武城县广运街5号"})
    assert [c.match for c in checks] == [False, True]


def test_blank_page_has_no_lines(engine: RapidOcrEngine) -> None:
    assert engine.recognise(np.full((400, 300, 3), 255, np.uint8)) == []
