"""terminal/models.py: the models load when a citizen starts and are dropped after a while on the
welcome screen, never while a citizen is at the terminal or while they are still loading."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any, cast

import pytest

from kiosk.session.coordinator import SessionCoordinator
from kiosk.session.events import EventBus, StepChanged
from kiosk.session.machine import Step
from terminal.models import ModelKeeper


class Model:
    def __init__(self) -> None:
        self.loaded = False
        self.unloads = 0

    def load(self) -> None:
        time.sleep(0.1)
        self.loaded = True

    def unload(self) -> None:
        self.loaded = False
        self.unloads += 1


class Stand:
    """The coordinator's surface the keeper uses: subscribe, step, the two models."""

    def __init__(self) -> None:
        self.bus = EventBus()
        self.subscribe = self.bus.subscribe
        self.step = Step.ATTRACT
        self.face = SimpleNamespace(verifier=Model())
        self.materials = SimpleNamespace(ocr=Model())
        self.thread: threading.Thread | None = None
        self.warm_ups = 0

    def warm_up(self) -> threading.Thread:
        if self.thread is not None and self.thread.is_alive():
            return self.thread
        self.warm_ups += 1
        self.thread = threading.Thread(target=lambda: (self.face.verifier.load(), self.materials.ocr.load()))
        self.thread.start()
        return self.thread

    def go(self, step: Step) -> None:
        old, self.step = self.step, step
        self.bus.publish(StepChanged(old, step, "s1", None))


def _keeper(stand: Stand, idle_s: float) -> ModelKeeper:
    return ModelKeeper(cast(SessionCoordinator, stand), stand.warm_up, lambda: stand.thread, idle_s)


def _wait(cond: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(cond) and cond():
            return True
        time.sleep(0.02)
    return False


def test_models_load_when_a_citizen_starts_and_go_after_the_idle_period() -> None:
    stand = Stand()
    keeper = _keeper(stand, 0.3)
    try:
        assert not stand.face.verifier.loaded and stand.warm_ups == 0
        stand.go(Step.CHOOSE_ITEM)
        assert stand.warm_ups == 1
        stand.go(Step.READ_CARD)  # a step within the session starts nothing more
        assert stand.warm_ups == 1
        assert _wait(lambda: stand.materials.ocr.loaded)
        stand.go(Step.ATTRACT)
        time.sleep(0.1)
        assert stand.face.verifier.loaded  # not before the idle period
        assert _wait(lambda: not stand.face.verifier.loaded and not stand.materials.ocr.loaded)
        assert stand.face.verifier.unloads == stand.materials.ocr.unloads == 1
        stand.go(Step.CHOOSE_ITEM)  # the next citizen loads them again
        assert _wait(lambda: stand.materials.ocr.loaded) and stand.warm_ups == 2
    finally:
        keeper.stop()


def test_a_citizen_before_the_idle_period_keeps_the_models() -> None:
    stand = Stand()
    keeper = _keeper(stand, 0.4)
    try:
        stand.go(Step.CHOOSE_ITEM)
        assert _wait(lambda: stand.materials.ocr.loaded)
        stand.go(Step.ATTRACT)
        time.sleep(0.2)
        stand.go(Step.CHOOSE_ITEM)
        time.sleep(0.6)
        assert stand.face.verifier.unloads == 0 and stand.materials.ocr.loaded
    finally:
        keeper.stop()


def test_staff_and_out_of_service_do_not_load_the_models() -> None:
    stand = Stand()
    keeper = _keeper(stand, 10)
    try:
        stand.go(Step.MAINTENANCE)
        stand.go(Step.ATTRACT)
        stand.go(Step.OUT_OF_SERVICE)
        assert stand.warm_ups == 0
    finally:
        keeper.stop()


def test_the_real_models_unload_and_load_again_on_next_use() -> None:
    import numpy as np

    from kiosk.documents.ocr import RapidOcrEngine
    from kiosk.identity.face_embedder import SFaceEmbedder

    embedder = SFaceEmbedder()
    embedder.load()
    embedder.unload()
    assert not embedder.loaded
    assert embedder.detect(np.zeros((120, 160, 3), np.uint8)).shape == (0, 15)  # loads again
    assert embedder.loaded

    ocr = RapidOcrEngine()
    ocr.load()
    ocr.unload()
    assert not ocr.loaded
    page = np.full((64, 256, 3), 255, np.uint8)
    assert ocr.recognise(page) == [] and ocr.loaded


def test_warm_up_gives_memory_back_only_after_loading_something(monkeypatch: pytest.MonkeyPatch) -> None:
    """The terminal's warm-up (run at every citizen's start) trims the heap after it loaded a model,
    not when both were already in memory: a trim per citizen cost a millisecond and the page faults
    of refilling the heap (bench/soak)."""
    from pathlib import Path

    from terminal import runtime

    trims: list[int] = []
    monkeypatch.setattr(runtime, "release_memory", lambda **_: trims.append(1))
    stand = Stand()
    terminal = runtime.Terminal(
        config=cast(Any, None),
        session=cast(Any, stand),
        store=cast(Any, None),
        client=cast(Any, None),
        drainer=cast(Any, None),
        bench=None,
        sandbox=None,
        workdir=Path("."),
    )
    terminal.warm_up().join(timeout=10)
    assert stand.face.verifier.loaded and stand.materials.ocr.loaded and trims == [1]
    terminal.warm_up().join(timeout=10)
    terminal.warm_up().join(timeout=10)
    assert trims == [1]
    stand.materials.ocr.unload()  # dropped after a while on the welcome screen: loaded again, trimmed
    terminal.warm_up().join(timeout=10)
    assert stand.materials.ocr.loaded and trims == [1, 1]
