"""The face embedder's models: found inside the installed wheel, pinned by SHA-256, checked before use."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.camera.simulator import media_path
from kiosk.identity.face_embedder import (
    CARD_FACE_PX,
    CARD_JITTER,
    DETECTOR_FILE,
    DETECTOR_SHA256,
    RECOGNISER_FILE,
    RECOGNISER_SHA256,
    Embedding,
    FaceModelError,
    SFaceEmbedder,
    jittered,
    models_dir,
    read_pinned,
)


def test_the_models_ship_in_the_wheel_with_the_pinned_digests() -> None:
    folder = models_dir()
    assert folder.is_dir() and "site-packages" in str(folder)
    for name, digest in ((DETECTOR_FILE, DETECTOR_SHA256), (RECOGNISER_FILE, RECOGNISER_SHA256)):
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest


def test_opencv_has_the_face_classes() -> None:
    major, minor = (int(x) for x in cv2.__version__.split(".")[:2])
    assert (major, minor) >= (4, 8)
    assert hasattr(cv2, "FaceRecognizerSF") and hasattr(cv2, "FaceDetectorYN")


def _copy_models(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    for name in (DETECTOR_FILE, RECOGNISER_FILE):
        shutil.copy(models_dir() / name, folder / name)
    return folder


def test_a_changed_model_file_is_refused(tmp_path: Path) -> None:
    """One byte changed in the recogniser: the load stops with a clear error naming the file and
    both digests, before OpenCV sees the model."""
    folder = _copy_models(tmp_path)
    SFaceEmbedder(models=folder).load()  # the untouched copy loads
    path = folder / RECOGNISER_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    embedder = SFaceEmbedder(models=folder)
    with pytest.raises(FaceModelError) as info:
        embedder.load()
    message = str(info.value)
    assert RECOGNISER_FILE in message and RECOGNISER_SHA256 in message and "SHA-256" in message
    assert not embedder.loaded
    with pytest.raises(FaceModelError):  # and the embedder refuses to work, not just to load
        embedder.detect(np.full((120, 100, 3), 128, np.uint8))


def test_a_missing_model_or_package_is_a_clear_error(tmp_path: Path) -> None:
    folder = _copy_models(tmp_path)
    (folder / DETECTOR_FILE).unlink()
    with pytest.raises(FaceModelError, match=re.escape(DETECTOR_FILE)):
        SFaceEmbedder(models=folder).load()
    with pytest.raises(FaceModelError, match=r"not installed|cannot be found"):
        models_dir("no_such_package_for_face_models")


def test_a_different_pinned_digest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FaceModelError, match="pinned"):
        SFaceEmbedder(detector_sha256="0" * 64).load()
    path = tmp_path / "m.onnx"
    path.write_bytes(b"abc")
    assert read_pinned(path, hashlib.sha256(b"abc").hexdigest()) == b"abc"


def test_embeddings_are_normalised_and_the_distance_is_cosine() -> None:
    a = Embedding.of(np.array([3.0, 4.0]))
    b = Embedding.of(np.array([4.0, -3.0]))
    assert abs(float(np.linalg.norm(a.vector)) - 1) < 1e-12
    assert abs(a.distance(a)) < 1e-12 and abs(a.distance(b) - 1.0) < 1e-12
    assert abs(a.distance(Embedding.of(-a.vector)) - 2.0) < 1e-12
    mean = Embedding.mean([a, b])
    assert abs(mean.distance(a) - mean.distance(b)) < 1e-12 and "2-d" in repr(mean)
    with pytest.raises(ValueError):
        Embedding.mean([])


def test_card_photo_is_upsampled_before_detection() -> None:
    embedder = SFaceEmbedder()
    card = cv2.resize(cv2.imread(str(media_path("kit_card.jpg"))), (102, 126), interpolation=cv2.INTER_AREA)
    prepared = embedder.prepare_card(card)
    assert prepared.shape[:2] == (126 * embedder.card_upsample, 102 * embedder.card_upsample)
    assert embedder.embed_photo(card) is not None
    big = np.full((600, 500, 3), 128, np.uint8)
    assert embedder.prepare_card(big).shape == big.shape  # a large photo is taken as it is


def test_key_point_changes_scale_about_the_centre_and_shift_by_the_eye_distance() -> None:
    # YuNet row: box, right eye, left eye, nose, mouth corners, score
    face = np.array([0, 0, 100, 100, 30, 40, 70, 40, 50, 60, 35, 80, 65, 80, 0.9], dtype=np.float32)
    pts = face[4:14].reshape(5, 2)
    bigger = jittered(face, "s", 1.05)[4:14].reshape(5, 2)
    assert np.allclose(bigger.mean(axis=0), pts.mean(axis=0), atol=1e-4)
    assert np.isclose(np.hypot(*(bigger[0] - bigger[1])), 40 * 1.05, atol=1e-3)
    right = jittered(face, "x", 0.04)
    assert np.allclose(right[4:14:2], face[4:14:2] + 0.04 * 40) and np.allclose(right[5:14:2], face[5:14:2])
    down = jittered(face, "y", -0.04)
    assert np.allclose(down[5:14:2], face[5:14:2] - 0.04 * 40)
    assert np.array_equal(jittered(face, "s", 1.0)[:4], face[:4]) and face[4] == 30  # a copy
    with pytest.raises(ValueError):
        jittered(face, "r", 1.0)
    assert {kind for kind, _ in CARD_JITTER} == {"s", "x", "y"}


def _kit_card() -> np.ndarray:
    return cv2.resize(cv2.imread(str(media_path("kit_card.jpg"))), (102, 126), interpolation=cv2.INTER_AREA)


def test_the_card_embedding_averages_small_alignment_changes() -> None:
    """With ``card_jitter`` the card's embedding is the mean over its alignment and the changed
    ones: close to the single alignment, not equal to it; the live path is not jittered."""
    card = _kit_card()
    plain = SFaceEmbedder(card_jitter=False).embed_photo(card)
    jittered_mean = SFaceEmbedder().embed_photo(card)
    assert plain is not None and jittered_mean is not None
    assert 1e-4 < plain.distance(jittered_mean) < 0.1


def test_the_live_face_is_brought_to_the_card_resolution_before_embedding() -> None:
    """``match_card``: a live face of 180 px goes down to the card's face size and up with the card
    path's 4x, so the image YuNet sees is ~CARD_FACE_PX * 4 per face; both live paths find the
    face and describe the same person closely."""
    embedder = SFaceEmbedder()
    crop = np.zeros((360, 360, 3), np.uint8)
    out, scale = embedder.match_card_resolution(crop, 180)
    assert abs(scale - CARD_FACE_PX / 180 * embedder.card_upsample) < 1e-9
    assert (
        abs(out.shape[0] - round(360 * CARD_FACE_PX / 180) * embedder.card_upsample) <= embedder.card_upsample
    )
    small, scale_small = embedder.match_card_resolution(np.zeros((40, 40, 3), np.uint8), 20)
    assert scale_small == embedder.card_upsample and small.shape[:2] == (160, 160)  # only upsampled
    frame = cv2.imread(str(media_path("kit_live.jpg")))
    faces = embedder.detect(frame)
    x, y, w, h = (int(v) for v in max(faces, key=lambda f: float(f[2] * f[3]))[:4])
    matched = embedder.embed_region(frame, (x, y, x + w, y + h))
    direct = SFaceEmbedder(match_card=False).embed_region(frame, (x, y, x + w, y + h))
    assert matched is not None and direct is not None
    assert 1e-4 < matched.distance(direct) < 0.3
    kit = embedder.embed_photo(_kit_card())
    biden = embedder.embed_photo(cv2.imread(str(media_path("biden_card.jpg"))))
    assert kit is not None and biden is not None
    assert kit.distance(matched) < biden.distance(matched) - 0.2  # the holder, not another person
