"""Shared fixtures: the models load once per test run (they are read-only after loading)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def face_verifier():  # type: ignore[no-untyped-def]
    from kiosk.face import FaceVerifier

    verifier = FaceVerifier(threshold=0.6)
    verifier.load()
    return verifier


@pytest.fixture(scope="session")
def ocr_engine():  # type: ignore[no-untyped-def]
    from kiosk.ocr import RapidOcrEngine

    engine = RapidOcrEngine()
    engine.load()
    return engine
