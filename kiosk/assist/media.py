"""The media of a remote-help call on the terminal: what is sent, what is received, what is kept.

* :class:`CameraTrack`: the citizen's camera.  The face check's :class:`~devices.interfaces.Camera`
  object, shared: ``open()`` is idempotent on it, and the track closes it only if it was the one
  that opened it.  When a frame does not come (the face check is reading it too), the last frame
  is sent again.
* :class:`ScreenTrack`: the kiosk screen, from a frame source the UI supplies (a callable returning
  the window's latest grab as BGR, or None), at a few frames a second.
* :func:`microphone_track`: the microphone through ALSA when the machine has a capture device,
  silence otherwise (the agent still gets an audio stream, and the call's audio path is the same).
* :class:`Sink`: consumes a received track, counts frames, keeps the latest video frame for the
  screen.
* :class:`CallRecorder`: the call as a Motion-JPEG AVI of received | sent video side by side at a
  low rate, at most ``max_bytes`` (uploaded to the platform after the call, which keeps it
  encrypted).
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack, VideoStreamTrack
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError
from av import VideoFrame

from devices.base import DeviceError, DeviceStatus
from devices.interfaces import Camera
from kiosk.assist.base import SCREEN_FPS

log = logging.getLogger(__name__)

Frame = npt.NDArray[np.uint8]
FrameSource = Callable[[], "Frame | None"]

SCREEN_MAX_WIDTH = 1280


class CameraTrack(VideoStreamTrack):
    """The shared face camera as a WebRTC video track."""

    def __init__(self, camera: Camera, size: tuple[int, int] = (640, 480)) -> None:
        super().__init__()
        self.camera = camera
        self._opened_here = camera.status() != DeviceStatus.READY
        self._last: Frame = np.zeros((size[1], size[0], 3), np.uint8)
        self.latest: Frame | None = None
        self.sent = 0
        try:
            camera.open()
        except DeviceError as err:
            log.warning("assist: the camera cannot be opened (%s); sending a black picture", err)

    def _read(self) -> Frame:
        try:
            frame = self.camera.read_frame(timeout=0.2)
            self._last = frame
        except DeviceError:
            frame = self._last
        return frame

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = await asyncio.get_running_loop().run_in_executor(None, self._read)
        self.latest = frame
        video = VideoFrame.from_ndarray(frame, format="bgr24")
        video.pts, video.time_base = pts, time_base
        self.sent += 1
        return video

    def stop(self) -> None:
        super().stop()
        if self._opened_here:
            self.camera.close()


class ScreenTrack(VideoStreamTrack):
    """The kiosk window, grabbed by the UI (``source``), as a video track at ``fps``."""

    def __init__(self, source: FrameSource | None, fps: float = SCREEN_FPS) -> None:
        super().__init__()
        self.source = source
        self.period = 1.0 / fps
        self._t0: float | None = None
        self._n = 0
        self._last: Frame = np.full((360, 640, 3), 40, np.uint8)
        self.sent = 0

    async def recv(self) -> VideoFrame:
        if self._t0 is None:
            self._t0 = time.monotonic()
        else:
            self._n += 1
            wait = self._t0 + self._n * self.period - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        frame = self.source() if self.source is not None else None
        if frame is not None:
            if frame.shape[1] > SCREEN_MAX_WIDTH:
                h = int(frame.shape[0] * SCREEN_MAX_WIDTH / frame.shape[1]) // 2 * 2
                frame = np.asarray(
                    cv2.resize(frame, (SCREEN_MAX_WIDTH, h), interpolation=cv2.INTER_AREA), np.uint8
                )
            self._last = np.ascontiguousarray(frame[: frame.shape[0] // 2 * 2, : frame.shape[1] // 2 * 2])
        video = VideoFrame.from_ndarray(self._last, format="bgr24")
        video.pts = int(self._n * self.period * 90000)
        video.time_base = fractions.Fraction(1, 90000)
        self.sent += 1
        return video


def microphone_track() -> tuple[MediaStreamTrack, Any]:
    """(audio track, player to stop or None): ALSA's default capture device when the machine has a
    sound card, else a silence track."""
    snd = Path("/dev/snd")
    if snd.is_dir() and any(p.name.startswith("pcmC") and p.name.endswith("c") for p in snd.iterdir()):
        try:
            from aiortc.contrib.media import MediaPlayer

            player = MediaPlayer("default", format="alsa", options={"channels": "1", "sample_rate": "48000"})
            if player.audio is not None:
                return player.audio, player
        except Exception as err:
            log.warning("assist: microphone unavailable (%s); sending silence", err)
    return AudioStreamTrack(), None


class MutableAudio(MediaStreamTrack):
    """An audio track whose samples become silence while ``muted`` (the mute button)."""

    kind = "audio"

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.source = source
        self.muted = False

    async def recv(self) -> Any:
        frame: Any = await self.source.recv()
        if self.muted:
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
        return frame

    def stop(self) -> None:
        super().stop()
        self.source.stop()


class Sink:
    """Reads a received track to its end: counts frames, keeps the latest video frame (BGR)."""

    def __init__(self, track: MediaStreamTrack, on_first: Callable[[], None] | None = None) -> None:
        self.track = track
        self.kind = str(track.kind)
        self.frames = 0
        self.first_at: float | None = None
        self.latest: Frame | None = None
        self._on_first = on_first
        self._lock = threading.Lock()
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            try:
                frame: Any = await self.track.recv()
            except MediaStreamError:
                return
            self.frames += 1
            if self.first_at is None:
                self.first_at = time.monotonic()
                if self._on_first is not None:
                    self._on_first()
            if self.kind == "video" and self.frames % 2 == 1:
                image = frame.to_ndarray(format="bgr24")
                with self._lock:
                    self.latest = image

    def latest_frame(self) -> Frame | None:
        with self._lock:
            return self.latest

    def stop(self) -> None:
        self.task.cancel()


class CallRecorder:
    """Received | sent video side by side, Motion-JPEG in AVI, ``fps`` frames a second."""

    def __init__(
        self, path: Path, fps: float = 2.0, tile: tuple[int, int] = (320, 240), max_bytes: int = 7_000_000
    ):
        self.path = path
        self.fps = fps
        self.tile = tile
        self.max_bytes = max_bytes
        self.frames = 0
        self._writer = cv2.VideoWriter(
            str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (tile[0] * 2, tile[1])
        )
        self._writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 60)
        if not self._writer.isOpened():
            log.warning("assist: the call recorder cannot write %s", path.name)

    def _fit(self, frame: Frame | None) -> Frame:
        if frame is None:
            return np.zeros((self.tile[1], self.tile[0], 3), np.uint8)
        return np.asarray(cv2.resize(frame, self.tile, interpolation=cv2.INTER_AREA), np.uint8)

    def add(self, received: Frame | None, sent: Frame | None) -> None:
        if self.path.exists() and self.path.stat().st_size > self.max_bytes:
            return
        self._writer.write(np.hstack([self._fit(received), self._fit(sent)]))
        self.frames += 1

    def close(self) -> Path | None:
        self._writer.release()
        return self.path if self.frames and self.path.exists() else None
