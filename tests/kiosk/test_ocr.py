"""RapidOCR (bundled PP-OCR models) on the rendered demo lease, through the document camera."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import numpy as np
import pytest

from devices.camera.simulator import document_camera, document_source
from kiosk.documents.materials import LEASE_FIELDS, cross_check, extract_fields
from kiosk.documents.ocr import OcrEngine, OcrLine, RapidOcrEngine
from terminal.docgen import render_demo_lease, render_lease

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


def test_recognition_batches_hold_lines_of_nearly_the_same_width() -> None:
    from kiosk.documents.ocr import _width_groups

    crops = [np.zeros((40, w, 3), np.uint8) for w in (400, 100, 410, 1200, 105, 430, 1210)]
    groups = _width_groups(crops)
    assert sorted(i for g in groups for i in g) == list(range(7))
    assert groups == [[1, 4], [0, 2, 5], [3], [6]]  # two 1,440-px lines: over REC_BATCH_PX together
    assert len(_width_groups([np.zeros((40, 400, 3), np.uint8)] * 9)) == 3  # at most 1,600 px a batch
    assert len(_width_groups([np.zeros((40, 100, 3), np.uint8)] * 9)) == 2  # at most 6 a batch


def test_read_regions_of_a_blank_page_and_empty_regions(engine: RapidOcrEngine) -> None:
    blank = np.full((600, 400, 3), 255, np.uint8)
    read = engine.read_regions(blank, [(0.0, 0.0, 1.0, 1.0), (0.5, 0.5, 0.5, 0.9)])
    assert read.lines == [] and not read.turned


def test_ocr_in_a_worker_leaves_the_interpreter_free(engine: RapidOcrEngine) -> None:
    """The Qt event loop needs the GIL: while a page is read on a worker thread, a thread that
    wakes every 5 ms must never wait more than 100 ms (onnxruntime and OpenCV release the GIL;
    the Python pre/post-processing between them runs in short slices)."""
    import time

    page = render_demo_lease()
    done = threading.Event()
    gaps: list[float] = []

    def work() -> None:
        try:
            engine.read_regions(page, [(0.0, 0.0, 1.0, 0.45)])
            engine.recognise(page)
        finally:
            done.set()

    worker = threading.Thread(target=work)
    last = time.perf_counter()
    worker.start()
    while not done.is_set():
        time.sleep(0.005)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    worker.join()
    assert len(gaps) > 20  # the OCR really ran alongside
    assert max(gaps) < 0.1, f"longest stall {max(gaps) * 1000:.0f} ms"


def test_read_regions_leaves_the_whole_page_detection_scale_alone(engine: RapidOcrEngine) -> None:
    det = engine._get_engine()._load_det_model()
    before = (det.limit_side_len, det.limit_type)
    engine.read_regions(render_demo_lease(), [(0.0, 0.0, 1.0, 0.3)])
    assert (det.limit_side_len, det.limit_type) == before == (1152, "max")
