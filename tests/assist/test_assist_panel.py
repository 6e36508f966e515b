"""The terminal's remote-help panel (real Qt offscreen) in a real call: the console in headless
Chromium, the window grabbed as the kiosk screen, the agent's video and field change on screen."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QPushButton, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from tests.assist.harness import Rig
from ui.facade_assist import AssistFacade
from ui.screens.assist import AssistPanel, install_assist

LEFT = Qt.MouseButton.LeftButton
pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _window() -> tuple[QMainWindow, QPushButton]:
    window = QMainWindow()
    root = QWidget()
    outer = QVBoxLayout(root)
    header = QWidget()
    hl = QHBoxLayout(header)
    cancel = QPushButton("取消")
    hl.addWidget(QLabel("政务服务大厅"))
    hl.addWidget(cancel)
    outer.addWidget(header)
    body = QLabel("FORM SCREEN")
    body.setStyleSheet("background: #3060c0; color: white; font-size: 64px;")
    outer.addWidget(body, 1)
    window.setCentralWidget(root)
    window.resize(1280, 800)
    return window, cancel


def test_the_citizen_calls_sees_the_agent_and_confirms_a_field(rig: Rig, qtbot: QtBot) -> None:
    rig.service.frame_source = None  # the panel's facade supplies the window grabs
    window, cancel = _window()
    facade = AssistFacade(rig.service)
    button = install_assist(window, cancel, facade)
    window.show()
    qtbot.addWidget(window)
    panel = window.findChild(AssistPanel)
    assert panel is not None and not panel.isVisible()
    assert button.parentWidget() is cancel.parentWidget()
    console = rig.open_console()

    qtbot.mouseClick(button, LEFT)
    qtbot.waitUntil(lambda: panel.isVisible() and panel.agree.isVisible())
    assert "录音录像" in panel.text.text()
    qtbot.mouseClick(panel.agree, LEFT)
    qtbot.waitUntil(lambda: panel.cancel.isVisible() and "第 1 位" in panel.text.text(), timeout=10000)

    waiting = console.wait_for("(window.assistStats().waiting || []).length && window.assistStats().waiting")
    console.click(f"accept-{waiting[0]['call_id']}")
    qtbot.waitUntil(lambda: panel.hang_up.isVisible() and panel.mute.isVisible(), timeout=20000)
    qtbot.waitUntil(
        lambda: panel.video.pixmap() is not None and not panel.video.pixmap().isNull(), timeout=20000
    )
    # the console sees the kiosk window: its blue form area is in the screen track
    console.wait_for("window.assistStats().screenFrames >= 3")
    blue = console.evaluate(
        "(() => { const v = document.getElementById('screen-video'); const c = document.createElement('canvas');"
        " c.width = v.videoWidth; c.height = v.videoHeight; const g = c.getContext('2d'); g.drawImage(v, 0, 0);"
        " const p = g.getImageData(Math.floor(c.width * 0.3), Math.floor(c.height * 0.6), 1, 1).data;"
        " return [p[0], p[1], p[2]]; })()"
    )
    assert blue[2] > 150 and blue[0] < 110, blue

    # the agent points at the middle of the kiosk screen: a mark there on the citizen's window
    console.click_at("screen-video", 0.5, 0.5)
    mark = window.findChild(QLabel, "assistPointer")
    assert mark is not None
    qtbot.waitUntil(mark.isVisible, timeout=10000)
    centre = mark.geometry().center()
    area = mark.parentWidget().size()
    assert abs(centre.x() - area.width() / 2) < 60 and abs(centre.y() - area.height() / 2) < 60

    console.set_value("field-address", "幸福路2号")
    console.click("send-address")
    qtbot.waitUntil(lambda: panel.confirm_field.isVisible(), timeout=10000)
    assert "幸福路1号" in panel.field.text() and "幸福路2号" in panel.field.text()
    qtbot.mouseClick(panel.confirm_field, LEFT)
    assert rig.session.form["address"] == "幸福路2号"
    assert not panel.confirm_field.isVisible()

    qtbot.mouseClick(panel.mute, LEFT)
    qtbot.waitUntil(lambda: panel.mute.text() == "取消静音")
    qtbot.mouseClick(panel.hang_up, LEFT)
    qtbot.waitUntil(lambda: panel.close_.isVisible(), timeout=10000)
    assert panel.text.text() == "通话已结束。"
    qtbot.mouseClick(panel.close_, LEFT)
    assert not panel.isVisible() and button.isEnabled()
    facade.shutdown()
