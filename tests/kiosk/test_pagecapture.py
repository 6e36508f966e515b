"""Page finding, perspective correction, rotation and legibility on rendered, photographed pages."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.documents.pagecapture import (
    CaptureIssue,
    assess,
    capture_page,
    find_page,
    rectify,
    rotate,
    text_is_sideways,
)
from terminal.docgen import photograph, render_demo_lease

CORNERS = ((0.12, 0.06), (0.86, 0.10), (0.95, 0.93), (0.05, 0.96))


@pytest.fixture(scope="module")
def page() -> np.ndarray:
    return render_demo_lease()


def test_find_page_locates_warped_corners(page: np.ndarray) -> None:
    frame = photograph(page, corners=CORNERS)
    quad = find_page(frame)
    assert quad is not None
    want = [(x * 1536, y * 2048) for x, y in CORNERS]
    for (gx, gy), (wx, wy) in zip(quad, want, strict=True):
        assert abs(gx - wx) < 15 and abs(gy - wy) < 15, (quad, want)


def test_perspective_correction_restores_the_page(page: np.ndarray) -> None:
    frame = photograph(page, corners=CORNERS)
    cap = capture_page(frame)
    assert cap.quad is not None and cap.rotation == 0
    assert CaptureIssue.NO_PAGE not in cap.issues
    h, w = cap.page.shape[:2]
    assert abs(w / h - 1536 / 2048) < 0.06  # page proportions are back
    # compare with the original page at the same size: rows of text line up again
    import cv2

    orig = cv2.cvtColor(cv2.resize(page, (w, h), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    got = cv2.cvtColor(cap.page, cv2.COLOR_BGR2GRAY)
    k = np.ones(15) / 15  # smooth the row-ink profiles: resampling moves rows by a pixel or two
    orig_rows = np.convolve((orig < 128).mean(axis=1), k, "same")
    got_rows = np.convolve((got < 128).mean(axis=1), k, "same")
    corr = float(np.corrcoef(orig_rows, got_rows)[0, 1])
    assert corr > 0.8, corr
    # while the uncorrected frame does not line up
    raw = cv2.cvtColor(cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    assert float(np.corrcoef(orig_rows, np.convolve((raw < 128).mean(axis=1), k, "same"))[0, 1]) < corr


@pytest.mark.parametrize("rotation", [90, 270])
def test_sideways_page_is_detected_and_turned(page: np.ndarray, rotation: int) -> None:
    frame = photograph(
        page, rotation=rotation, corners=((0.03, 0.2), (0.97, 0.22), (0.96, 0.78), (0.04, 0.77))
    )
    cap = capture_page(frame)
    assert cap.rotation in (90, 270)  # the 90/270 ambiguity needs an upright_score (OCR), see test_extractors
    assert cap.page.shape[0] > cap.page.shape[1]  # portrait again
    assert not text_is_sideways(cap.page)
    assert text_is_sideways(rotate(cap.page, 90))


def test_upside_down_resolved_by_score(page: np.ndarray) -> None:
    frame = photograph(page, rotation=180)
    top = page[: page.shape[0] // 3]

    def score(img: np.ndarray) -> float:  # stand-in for OCR confidence: how like the page's top third
        band = img[: img.shape[0] // 3]
        return -abs(float(band.mean()) - float(top.mean()))

    cap = capture_page(frame, upright_score=score)
    assert cap.rotation == 180


def test_scanner_image_is_its_own_page(page: np.ndarray) -> None:
    cap = capture_page(page)
    assert cap.quad is not None
    assert cap.page.shape[:2] == (2048 - 1, 1536 - 1) or abs(cap.page.shape[0] - 2048) <= 2
    assert cap.ok, cap.issues


def test_legibility_codes(page: np.ndarray) -> None:
    good = capture_page(photograph(page))
    assert good.ok, good.issues
    blurred = capture_page(photograph(page, blur=5.0))
    assert CaptureIssue.BLURRED in blurred.issues
    assert blurred.sharpness < good.sharpness
    small = capture_page(photograph(page, corners=((0.3, 0.3), (0.7, 0.3), (0.7, 0.7), (0.3, 0.7))))
    assert CaptureIssue.TOO_SMALL in small.issues
    tilted = capture_page(photograph(page, corners=((0.3, 0.02), (0.98, 0.2), (0.7, 0.98), (0.02, 0.8))))
    assert CaptureIssue.TILTED in tilted.issues
    dark_frame = (photograph(page).astype(np.float32) * 0.2).astype(np.uint8)
    quad = find_page(photograph(page))
    dark_page = rectify(dark_frame, quad) if quad else dark_frame
    issues, _ = assess(dark_frame, quad, dark_page)
    assert CaptureIssue.TOO_DARK in issues
    glare = photograph(page).copy()
    glare[600:900, 500:1000] = 255
    assert CaptureIssue.GLARE in capture_page(glare).issues
    empty = np.full((2048, 1536, 3), 50, np.uint8)
    none = capture_page(empty)
    assert none.issues == (CaptureIssue.NO_PAGE,) and none.quad is None
    assert CaptureIssue.NO_PAGE.prompt[0] and CaptureIssue.BLURRED.value == "blurred"
