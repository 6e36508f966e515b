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
    def key(line: OcrLine) -> tuple[float, float]:
        ys = [p[1] for p in line.box]
        xs = [p[0] for p in line.box]
        return (round((min(ys) + max(ys)) / 2 / 20), min(xs))

    return sorted(lines, key=key)


class RapidOcrEngine:
    """:class:`OcrEngine` over ``rapidocr.RapidOCR`` with its bundled models."""

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        self._params: dict[str, Any] = {"Global.log_level": "warning"}
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
