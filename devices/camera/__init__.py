"""Cameras: live (face) camera and document camera over OpenCV."""

from devices.camera.opencv import DOCUMENT_CAMERA, FACE_CAMERA, MEDIA_DIR, OpenCvCamera

__all__ = ["DOCUMENT_CAMERA", "FACE_CAMERA", "MEDIA_DIR", "OpenCvCamera"]
