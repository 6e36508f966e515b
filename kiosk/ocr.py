"""OCR of scanned materials: the :class:`OcrEngine` protocol and RapidOCR behind it.

``RapidOcrEngine`` wraps ``rapidocr.RapidOCR`` (3.x) with the PP-OCR ONNX
models that ship inside the rapidocr wheel: nothing is downloaded.  The engine
is built once, lazily and thread-safely; :meth:`RapidOcrEngine.load` warms it up
(and runs one tiny inference so the ONNX sessions exist) from a background
thread.  Recognised text is never logged (it is personal data).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import cv2
import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    Frame = npt.NDArray[np.uint8]

logger = logging.getLogger(__name__)

Point = tuple[float, float]


@dataclass(frozen=True)
class OcrLine:
    """One recognised text line: text, confidence 0..1 and its quadrilateral
    (four (x, y) points, clockwise from top-left, in image pixels)."""

    text: str
    confidence: float
    box: tuple[Point, Point, Point, Point]

    def __repr__(self) -> str:  # recognised text may be personal data
        return f"OcrLine(<{len(self.text)} chars>, confidence={self.confidence:.3f})"


@runtime_checkable
class OcrEngine(Protocol):
    def recognise(self, img_bgr: Frame) -> list[OcrLine]:
        """Text lines in reading order (top to bottom, left to right)."""
        ...


class OcrError(RuntimeError):
    """The OCR engine could not be loaded or failed on an image."""


def _reading_order(lines: list[OcrLine]) -> list[OcrLine]:
    """Rows top to bottom (a line joins a row when its vertical centre falls inside the row's
    first line), each row left to right."""

    def span(line: OcrLine) -> tuple[float, float]:
        ys = [p[1] for p in line.box]
        return min(ys), max(ys)

    rows: list[list[OcrLine]] = []
    row_span: list[tuple[float, float]] = []
    for line in sorted(lines, key=lambda ln: sum(span(ln)) / 2):
        top, bottom = span(line)
        centre = (top + bottom) / 2
        if rows and row_span[-1][0] <= centre <= row_span[-1][1]:
            rows[-1].append(line)
        else:
            rows.append([line])
            row_span.append((top, bottom))
    out: list[OcrLine] = []
    for row in rows:
        out.extend(sorted(row, key=lambda ln: min(p[0] for p in ln.box)))
    return out


#: Defaults measured on 2 cores (bench/ocr.py): detection on the page scaled so its longer
#: side is at most 1152 px (document-camera pages carry 30+ px characters, plenty at that
#: scale) and no per-line orientation classifier, since :mod:`kiosk.pagecapture` has already
#: turned the page upright.  Pass ``{"Global.use_cls": True}`` for unnormalised images.
FAST_PARAMS: dict[str, Any] = {
    "Global.log_level": "warning",
    "Global.use_cls": False,
    "Det.limit_type": "max",
    "Det.limit_side_len": 1152,
}

#: A region of a page as fractions of its width and height: (x0, y0, x1, y1).
Region = tuple[float, float, float, float]


class RapidOcrEngine:
    """:class:`OcrEngine` over ``rapidocr.RapidOCR`` with its bundled models."""

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        self._params: dict[str, Any] = dict(FAST_PARAMS)
        if params:
            self._params.update(params)
        self._engine: Any = None
        self._warm = False
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    def load(self) -> None:
        """Build the engine and its ONNX sessions now (idempotent, thread-safe)."""
        engine = self._get_engine()
        with self._lock:
            if self._warm:
                return
            start = time.perf_counter()
            sample = np.full((64, 256, 3), 255, dtype=np.uint8)
            cv2.putText(sample, "OCR 2026", (8, 44), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 2)
            engine(sample)  # text, so the warm-up runs detection and recognition both
            self._warm = True
            logger.info("OCR warm-up in %.0f ms", (time.perf_counter() - start) * 1000)

    def _get_engine(self) -> Any:
        if self._engine is not None:
            return self._engine
        with self._lock:
            if self._engine is None:
                try:
                    from rapidocr import RapidOCR

                    self._engine = RapidOCR(params=self._params)
                except Exception as err:  # rapidocr raises plain Exceptions on bad config/models
                    raise OcrError(f"cannot load OCR engine: {err}") from err
            return self._engine

    def recognise(self, img_bgr: Frame) -> list[OcrLine]:
        engine = self._get_engine()
        start = time.perf_counter()
        with self._lock:  # one inference at a time: 2 cores, and the engine mutates its params
            try:
                out = engine(img_bgr)
            except Exception as err:
                raise OcrError(f"OCR failed: {err}") from err
        boxes = getattr(out, "boxes", None)
        txts = getattr(out, "txts", None)
        scores = getattr(out, "scores", None)
        lines: list[OcrLine] = []
        if boxes is not None and txts is not None and scores is not None:
            for box, text, score in zip(boxes, txts, scores, strict=True):
                pts = [(float(p[0]), float(p[1])) for p in np.asarray(box).reshape(-1, 2)[:4]]
                lines.append(OcrLine(str(text), float(score), (pts[0], pts[1], pts[2], pts[3])))
        logger.info(
            "OCR: %d lines in %.0f ms (%dx%d)",
            len(lines),
            (time.perf_counter() - start) * 1000,
            img_bgr.shape[1],
            img_bgr.shape[0],
        )
        return _reading_order(lines)

    def recognise_regions(self, img_bgr: Frame, regions: list[Region]) -> list[OcrLine]:
        """OCR only the given regions of a known layout (fractions of the image); boxes are
        returned in whole-image pixels, lines in reading order.  Faster than the whole page
        when the fields sit in a known part of it."""
        h, w = img_bgr.shape[:2]
        lines: list[OcrLine] = []
        for x0, y0, x1, y1 in regions:
            left, top = max(0, int(x0 * w)), max(0, int(y0 * h))
            right, bottom = min(w, round(x1 * w)), min(h, round(y1 * h))
            if right - left < 8 or bottom - top < 8:
                continue
            crop = np.ascontiguousarray(img_bgr[top:bottom, left:right])
            for line in self.recognise(crop):
                pts = tuple((x + left, y + top) for x, y in line.box)
                lines.append(OcrLine(line.text, line.confidence, (pts[0], pts[1], pts[2], pts[3])))
        return _reading_order(lines)

    def upright_score(self, img_bgr: Frame) -> float:
        """Mean recognition confidence on a middle strip of the page, for telling an upright
        page from an upside-down one (:func:`kiosk.pagecapture.normalise_rotation`)."""
        h, w = img_bgr.shape[:2]
        strip = img_bgr[int(h * 0.36) : int(h * 0.52)]
        scale = min(1.0, 720 / max(w, 1))
        if scale < 1.0:
            strip = np.asarray(
                cv2.resize(strip, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), np.uint8
            )
        lines = self.recognise(np.ascontiguousarray(strip))
        if not lines:
            return 0.0
        total = sum(len(line.text) for line in lines)
        return sum(line.confidence * len(line.text) for line in lines) / max(total, 1)
