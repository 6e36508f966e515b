"""The agent console in a real browser: headless Chromium with fake camera and microphone, driven
through the Chrome DevTools protocol (tests, ``bench/assist``, the demo).

``ConsoleBrowser(url).start()`` launches ``chromium --headless`` with
``--use-fake-device-for-media-stream --use-fake-ui-for-media-stream`` (its fake camera is a
moving test pattern, its fake microphone a beep), opens ``url`` and gives :meth:`evaluate` (a
JavaScript expression, awaited, its JSON value returned), :meth:`click` and
:meth:`screenshot`.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM = os.environ.get("KIOSK_CHROMIUM", "/usr/bin/chromium")


class BrowserError(RuntimeError):
    pass


class ConsoleBrowser:
    """One headless Chromium with one page, on a private profile directory."""

    def __init__(self, url: str, *, width: int = 1280, height: int = 800) -> None:
        self.url = url
        self.size = (width, height)
        self._profile = tempfile.mkdtemp(prefix="assist-chromium-")
        self._proc: subprocess.Popen[bytes] | None = None
        self._ws: ClientConnection | None = None
        self._ids = itertools.count(1)

    def start(self, timeout_s: float = 30.0) -> ConsoleBrowser:
        try:
            return self._start(timeout_s)
        except BaseException:
            self.close()
            raise

    def _start(self, timeout_s: float) -> ConsoleBrowser:
        args = [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--mute-audio",
            "--autoplay-policy=no-user-gesture-required",
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1",
            f"--user-data-dir={self._profile}",
            f"--window-size={self.size[0]},{self.size[1]}",
            "about:blank",
        ]
        self._proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        assert self._proc.stderr is not None
        deadline = time.monotonic() + timeout_s
        browser_ws = None
        while time.monotonic() < deadline:
            line = self._proc.stderr.readline().decode("utf-8", "replace")
            if not line and self._proc.poll() is not None:
                raise BrowserError(f"chromium exited with {self._proc.returncode}")
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            if found:
                browser_ws = found.group(1)
                break
        if browser_ws is None:
            self.close()
            raise BrowserError("chromium did not announce its DevTools endpoint")
        os.set_blocking(self._proc.stderr.fileno(), False)  # never block on its later chatter
        port = browser_ws.split(":")[2].split("/")[0]
        self._ws = connect(browser_ws, max_size=64 * 2**20, open_timeout=10).__enter__()
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self._session = session
        self._port = port
        self._call("Page.enable", session=True)
        self._call("Runtime.enable", session=True)
        self._call("Page.navigate", {"url": self.url}, session=True)
        self.wait_for(
            "document.readyState === 'complete' && typeof window.assistStats === 'function'", timeout_s
        )
        return self

    def _call(
        self, method: str, params: dict[str, Any] | None = None, *, session: bool = False
    ) -> dict[str, Any]:
        if self._ws is None:
            raise BrowserError("the browser is not started")
        msg_id = next(self._ids)
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        self._ws.send(json.dumps(message))
        while True:
            reply = json.loads(self._ws.recv(timeout=60))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression (promises awaited)."""
        result = self._call(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            session=True,
        )
        if "exceptionDetails" in result:
            raise BrowserError(str(result["exceptionDetails"].get("exception", result["exceptionDetails"])))
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout_s: float = 30.0, period_s: float = 0.1) -> Any:
        """Poll ``expression`` until it is truthy; its value.  BrowserError when it never is."""
        deadline = time.monotonic() + timeout_s
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(period_s)
        raise BrowserError(f"not true within {timeout_s} s: {expression} (last {value!r})")

    def stats(self) -> dict[str, Any]:
        value: dict[str, Any] = self.evaluate("window.assistStats()")
        return value

    def click(self, element_id: str) -> None:
        ok = self.evaluate(
            f"(() => {{ const e = document.getElementById({json.dumps(element_id)});"
            " if (!e || e.disabled) return false; e.click(); return true; })()"
        )
        if not ok:
            raise BrowserError(f"no enabled element #{element_id}")

    def click_at(self, element_id: str, fx: float, fy: float) -> None:
        """A real mouse click (DevTools input events) at fractions ``fx``, ``fy`` of an element's box."""
        box = self.evaluate(
            f"(() => {{ const r = document.getElementById({json.dumps(element_id)}).getBoundingClientRect();"
            " return [r.left, r.top, r.width, r.height]; })()"
        )
        x, y = box[0] + fx * box[2], box[1] + fy * box[3]
        for kind in ("mousePressed", "mouseReleased"):
            self._call(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
                session=True,
            )

    def set_value(self, element_id: str, value: str) -> None:
        self.evaluate(f"document.getElementById({json.dumps(element_id)}).value = {json.dumps(value)}")

    def screenshot(self, path: Path) -> Path:
        data = self._call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        if self._ws is not None:
            try:
                self._ws.close()
            except Exception:
                pass
            self._ws = None
        if self._proc is not None and self._proc.stderr is not None:
            self._proc.stderr.close()
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait(5)
        if self._proc is not None and self._proc.poll() is None:
            self._proc.wait(5)
        self._proc = None
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> ConsoleBrowser:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
