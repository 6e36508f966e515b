"""The camera kinds: the face (live) camera ``[devices.camera]`` and the document camera
``[devices.document_camera]``, both V4L2 devices read through OpenCV."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from devices.camera.opencv import DOCUMENT_CAMERA as DOCUMENT_CAMERA_KIND
from devices.camera.opencv import OpenCvCamera
from devices.camera.simulator import SimulatedCamera, document_camera, document_source, media_path
from devices.device_kind import DeviceContext, DeviceKind, SectionConfig
from devices.interfaces import Camera

#: What the demo's face camera shows before anyone stands in front of it.
IDLE_FACE = "obama_live1.jpg"
#: The page file the demo's document camera plays.
DOCUMENT_PAGE = "page.png"


class CameraConfig(SectionConfig):
    driver: Literal["simulator", "opencv"] = "simulator"
    # driver "opencv": a device index ("0" = /dev/video0) or a device path, best a stable one
    # (/dev/v4l/by-id/usb-...-video-index0); a video file plays as a camera (bench checks)
    source: str = "0"
    width: int = Field(640, gt=0)
    height: int = Field(480, gt=0)
    # manual exposure in the driver's units (V4L2: 100 us); unset: the camera's automatic exposure
    exposure: float | None = Field(None, gt=0)
    # a live device whose image does not change for this long is reported frozen (action: reset)
    frozen_after_s: float = Field(3.0, gt=0)


class DocumentCameraConfig(CameraConfig):
    source: str = "1"
    width: int = Field(1536, gt=0)
    height: int = Field(2048, gt=0)


def _source(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def _opencv(kind: str) -> Callable[[CameraConfig, DeviceContext], OpenCvCamera]:
    def build(section: CameraConfig, ctx: DeviceContext) -> OpenCvCamera:
        return OpenCvCamera(
            _source(section.source),
            section.width,
            section.height,
            kind=kind,
            exposure=section.exposure,
            frozen_after_s=section.frozen_after_s,
        )

    return build


def _simulate_face(workdir: Path) -> SimulatedCamera:
    return SimulatedCamera(workdir, [media_path(IDLE_FACE)])


def _attach_face(sim: SimulatedCamera, section: CameraConfig) -> OpenCvCamera:
    return sim.camera()


def blank_page() -> np.ndarray:  # type: ignore[type-arg]
    """An empty white A4 page at the document camera's resolution."""
    return np.full((2048, 1536, 3), 250, dtype=np.uint8)


def _simulate_document(workdir: Path) -> Path:
    """The page image the document camera plays (a blank page until a document is placed)."""
    return document_source(blank_page(), workdir, DOCUMENT_PAGE)


def _attach_document(page: Path, section: CameraConfig) -> OpenCvCamera:
    return document_camera(page)


CAMERA: DeviceKind[CameraConfig, Camera, SimulatedCamera] = DeviceKind(
    name="camera",
    config=CameraConfig,
    interface=Camera,
    drivers={"opencv": _opencv("camera")},
    simulate=_simulate_face,
    attach=_attach_face,
    description="face (live) camera",
)

DOCUMENT_CAMERA: DeviceKind[DocumentCameraConfig, Camera, Path] = DeviceKind(
    name="document_camera",
    config=DocumentCameraConfig,
    interface=Camera,
    drivers={"opencv": _opencv(DOCUMENT_CAMERA_KIND)},
    simulate=_simulate_document,
    attach=_attach_document,
    description="document camera (materials)",
)
