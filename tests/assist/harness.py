"""A remote-help rig on loopback: the sandbox platform, an enrolled terminal (Ed25519 key), the
simulator face camera, the agent console in headless Chromium, and an in-memory session side
(tests, bench/assist)."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from devices.camera.opencv import OpenCvCamera
from kiosk.assist.base import recording_uploader
from kiosk.assist.service import AssistService
from kiosk.assist.state import AssistEvent, AssistStatus, CallContext, CallState, RemoteAcceptance
from kiosk.cases.platform_transport import Transport
from sandbox_platform.assist_browser import ConsoleBrowser
from sandbox_platform.server import SandboxServer

TERMINAL_ID = "hall-01-t03"


@dataclass
class MemorySession:
    """The session side of a call, held in memory: a form, one material page, an audit list."""

    session_id: str = "s-1"
    item_id: str | None = "residence-permit"
    form: dict[str, str] = field(default_factory=lambda: {"phone": "13800000000", "address": "幸福路1号"})
    audit_log: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    acceptance: RemoteAcceptance | None = None

    def context(self) -> CallContext:
        thumb = cv2.imencode(".jpg", np.full((120, 90, 3), 200, np.uint8))[1].tobytes()
        fields = (("phone", "联系电话", self.form["phone"]), ("address", "居住地址", self.form["address"]))
        return CallContext(self.session_id, self.item_id, fields, (("id_card 1", thumb),))

    def apply_field(self, session_id: str, key: str, value: str) -> bool:
        if session_id != self.session_id:
            return False
        self.form[key] = value
        return True

    def audit(self, event: str, details: dict[str, object]) -> None:
        self.audit_log.append((event, details))

    def mark_remote_acceptance(self, session_id: str, acceptance: RemoteAcceptance) -> bool:
        self.acceptance = acceptance
        self.audit("remote_acceptance", {"decision": acceptance.decision, "agent_id": acceptance.agent_id})
        return True


def face_camera(tmp: Path) -> OpenCvCamera:
    """The simulator's face camera over a still picture (OpenCV image player, 15 fps)."""
    img = np.zeros((480, 640, 3), np.uint8)
    cv2.circle(img, (320, 220), 120, (80, 160, 220), -1)
    path = tmp / "face.png"
    cv2.imwrite(str(path), img)
    return OpenCvCamera(str(path), fps=15.0)


def enrol(server: SandboxServer) -> tuple[Ed25519PrivateKey, Transport]:
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    code = server.enrolment_code(TERMINAL_ID)
    reply = requests.post(
        f"{server.url}/api/v1/terminals/enrol",
        json={
            "terminal_id": TERMINAL_ID,
            "public_key": base64.b64encode(raw).decode(),
            "enrolment_code": code,
        },
        timeout=10,
    )
    reply.raise_for_status()
    return key, Transport(server.url, TERMINAL_ID, 10.0, signing_key=key)


def agent_console_url(server: SandboxServer, agent_id: str = "agent-7", name: str = "王坐席") -> str:
    reply = requests.post(
        f"{server.url}/_sandbox/assist/agents", json={"agent_id": agent_id, "name": name}, timeout=10
    )
    reply.raise_for_status()
    return server.url + reply.json()["console_url"]


def state_is(state: CallState) -> Callable[[AssistEvent], bool]:
    """For :meth:`Rig.wait_event`: the call's status reached ``state``."""
    return lambda e: isinstance(e, AssistStatus) and e.state is state


def configure(server: SandboxServer, **config: Any) -> None:
    requests.post(f"{server.url}/_sandbox/assist/config", json=config, timeout=10).raise_for_status()


class Rig:
    """Platform + terminal service + console browser."""

    def __init__(self, tmp: Path) -> None:
        items = tmp / "items"
        items.mkdir(exist_ok=True)
        self.server = SandboxServer(tmp / "platform", items).start()
        self.key, self.transport = enrol(self.server)
        self.camera = face_camera(tmp)
        self.session = MemorySession()
        self.events: list[AssistEvent] = []
        self._cond = threading.Condition()
        screen = np.full((600, 800, 3), 230, np.uint8)
        cv2.putText(screen, "KIOSK", (200, 300), cv2.FONT_HERSHEY_SIMPLEX, 4, (30, 30, 30), 8)
        self.service = AssistService(
            self.server.url,
            TERMINAL_ID,
            self.key,
            self.camera,
            self.session,
            upload=recording_uploader(self.transport),
            record_dir=tmp,
        )
        self.service.frame_source = lambda: screen
        self.service.subscribe(self._on_event)
        self.browser: ConsoleBrowser | None = None

    def _on_event(self, event: AssistEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def open_console(self) -> ConsoleBrowser:
        self.browser = ConsoleBrowser(agent_console_url(self.server)).start()
        return self.browser

    def wait_event(self, predicate: Any, timeout_s: float = 30.0) -> AssistEvent:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no such event within {timeout_s} s; got {self.events[-5:]}")
                self._cond.wait(left)

    def wait(self, predicate: Any, timeout_s: float = 30.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"not reached within {timeout_s} s: {what}")

    def calls(self) -> list[dict[str, Any]]:
        reply = requests.get(f"{self.server.url}/_sandbox/assist/calls", timeout=10)
        reply.raise_for_status()
        result: list[dict[str, Any]] = reply.json()
        return result

    def close(self) -> None:
        self.service.close()
        if self.browser is not None:
            self.browser.close()
        self.camera.close()
        self.transport.close()
        self.server.close()
