"""OCR of scanned materials: the :class:`OcrEngine` protocol and RapidOCR behind it.

``RapidOcrEngine`` wraps ``rapidocr.RapidOCR`` (3.x) with the PP-OCR ONNX
models that ship inside the rapidocr wheel: nothing is downloaded.  The engine
is built once, lazily and thread-safely; :meth:`RapidOcrEngine.load` warms it up
(and runs one tiny inference so the ONNX sessions exist) from a background
thread.  Recognised text is never logged (it is personal data).
"""

from __future__ import annotations

import functools
import logging
import os
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

    def read_regions(
        self, img_bgr: Frame, regions: list[Region] | tuple[Region, ...], *, upright: bool = False
    ) -> RegionRead:
        """Read only the given regions of a page of known layout, turning it upright first
        unless ``upright`` (see :meth:`RapidOcrEngine.read_regions`)."""
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
#: scale) and no per-line orientation classifier, since :mod:`kiosk.documents.pagecapture` has already
#: turned the page upright.  Pass ``{"Global.use_cls": True}`` for unnormalised images.
FAST_PARAMS: dict[str, Any] = {
    "Global.log_level": "warning",
    "Global.use_cls": False,
    "Det.limit_type": "max",
    "Det.limit_side_len": 1152,
    # onnxruntime: one intra-op pool of (at most) 2 threads per session, full graph optimisation
    # (rapidocr always asks for ORT_ENABLE_ALL), no memory patterns (they are per input shape), and
    # the CPU memory arena given back after every inference (see _tune_onnx_session).
    "EngineConfig.onnxruntime.intra_op_num_threads": min(2, os.cpu_count() or 1),
    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    "EngineConfig.onnxruntime.enable_cpu_mem_arena": True,
}

#: Longer side, in pixels, of the *page* as the text detector sees it in
#: :meth:`RapidOcrEngine.read_regions` (regions are cut from the page at that scale, so the cost
#: follows the region's area).  Detection only has to find the lines: an A4 page at this size
#: (3.7 px/mm) shows 12-pt print about 16 px high, whatever the camera or scanner resolution
#: (the bench's materials come to 20-40 px), while recognition reads each line cropped from the
#: full-resolution page.  Smaller images (an ID card frame) are not scaled up.
DET_PAGE_SIDE = 1100

#: Lines the orientation classifier looks at (the widest ones) to tell an upside-down page.
_ORIENTATION_LINES = 8

#: A region of a page as fractions of its width and height: (x0, y0, x1, y1).
Region = tuple[float, float, float, float]

Quad = tuple[Point, Point, Point, Point]


@dataclass(frozen=True)
class RegionRead:
    """What :meth:`RapidOcrEngine.read_regions` read: lines (boxes in ``page`` pixels, reading
    order), the page they refer to, and how far it was turned to read upright."""

    lines: list[OcrLine]
    page: Frame
    rotation: int = 0  # degrees clockwise the page was turned (0, 90, 180, 270)

    @property
    def turned(self) -> bool:
        return self.rotation != 0

    def __repr__(self) -> str:
        return f"RegionRead(<{len(self.lines)} lines>, rotation={self.rotation})"


def _tune_onnx_session(infer: Any, params: dict[str, Any]) -> None:
    """Rebuild an onnxruntime session of a rapidocr component with the options rapidocr does not
    expose: intra-op threads that sleep instead of spinning when idle (spinning threads burn the
    cores the GUI thread and the camera need between inference calls, and under load they steal
    from each other), a fixed pool size, and a CPU memory arena that is given back after every
    inference.  Sessions of other engines (Paddle) are left alone.

    Why the arena, shrunk (measured on a lease page, bench/startup ``rss_mb_peak``): without an
    arena every intermediate tensor is a malloc of its own, tens of MB each, and glibc keeps the
    freed ones in its heap: detection of one page peaked at +110-160 MB and kept most of it.  An
    arena that is never shrunk peaks at +50 MB but keeps every region it grew for a new page or
    line-batch shape (237 -> 665 MB after 8 pages).  Shrunk at the end of each run (onnxruntime's
    ``memory.enable_memory_arena_shrinkage``) it peaks at +50-70 MB for detection and returns its
    regions but the first (~30 MB over the three sessions), at the speed of the arena (malloc
    without an arena and with glibc's mmap threshold fixed, terminal/memory.py, peaks as low but
    takes ~40 % more CPU: every tensor's pages are faulted in anew)."""
    import onnxruntime as ort

    session = getattr(infer, "session", None)
    if not isinstance(session, ort.InferenceSession):
        return
    opts = ort.SessionOptions()
    opts.log_severity_level = 4
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    arena = bool(params.get("EngineConfig.onnxruntime.enable_cpu_mem_arena", True))
    opts.enable_cpu_mem_arena = arena
    opts.enable_mem_pattern = False  # rapidocr has no such setting; patterns are per input shape
    opts.intra_op_num_threads = int(params.get("EngineConfig.onnxruntime.intra_op_num_threads", 2))
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # the arena grows by what a run asks for, not by powers of two
    providers: list[Any] = [("CPUExecutionProvider", {"arena_extend_strategy": "kSameAsRequested"})]
    infer.session = (_shrinking_session_class() if arena else ort.InferenceSession)(
        session._model_path, sess_options=opts, providers=providers
    )


def _shrinking_run_options() -> Any:
    import onnxruntime as ort

    options = ort.RunOptions()
    options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return options


@functools.cache
def _shrinking_session_class() -> type:
    """An onnxruntime session whose runs give the CPU arena's free regions back when they end
    (defined on first use: onnxruntime is imported only when OCR loads)."""
    import onnxruntime as ort

    class ShrinkingSession(ort.InferenceSession):  # type: ignore[misc]
        _shrink = _shrinking_run_options()

        def run(self, output_names: Any, input_feed: Any, run_options: Any = None) -> Any:
            return super().run(output_names, input_feed, run_options or self._shrink)

    return ShrinkingSession


def _sideways(quads: list[Quad]) -> bool:
    """Whether most of the detected text (by length) runs vertically: a page lying sideways
    that page capture's line-profile check missed (a bordered certificate can fool it)."""
    vertical = horizontal = 0.0
    for q in quads:
        p = np.asarray(q, dtype=np.float64)
        w = float(np.linalg.norm(p[1] - p[0]))
        h = float(np.linalg.norm(p[3] - p[0]))
        if h > 1.5 * w:
            vertical += h
        elif w > 1.5 * h:
            horizontal += w
    return vertical > horizontal


#: Height of the recognition model's input: every line is scaled to it.
_REC_HEIGHT = 48

#: Most pixels of width (at :data:`_REC_HEIGHT`, padding included) in one recognition batch.  The
#: model's working memory follows the batch's total width (measured: three 1280-px lines at once
#: +73 MB without the arena, +121 MB with it; one line +25 / +10-38 MB) while its time hardly
#: depends on the batching (716 ms vs 3 x 259 ms), so the lines a page is mostly made of
#: (1,000-1,400 px) are read one at a time (bench/startup ``rss_mb_peak``: a batch of them was the
#: peak of a whole session).
REC_BATCH_PX = 1600


def _width_groups(
    crops: list[Frame], max_batch: int = 6, max_padding: float = 0.12, max_px: int = REC_BATCH_PX
) -> list[list[int]]:
    """Indices of line crops in recognition batches: a batch is padded to its widest line (at
    the model's input height), and on CPU that padding costs as much as text, so only lines of
    nearly the same width share a batch (measured: batches of 6 mixed widths took 1.8x the time
    of one line at a time on a lease page), and no more of them than fit in ``max_px``."""
    ratio = [c.shape[1] / max(c.shape[0], 1) for c in crops]
    order = sorted(range(len(crops)), key=lambda i: ratio[i])
    groups: list[list[int]] = []
    for i in order:
        if (
            groups
            and len(groups[-1]) < max_batch
            and ratio[i] <= ratio[groups[-1][0]] * (1 + max_padding)
            and (len(groups[-1]) + 1) * _REC_HEIGHT * ratio[i] <= max_px
        ):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


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

    def unload(self) -> None:
        """Drop the engine and its ONNX sessions (~130 MB; a read in progress keeps its own
        reference and finishes); the next read or :meth:`load` builds them again."""
        with self._lock:
            self._engine = None
            self._warm = False

    def _get_engine(self) -> Any:
        if self._engine is not None:
            return self._engine
        with self._lock:
            if self._engine is None:
                try:
                    from rapidocr import RapidOCR

                    engine: Any = RapidOCR(params=self._params)
                    for section, component in (
                        ("Det", engine._load_det_model()),
                        ("Cls", engine._load_cls_model()),
                        ("Rec", engine._load_rec_model()),
                    ):
                        self._tune_session(section, component)
                    self._engine = engine
                except Exception as err:  # rapidocr raises plain Exceptions on bad config/models
                    raise OcrError(f"cannot load OCR engine: {err}") from err
            return self._engine

    def _tune_session(self, section: str, component: Any) -> None:
        """Adjust the inference session of one loaded component (section Det, Cls or Rec)."""
        _tune_onnx_session(component.session, self._params)

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
        """OCR only the given regions of a known layout (fractions of the image) of a page that is
        already upright; boxes are in whole-image pixels, lines in reading order."""
        return self.read_regions(img_bgr, regions, upright=True).lines

    def read_regions(
        self,
        img_bgr: Frame,
        regions: list[Region] | tuple[Region, ...],
        *,
        upright: bool = False,
        det_side: int = DET_PAGE_SIDE,
    ) -> RegionRead:
        """Read a page of a known layout: only its ``regions`` (fractions of the page).

        Each region is cropped, the text detector runs on it at the scale that makes the page's
        longer side ``det_side`` pixels (never enlarged), and every line found is cut from the full-resolution page and recognised in
        batches.  Unless ``upright`` is given, the page's orientation is checked on the lines
        found: when most text runs vertically the page is turned 90 degrees, and when the per-line
        orientation classifier reads most of the widest lines upside down it is turned 180; the
        page is then detected again (the result carries the page read and the turn).  This
        settles the 0/180 (and 90/270) ambiguity :func:`kiosk.documents.pagecapture.capture_page` leaves."""
        engine = self._get_engine()
        start = time.perf_counter()
        with self._lock:
            try:
                page = np.ascontiguousarray(img_bgr)
                found = self._detect_regions(engine, page, regions, det_side)
                rotation = 0
                if not upright and _sideways([quad for quad, _ in found]):
                    page = np.ascontiguousarray(cv2.rotate(page, cv2.ROTATE_90_CLOCKWISE))
                    found = self._detect_regions(engine, page, regions, det_side)
                    rotation = 90
                if not upright and self._upside_down(engine, [crop for _, crop in found]):
                    page = np.ascontiguousarray(cv2.rotate(page, cv2.ROTATE_180))
                    found = self._detect_regions(engine, page, regions, det_side)
                    rotation = (rotation + 180) % 360
                lines = self._recognise_crops(engine, found)
            except OcrError:
                raise
            except Exception as err:  # rapidocr/onnxruntime raise plain Exceptions
                raise OcrError(f"OCR failed: {err}") from err
        logger.info(
            "OCR regions: %d lines in %.0f ms (%dx%d, turned %d)",
            len(lines),
            (time.perf_counter() - start) * 1000,
            page.shape[1],
            page.shape[0],
            rotation,
        )
        return RegionRead(_reading_order(lines), page, rotation)

    def _detect_regions(
        self, engine: Any, page: Frame, regions: list[Region] | tuple[Region, ...], det_side: int
    ) -> list[tuple[Quad, Frame]]:
        """Detected line boxes (page pixels) with their crops from the full-resolution page."""
        from rapidocr.utils.process_img import get_rotate_crop_image

        det = engine._load_det_model()
        h, w = page.shape[:2]
        scale = min(1.0, det_side / max(h, w))
        out: list[tuple[Quad, Frame]] = []
        for x0, y0, x1, y1 in regions:
            left, top = max(0, int(x0 * w)), max(0, int(y0 * h))
            right, bottom = min(w, round(x1 * w)), min(h, round(y1 * h))
            if right - left < 8 or bottom - top < 8:
                continue
            crop = page[top:bottom, left:right]
            small = crop
            if scale < 1.0:
                small = np.asarray(
                    cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), np.uint8
                )
            # the detector's own resize is a no-op at this size (it rounds to multiples of 32); its
            # limits are put back so whole-page recognise() keeps FAST_PARAMS' detection scale
            saved = det.limit_side_len, det.limit_type
            det.limit_side_len, det.limit_type = max(small.shape[:2]), "max"
            try:
                res = det(np.ascontiguousarray(small))
            finally:
                det.limit_side_len, det.limit_type = saved
            if res.boxes is None:
                continue
            for box in res.boxes:
                pts = np.asarray(box, dtype=np.float32).reshape(4, 2) / scale
                pts[:, 0] += left
                pts[:, 1] += top
                line = get_rotate_crop_image(page, pts.copy())
                quad = tuple((float(x), float(y)) for x, y in pts)
                out.append(((quad[0], quad[1], quad[2], quad[3]), line))
        return out

    @staticmethod
    def _upside_down(engine: Any, crops: list[Frame]) -> bool:
        """Whether most of the widest line crops read upside down (PP-OCR's 0/180 classifier)."""
        if not crops:
            return False
        widest = sorted(crops, key=lambda c: c.shape[1] / max(c.shape[0], 1), reverse=True)
        res = engine._load_cls_model()(widest[:_ORIENTATION_LINES])
        flipped = sum(1 for label, score in res.cls_res if "180" in label and score >= 0.6)
        upright = sum(1 for label, score in res.cls_res if "180" not in label and score >= 0.6)
        return flipped > upright

    def _recognise_crops(self, engine: Any, found: list[tuple[Quad, Frame]]) -> list[OcrLine]:
        if not found:
            return []
        from rapidocr.ch_ppocr_rec import TextRecInput

        rec = engine._load_rec_model()
        min_score = float(engine.text_score)
        lines: list[OcrLine] = []
        for group in _width_groups([crop for _, crop in found]):
            rec.rec_batch_num = len(group)
            res = rec(TextRecInput(img=[found[i][1] for i in group]))
            for i, text, score in zip(group, res.txts, res.scores, strict=True):
                if str(text).strip() and float(score) >= min_score:
                    lines.append(OcrLine(str(text), float(score), found[i][0]))
        return lines

    def upright_score(self, img_bgr: Frame) -> float:
        """Mean recognition confidence on a middle strip of the page, for telling an upright
        page from an upside-down one (:func:`kiosk.documents.pagecapture.normalise_rotation`)."""
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
