"""dlib's face embeddings in a worker process, off the GIL of the terminal's process.

dlib's descriptor call holds the GIL for its whole run (~155 ms per pass with dlib-bin's wheel,
two passes per face with the mirror average): run on a thread, it stalls the GUI (the face
screen's preview and the touch screen measured 140–200 ms) and the per-frame analysis.  In a
worker process it runs on the second core while the GUI, the camera and the liveness challenges
go on.

:class:`EmbedWorker` owns the child processes (``spawn``: no copy of the parent's Qt and threads)
that load the dlib models once (:meth:`EmbedWorker.start`, from the terminal's model warm-up)
and then embed the card photo and live face crops on request: two children with the mirror
average, one finds and aligns the face, then the chip's and its mirror image's descriptor passes
run in the two at once (the decision waits ~155 ms for the live face instead of ~310 ms).  Only the images go to the child
and only the 128 numbers come back, through the pipe of :class:`ProcessPoolExecutor`; nothing is
written anywhere.  A child that dies (killed, out of memory) is noticed at the next request:
that request raises :class:`EmbedWorkerLost` and the caller embeds on its own thread instead,
the next request starts a new child.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

if TYPE_CHECKING:
    from kiosk.identity.face import Embedding, FaceBox, FaceQuality, FaceVerifier, Frame

logger = logging.getLogger(__name__)

_CHILD: FaceVerifier | None = None  # the child's own verifier (models loaded once per child)
_SHARED: dict[bool, EmbedWorker] = {}
_SHARED_LOCK = threading.Lock()


class EmbedWorkerLost(RuntimeError):
    """The worker process is gone (the request was not done)."""


def _child_init(mirror_average: bool) -> None:
    global _CHILD
    from kiosk.identity.face import FaceVerifier

    _CHILD = FaceVerifier(mirror_average=mirror_average, embed_process=False)
    _CHILD._get_models()


def _child_ready() -> bool:
    return _CHILD is not None and _CHILD.loaded


def _child_reference_chip(img_bgr: Frame) -> Any:
    assert _CHILD is not None
    return _CHILD.reference_chip(img_bgr)


def _child_region_chip(img_bgr: Frame, box: FaceBox) -> Any:
    assert _CHILD is not None
    return _CHILD.region_chip(img_bgr, box)


def _child_describe(chip: Any) -> Any:
    assert _CHILD is not None
    return _CHILD.describe_chip(chip)


def _child_reference(img_bgr: Frame) -> Embedding | FaceQuality:
    assert _CHILD is not None
    return _CHILD.embed_reference(img_bgr)


def _child_region(img_bgr: Frame, box: FaceBox) -> Embedding | None:
    assert _CHILD is not None
    return _CHILD.embed_region(img_bgr, box)


def shared_worker(mirror_average: bool) -> EmbedWorker:
    """The process's one worker for this descriptor kind: the child holds nothing but the models,
    so every :class:`kiosk.identity.face.FaceVerifier` of the process can use the same one."""
    with _SHARED_LOCK:
        worker = _SHARED.get(mirror_average)
        if worker is None:
            worker = _SHARED[mirror_average] = EmbedWorker(mirror_average)
        return worker


class EmbedWorker:
    """One dlib worker process; thread-safe; started lazily or by :meth:`start`; :meth:`close`
    ends the child (the next request starts a new one)."""

    def __init__(self, mirror_average: bool) -> None:
        self.mirror_average = mirror_average
        #: With the mirror average, two children: the face's and its mirror image's descriptor
        #: passes run at once, one per core (the terminal waits on them, its own threads idle).
        self.processes = 2 if mirror_average else 1
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._orchestrator = ThreadPoolExecutor(max_workers=2, thread_name_prefix="face-worker")
        self.started = False  # a child has loaded its models

    def _get_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_child_init,
                    initargs=(self.mirror_average,),
                )
            return self._pool

    def start(self, timeout_s: float = 120.0) -> None:
        """Start the child and wait until its models are loaded."""
        try:
            # one request per child at once: the pool starts a child for each (spawn starts them
            # on demand), so the first face check does not wait for the second one to load
            futures = [self._call(_child_ready) for _ in range(self.processes)]
            ready = all(self._result(f, timeout_s) for f in futures)
        except TimeoutError as err:
            raise EmbedWorkerLost(f"the face worker did not load its models in {timeout_s:.0f} s") from err
        if not ready:
            raise EmbedWorkerLost("the face worker did not load its models")

    def _call(self, fn: Any, *args: Any) -> Future[Any]:
        pool = self._get_pool()
        try:
            return pool.submit(fn, *args)
        except (BrokenProcessPool, RuntimeError) as err:  # RuntimeError: shut down meanwhile
            self._discard(pool)
            raise EmbedWorkerLost(f"face worker gone: {err}") from err

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
                self.started = False
        pool.shutdown(wait=False, cancel_futures=True)

    def _result(self, future: Future[Any], timeout_s: float | None = None) -> Any:
        try:
            result = future.result(timeout=timeout_s)
            self.started = True  # a child answered: its models are loaded
            return result
        except BrokenProcessPool as err:
            pool = self._pool
            if pool is not None:
                self._discard(pool)
            logger.error("face worker process died: %s", err)
            raise EmbedWorkerLost(str(err)) from err

    def reference(self, img_bgr: Frame) -> Future[Embedding | FaceQuality]:
        """Submit the card photo's embedding (see :meth:`kiosk.identity.face.FaceVerifier.embed_reference`)."""
        if not self.mirror_average:
            return self._call(_child_reference, img_bgr)
        return self._orchestrator.submit(self._mirror_reference, img_bgr)

    def _mirror_reference(self, img_bgr: Frame) -> Embedding | FaceQuality:
        found = self._mirror_embedding(_child_reference_chip, img_bgr)
        assert found is not None
        return found

    def region(self, img_bgr: Frame, box: FaceBox) -> Embedding | None:
        """The embedding of the face in ``box`` (see :meth:`kiosk.identity.face.FaceVerifier.embed_region`)."""
        if not self.mirror_average:
            result: Embedding | None = self._result(self._call(_child_region, img_bgr, box))
            return result
        from kiosk.identity.face import Embedding

        found = self._mirror_embedding(_child_region_chip, img_bgr, box)
        assert found is None or isinstance(found, Embedding)
        return found

    def _mirror_embedding(self, locate: Any, *args: Any) -> Embedding | FaceQuality | None:
        """One child finds and aligns the face; the chip's and its mirror image's descriptor
        passes then run in the two children at once; the mean is the embedding (the same numbers
        as :meth:`kiosk.identity.face.FaceVerifier._describe` computes in one process)."""
        from kiosk.identity.face import Embedding, mirror

        chip = self._result(self._call(locate, *args))
        if chip is None or not isinstance(chip, np.ndarray):
            return cast("FaceQuality | None", chip)
        first = self._call(_child_describe, chip)
        second = self._call(_child_describe, mirror(chip))
        return Embedding((self._result(first) + self._result(second)) / 2)

    def result(self, future: Future[Any]) -> Any:
        """``future.result()``, with a dead child raised as :class:`EmbedWorkerLost`."""
        return self._result(future)

    def pids(self) -> list[int]:
        """The children's process ids (tests, benchmarks)."""
        processes = getattr(self._pool, "_processes", None) or {}
        return sorted(processes)

    def peak_rss_mb(self) -> float | None:
        """The running children's peak resident memory summed (Linux ``VmHWM``), None without one."""
        total, seen = 0.0, False
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024  # kB
                    seen = True
        return total if seen else None

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            self.started = False
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
