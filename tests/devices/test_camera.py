"""OpenCvCamera against simulated sources: image folders, MJPG video, document page."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from devices.base import DeviceNotFound, DeviceStatus, DeviceTimeout, RequiredAction
from devices.camera import MEDIA_DIR, OpenCvCamera
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
