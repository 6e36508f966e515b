"""OpenCvCamera against simulated sources: image folders, MJPG video, document page."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.base import DeviceError, DeviceNotFound, DeviceStatus, DeviceTimeout, RequiredAction
from devices.camera import MEDIA_DIR, OpenCvCamera
from devices.camera.opencv import _CapturePlayer, is_device_path
from devices.camera.simulator import (
    CARD_MEDIA,
    LIVE_MEDIA,
    SimulatedCamera,
    document_camera,
    document_source,
    media_path,
    write_video,
)
from devices.interfaces import Camera


def test_media_shipped_small() -> None:
    for name in [*CARD_MEDIA.values(), *(f for fs in LIVE_MEDIA.values() for f in fs)]:
        path = media_path(name)
        assert path.stat().st_size < 200_000
    assert (MEDIA_DIR / "SOURCE.md").is_file()


def test_plays_simulated_folder_then_stall_and_unplug(tmp_path: Path) -> None:
    sim = SimulatedCamera(tmp_path, [media_path(f) for f in LIVE_MEDIA["senior"]])
    cam = sim.camera(seed=1)
    assert isinstance(cam, Camera)
    cam.open()
    try:
        assert cam.status() is DeviceStatus.READY
        start = time.monotonic()
        frames = [cam.read_frame(timeout=1.0) for _ in range(6)]
        elapsed = time.monotonic() - start
        assert all(f.shape == (480, 640, 3) and f.dtype == np.uint8 for f in frames)
        assert not np.array_equal(frames[0], frames[2])  # jitter/noise: consecutive frames differ
        assert 0.2 < elapsed < 1.5  # ~15 fps pacing

        sim.stall()
        with pytest.raises(DeviceTimeout) as stalled:
            cam.read_frame(timeout=0.3)
        assert stalled.value.action is RequiredAction.RETRY
        assert cam.status() is DeviceStatus.OFFLINE

        sim.replug()
        assert cam.read_frame(timeout=1.0).shape == (480, 640, 3)
        assert cam.status() is DeviceStatus.READY

        sim.unplug()
        with pytest.raises(DeviceNotFound):
            cam.read_frame(timeout=0.3)
    finally:
        cam.close()
    assert cam.status() is DeviceStatus.OFFLINE


def test_plays_mjpg_video_and_notices_it_vanish(tmp_path: Path) -> None:
    video = write_video(
        [media_path("biden_live.jpg"), media_path("kit_live.jpg")],
        tmp_path / "live.avi",
        seconds_per_image=0.2,
    )
    cam = OpenCvCamera(str(video))
    cam.open()
    try:
        first = cam.read_frame(timeout=2.0)
        assert first.shape == (480, 640, 3)
        seen = [cam.read_frame(timeout=2.0) for _ in range(8)]  # 6 frames in the file: loops
        assert len(seen) == 8
        video.unlink()
        with pytest.raises(DeviceNotFound):
            for _ in range(20):  # at the end of the file it reopens, and the file is gone
                cam.read_frame(timeout=2.0)
    finally:
        cam.close()


def test_missing_sources_are_not_found(tmp_path: Path) -> None:
    with pytest.raises(DeviceNotFound):
        OpenCvCamera(str(tmp_path / "nothing.avi")).open()
    with pytest.raises(DeviceNotFound):
        OpenCvCamera(tmp_path / "no_dir").open()
    with pytest.raises(DeviceNotFound):
        OpenCvCamera(99).open()  # no /dev/video99
    with pytest.raises(DeviceNotFound):
        OpenCvCamera(tmp_path).read_frame(timeout=0.1)  # not opened


def test_empty_folder_times_out(tmp_path: Path) -> None:
    cam = OpenCvCamera(tmp_path)
    cam.open()
    with pytest.raises(DeviceTimeout):
        cam.read_frame(timeout=0.2)
    cam.close()


def test_document_camera_plays_page_at_high_resolution(tmp_path: Path) -> None:
    page = np.full((2048, 1536, 3), 255, dtype=np.uint8)
    page[100:200, 100:1400] = 0
    cam = document_camera(document_source(page, tmp_path))
    assert cam.kind == "document_camera"
    cam.open()
    frame = cam.read_frame(timeout=1.0)
    cam.close()
    assert frame.shape == (2048, 1536, 3)
    assert frame[150, 700].max() < 20 and frame[1000, 700].min() > 230

    native = OpenCvCamera(document_source(page[:1000, :800], tmp_path, "small.png"), None, None)
    native.open()
    assert native.read_frame(timeout=1.0).shape == (1000, 800, 3)
    native.close()


def _video(path: Path, frames: list[np.ndarray], fps: float = 30.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 480))
    assert writer.isOpened()
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def test_a_frozen_image_is_reported_with_reset(tmp_path: Path) -> None:
    """A source handing out the same image again (a frozen USB camera) is reported after
    ``frozen_after_s``; the grabber stops, so the reader gets the error, not stale frames."""
    still = cv2.imread(str(media_path("biden_live.jpg")))
    frame = cv2.resize(still, (640, 480))
    video = _video(tmp_path / "frozen.avi", [frame] * 30)
    player = _CapturePlayer(video, None, None, True, "camera", frozen_after_s=0.4)
    try:
        with pytest.raises(DeviceError, match="frozen") as caught:
            for _ in range(200):
                player.read(timeout=2.0, device="camera")
        assert caught.value.action is RequiredAction.RESET
    finally:
        player.close()


def test_a_live_image_is_not_frozen(tmp_path: Path) -> None:
    still = cv2.resize(cv2.imread(str(media_path("biden_live.jpg"))), (640, 480))
    rng = np.random.default_rng(0)
    noisy = [np.clip(still + rng.normal(0, 2, still.shape), 0, 255).astype(np.uint8) for _ in range(10)]
    video = _video(tmp_path / "live.avi", noisy)
    player = _CapturePlayer(video, None, None, True, "camera", frozen_after_s=0.2)
    try:
        start = time.monotonic()
        frames = [player.read(timeout=2.0, device="camera") for _ in range(40)]  # > 1 s at 30 fps
        assert len(frames) == 40 and time.monotonic() - start > 0.2
    finally:
        player.close()


def test_the_device_camera_is_frozen_checked_but_files_are_not(tmp_path: Path) -> None:
    assert is_device_path(Path("/dev/v4l/by-id/usb-Face_Camera-video-index0"))
    assert not is_device_path(tmp_path / "live.avi")
    still = cv2.resize(cv2.imread(str(media_path("biden_live.jpg"))), (640, 480))
    cam = OpenCvCamera(str(_video(tmp_path / "still.avi", [still] * 30)), frozen_after_s=0.2)
    cam.open()
    try:  # a still scene in a video file is not a fault
        assert len([cam.read_frame(timeout=2.0) for _ in range(40)]) == 40
    finally:
        cam.close()


def test_device_paths_open_through_v4l2(tmp_path: Path) -> None:
    """A path under /dev is a device (never an image or a video file): missing → not found;
    a node V4L2 cannot open → not found, naming it."""
    with pytest.raises(DeviceNotFound, match="not there"):
        OpenCvCamera("/dev/v4l/by-id/usb-No_Such_Camera-video-index0").open()
    with pytest.raises(DeviceNotFound, match="cannot open camera source /dev/null"):
        OpenCvCamera("/dev/null").open()


class _RecordingCapture:
    """The settings a driver was asked for (``cv2.VideoCapture.set``); refuses ``refuse``."""

    def __init__(self, refuse: set[int] = set()) -> None:  # noqa: B006 - never mutated
        self.calls: list[tuple[int, float]] = []
        self.refuse = refuse

    def set(self, prop: int, value: float) -> bool:
        self.calls.append((prop, value))
        return prop not in self.refuse


def test_resolution_and_exposure_reach_the_driver(caplog: pytest.LogCaptureFixture) -> None:
    player = object.__new__(_CapturePlayer)  # only _configure: no device here
    player._width, player._height, player._device, player._exposure = 640, 480, "camera", None
    auto = _RecordingCapture()
    player._configure(auto)  # type: ignore[arg-type]
    assert auto.calls == [
        (cv2.CAP_PROP_FRAME_WIDTH, 640),
        (cv2.CAP_PROP_FRAME_HEIGHT, 480),
        (cv2.CAP_PROP_AUTO_EXPOSURE, 3),  # V4L2 aperture priority: automatic
    ]
    player._exposure = 156.0
    manual = _RecordingCapture(refuse={cv2.CAP_PROP_EXPOSURE})
    player._configure(manual)  # type: ignore[arg-type]
    assert manual.calls[2:] == [(cv2.CAP_PROP_AUTO_EXPOSURE, 1), (cv2.CAP_PROP_EXPOSURE, 156.0)]
    assert "refused exposure = 156.0" in caplog.text


def test_simulated_frames_are_the_image_shifted_plus_bounded_noise(tmp_path: Path) -> None:
    """Each frame is the image moved by at most 2 whole pixels (edges repeated) plus noise of at most
    3 per channel, different from frame to frame: what warpAffine + clip gave, without its cost."""
    from devices.camera import opencv

    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, size=(480, 640, 3), dtype=np.uint8)
    image[:40] = 0  # dark and bright regions: the noise saturates at 0 and 255, never wraps
    image[-40:] = 255
    player = opencv._ImagePlayer([], 640, 480, 15.0, loop=True, jitter=True, seed=5)
    frames = [player._perturb(image) for _ in range(4)]
    for frame in frames:
        assert frame.shape == image.shape and frame.dtype == np.uint8
        best = min(
            int(
                np.abs(
                    frame.astype(np.int16)
                    - cv2.warpAffine(
                        image,
                        np.float32([[1, 0, dx], [0, 1, dy]]),
                        (640, 480),
                        borderMode=cv2.BORDER_REPLICATE,
                    ).astype(np.int16)
                ).max()
            )
            for dx in range(-2, 3)
            for dy in range(-2, 3)
        )
        assert best <= 3
        assert frame[:30].max() <= 3 and frame[-30:].min() >= 252  # saturated, not wrapped
    assert not np.array_equal(frames[0], frames[1])
    assert float(np.abs(frames[0].astype(np.int16) - frames[1].astype(np.int16)).mean()) > 0.5


def test_a_new_player_of_the_same_face_image_does_not_decode_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A simulator presenting the same person anew (a new folder, a new camera) reuses the decoded
    frame; a document camera's large frames are not kept beyond their player."""
    from devices.camera import opencv

    monkeypatch.setattr(opencv, "_SHARED", opencv._SharedFrames(opencv._SHARED_BYTES))
    decodes: list[int] = []
    real_imdecode = cv2.imdecode

    def counting_imdecode(buf: np.ndarray, flags: int) -> np.ndarray:
        decodes.append(1)
        return real_imdecode(buf, flags)

    monkeypatch.setattr(opencv.cv2, "imdecode", counting_imdecode)
    face = media_path(LIVE_MEDIA["senior"][0])
    for n in range(3):
        sim = SimulatedCamera(tmp_path / f"person-{n}", [face])
        cam = sim.camera(seed=n)
        cam.open()
        try:
            assert cam.read_frame(timeout=1.0).shape == (480, 640, 3)
        finally:
            cam.close()
    assert len(decodes) == 1

    page = np.full((2048, 1536, 3), 200, dtype=np.uint8)
    for n in range(2):
        source = document_source(page, tmp_path / f"doc-{n}", "page.png")
        cam = document_camera(source)
        cam.open()
        try:
            cam.read_frame(timeout=2.0)
        finally:
            cam.close()
    assert len(decodes) == 3  # decoded by each document camera: 9 MB frames stay per player
