"""Page capture from a document-camera frame: find the page, correct it, check legibility.

:func:`find_page` looks for the largest bright quadrilateral (the sheet on the
camera's darker base plate); :func:`rectify` warps it to an upright rectangle;
:func:`normalise_rotation` turns a page lying sideways (90/270 degrees) by the
direction of its text lines, and upside-down pages (180) when an
``upright_score`` callable (e.g. OCR confidence on a strip) is given;
:func:`assess` returns the legibility problems as stable codes the screen can
speak (:class:`CaptureIssue`).  :func:`capture_page` chains all of them.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from kiosk.i18n import tr

if TYPE_CHECKING:
    import numpy.typing as npt

    Frame = npt.NDArray[np.uint8]

logger = logging.getLogger(__name__)

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]

#: Working width for page finding (frames are downscaled to this first: fast and robust).
_FIND_WIDTH = 640


class CaptureIssue(enum.Enum):
    """Why a frame is not (yet) a good page capture; values are stable identifiers."""

    NO_PAGE = "no_page"
    TOO_SMALL = "too_small"
    TILTED = "tilted"
    BLURRED = "blurred"
    GLARE = "glare"
    TOO_DARK = "too_dark"

    @property
    def prompt_key(self) -> str:
        """The catalogue key of the guidance for the screen and voice (kiosk/i18n.py)."""
        return f"materials.capture_issue.{self.value}"

    @property
    def prompt(self) -> tuple[str, str]:
        """(Chinese, English) text of :attr:`prompt_key`."""
        return (tr(self.prompt_key, "zh"), tr(self.prompt_key, "en"))


@dataclass(frozen=True)
class LegibilityThresholds:
    min_area_fraction: float = 0.20  # page area / frame area
    max_tilt_deg: float = 12.0  # page edge angle from the frame axes
    min_sharpness: float = 60.0  # variance of the Laplacian on the rectified page (gray)
    max_glare_fraction: float = 0.02  # saturated pixels on the page
    min_mean_brightness: float = 70.0


@dataclass(frozen=True)
class PageCapture:
    """Result of :func:`capture_page`: the corrected page (or the frame when no page was found)."""

    page: Frame
    quad: Quad | None  # page corners in the frame (TL, TR, BR, BL), None when not found
    rotation: int  # degrees clockwise applied to make the page upright (0, 90, 180, 270)
    issues: tuple[CaptureIssue, ...]
    sharpness: float

    @property
    def ok(self) -> bool:
        return not self.issues


def _order_corners(pts: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """TL, TR, BR, BL from four unordered points."""
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    out = np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]])
    return out.astype(np.float32)


def find_page(frame: Frame, min_area_fraction: float = 0.05) -> Quad | None:
    """Corners (TL, TR, BR, BL, frame pixels) of the page in ``frame``, or None.

    The page is the largest convex quadrilateral found among the contours of a
    brightness threshold (Otsu) and of edges; a frame that *is* the page (a
    scanner image, nothing around it) yields the frame's own corners."""
    h, w = frame.shape[:2]
    scale = _FIND_WIDTH / max(w, h)
    small = cv2.resize(frame, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    gray = cv2.GaussianBlur(gray, (5, 5), 0)
    sh, sw = gray.shape
    if float(gray.std()) < 8.0:  # a featureless frame: empty plate, lens covered
        return None
    border = np.concatenate([gray[0, :], gray[-1, :], gray[:, 0], gray[:, -1]])
    _, otsu = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    edge_bright = float(np.mean(border)) > 0.85 * 255 or float(np.mean(otsu[np.r_[0, sh - 1], :])) > 200
    if edge_bright and float(np.mean(gray)) > 120:
        # bright up to the frame edge: the frame is the page (flatbed scan, cropped photo)
        return ((0.0, 0.0), (w - 1.0, 0.0), (w - 1.0, h - 1.0), (0.0, h - 1.0))
    closed = cv2.morphologyEx(otsu, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    edges = cv2.dilate(cv2.Canny(gray, 40, 120), np.ones((3, 3), np.uint8))
    best: npt.NDArray[np.float32] | None = None
    best_area = min_area_fraction * sw * sh
    for mask in (closed, edges):
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in contours:
            area = cv2.contourArea(c)
            if area <= best_area:
                continue
            hull = cv2.convexHull(c)
            approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
            if len(approx) != 4:
                rect = cv2.minAreaRect(hull)
                if cv2.contourArea(hull) < 0.9 * rect[1][0] * rect[1][1]:
                    continue
                approx = cv2.boxPoints(rect).reshape(-1, 1, 2)
            best = approx.reshape(4, 2).astype(np.float32)
            best_area = area
    if best is None:
        return None
    pts = _order_corners(best / scale)
    return (
        (float(pts[0][0]), float(pts[0][1])),
        (float(pts[1][0]), float(pts[1][1])),
        (float(pts[2][0]), float(pts[2][1])),
        (float(pts[3][0]), float(pts[3][1])),
    )


def rectify(frame: Frame, quad: Quad, out_width: int | None = None) -> Frame:
    """Warp the quadrilateral to an upright rectangle (perspective correction and crop).

    The output keeps the page's measured aspect ratio; its width is the longer of
    the two horizontal edges (no upscaling) unless ``out_width`` is given."""
    src = np.array(quad, dtype=np.float32)
    top = float(np.linalg.norm(src[1] - src[0]))
    bottom = float(np.linalg.norm(src[2] - src[3]))
    left = float(np.linalg.norm(src[3] - src[0]))
    right = float(np.linalg.norm(src[2] - src[1]))
    w = max(top, bottom)
    h = max(left, right)
    if out_width is not None:
        h = h * out_width / w
        w = float(out_width)
    wi, hi = max(1, round(w)), max(1, round(h))
    dst = np.array([[0, 0], [wi - 1, 0], [wi - 1, hi - 1], [0, hi - 1]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(frame, m, (wi, hi), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(out, dtype=np.uint8)


def rotate(img: Frame, degrees_cw: int) -> Frame:
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    if degrees_cw % 360 == 0:
        return img
    return np.asarray(cv2.rotate(img, codes[degrees_cw % 360]), dtype=np.uint8)


def _line_score(gray: npt.NDArray[np.uint8]) -> float:
    """How strongly ink forms horizontal rows: variance of the row-ink profile, normalised."""
    ink = (gray < 128).astype(np.float32)
    rows = ink.mean(axis=1)
    mean = float(rows.mean())
    return float(rows.std()) / mean if mean > 1e-6 else 0.0


def text_is_sideways(page: Frame) -> bool:
    """True when the page's text lines run vertically (page lying at 90 or 270 degrees)."""
    gray = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY) if page.ndim == 3 else page
    scale = 800 / max(gray.shape)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    binar = np.asarray(
        cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 31, 15), np.uint8
    )
    # smear characters along the candidate line direction so a row of glyphs becomes one band
    horiz = _line_score(binar)
    vert = _line_score(np.ascontiguousarray(binar.T))
    return vert > horiz * 1.15


def normalise_rotation(
    page: Frame, upright_score: Callable[[Frame], float] | None = None
) -> tuple[Frame, int]:
    """Turn the page upright; returns (page, degrees clockwise applied).

    Sideways pages are detected from text-line direction; the remaining 0/180 (or
    90/270) ambiguity is resolved with ``upright_score`` (higher = more upright,
    e.g. mean OCR confidence of a strip) when given, else left as is."""
    rotation = 0
    if text_is_sideways(page):
        rotation = 90
    candidate = rotate(page, rotation)
    if upright_score is not None:
        flipped = rotate(candidate, 180)
        if upright_score(flipped) > upright_score(candidate) + 0.05:
            rotation = (rotation + 180) % 360
            candidate = flipped
    return candidate, rotation


def sharpness(img: Frame) -> float:
    """Variance of the Laplacian of the gray image at ~1000 px width (higher = sharper)."""
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    scale = 1000 / max(gray.shape)
    if scale < 1:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def _tilt_deg(quad: Quad) -> float:
    pts = np.array(quad, dtype=np.float64)
    worst = 0.0
    for a, b in ((0, 1), (3, 2)):
        dx, dy = pts[b] - pts[a]
        worst = max(worst, abs(float(np.degrees(np.arctan2(dy, dx)))))
    for a, b in ((0, 3), (1, 2)):
        dx, dy = pts[b] - pts[a]
        worst = max(worst, abs(float(np.degrees(np.arctan2(dx, dy)))))
    return worst


def assess(
    frame: Frame, quad: Quad | None, page: Frame | None, thresholds: LegibilityThresholds | None = None
) -> tuple[tuple[CaptureIssue, ...], float]:
    """Legibility problems of a capture (most important first) and the page sharpness."""
    t = thresholds or LegibilityThresholds()
    if quad is None or page is None:
        return (CaptureIssue.NO_PAGE,), 0.0
    issues: list[CaptureIssue] = []
    fh, fw = frame.shape[:2]
    area = cv2.contourArea(np.array(quad, dtype=np.float32))
    if area < t.min_area_fraction * fw * fh:
        issues.append(CaptureIssue.TOO_SMALL)
    if _tilt_deg(quad) > t.max_tilt_deg:
        issues.append(CaptureIssue.TILTED)
    gray = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY) if page.ndim == 3 else page
    if float(gray.mean()) < t.min_mean_brightness:
        issues.append(CaptureIssue.TOO_DARK)
    if float(np.mean(gray >= 253)) > t.max_glare_fraction:
        issues.append(CaptureIssue.GLARE)
    sharp = sharpness(page)
    if sharp < t.min_sharpness:
        issues.append(CaptureIssue.BLURRED)
    return tuple(issues), sharp


def capture_page(
    frame: Frame,
    upright_score: Callable[[Frame], float] | None = None,
    thresholds: LegibilityThresholds | None = None,
) -> PageCapture:
    """Find, rectify, rotate and assess the page in one document-camera frame."""
    quad = find_page(frame)
    if quad is None:
        issues, sharp = assess(frame, None, None, thresholds)
        return PageCapture(frame, None, 0, issues, sharp)
    page = rectify(frame, quad)
    page, rotation = normalise_rotation(page, upright_score)
    issues, sharp = assess(frame, quad, page, thresholds)
    logger.info(
        "page capture: rotation=%d issues=%s sharpness=%.0f", rotation, [i.value for i in issues], sharp
    )
    return PageCapture(page, quad, rotation, issues, sharp)
