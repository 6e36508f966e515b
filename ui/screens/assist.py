"""Remote help on screen: the 远程帮办 button in the header and the call panel over the window.

The panel floats at the right of the window, so the screen the agent watches stays visible and
usable under it: consent (the recording announced), the queue place with cancel, the call (the
agent's video, large mute and hang-up buttons always visible, chat lines, the agent's remote
acceptance), an agent's field change to confirm or decline, and the end's message.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import tr
from ui.facade_assist import AssistFacade, AssistView, ProposalView
from ui.slots import follow
from ui.widgets import BigButton

PANEL_WIDTH = 400


class AssistPanel(QFrame):
    def __init__(self, facade: AssistFacade, parent: QWidget) -> None:
        super().__init__(parent)
        self.facade = facade
        self.setObjectName("assistPanel")
        self.setStyleSheet(
            "#assistPanel { background: #ffffff; border: 2px solid #1f6feb; border-radius: 12px; }"
            " QLabel { font-size: 18px; }"
        )
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 16, 16, 16)
        lay.setSpacing(12)
        self.title = QLabel()
        self.title.setObjectName("assistTitle")
        self.title.setWordWrap(True)
        self.text = QLabel()
        self.text.setObjectName("assistText")
        self.text.setWordWrap(True)
        self.video = QLabel()
        self.video.setObjectName("assistVideo")
        self.video.setFixedSize(PANEL_WIDTH - 36, (PANEL_WIDTH - 36) * 3 // 4)
        self.video.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.video.setStyleSheet("background: #222;")
        self.field = QLabel()
        self.field.setObjectName("assistField")
        self.field.setWordWrap(True)
        self.field.setStyleSheet("background: #fff4d6; padding: 8px;")
        self.chat = QLabel()
        self.chat.setObjectName("assistChat")
        self.chat.setWordWrap(True)
        self.agree = BigButton(role="primary")
        self.decline = BigButton(role="secondary")
        self.cancel = BigButton(role="secondary")
        self.mute = BigButton(role="secondary")
        self.hang_up = BigButton(role="danger")
        self.confirm_field = BigButton(role="primary")
        self.keep_field = BigButton(role="secondary")
        self.close_ = BigButton(role="secondary")
        for name, b in (
            ("assistAgree", self.agree),
            ("assistDecline", self.decline),
            ("assistCancel", self.cancel),
            ("assistMute", self.mute),
            ("assistHangUp", self.hang_up),
            ("assistConfirmField", self.confirm_field),
            ("assistKeepField", self.keep_field),
            ("assistClose", self.close_),
        ):
            b.setObjectName(name)
        for w in (self.title, self.text, self.video, self.field, self.chat):
            lay.addWidget(w)
        for pair in (
            (self.agree, self.decline),
            (self.confirm_field, self.keep_field),
            (self.mute, self.hang_up),
        ):
            row = QHBoxLayout()
            for b in pair:
                b.setMinimumWidth(150)
                row.addWidget(b)
            lay.addLayout(row)
        lay.addWidget(self.cancel)
        lay.addWidget(self.close_)
        lay.addStretch(1)
        self.agree.clicked.connect(lambda: facade.consent(True))
        self.decline.clicked.connect(lambda: facade.consent(False))
        self.cancel.clicked.connect(facade.cancel)
        self.mute.clicked.connect(facade.toggle_mute)
        self.hang_up.clicked.connect(facade.hang_up)
        self.close_.clicked.connect(facade.dismiss)
        self.confirm_field.clicked.connect(lambda: self._answer(True))
        self.keep_field.clicked.connect(lambda: self._answer(False))
        self._proposal: ProposalView | None = None
        self._chat: list[str] = []
        facade.status.connect(self.show_view)
        facade.proposal.connect(self.show_proposal)
        facade.chat.connect(self.add_chat)
        facade.acceptance.connect(self.show_acceptance)
        facade.remoteFrame.connect(self.show_frame)
        self.show_view(facade.view)

    def show_view(self, view: AssistView) -> None:
        state = view.state
        self.setVisible(state != "idle")
        self.title.setText(tr("assist.consent.title") if state == "consent" else tr("assist.button"))
        text = tr(view.text_key, **dict(view.args)) if view.text_key else ""
        self.text.setText(text + ("\n" + tr("assist.audio_only") if view.audio_only else ""))
        self.agree.setText(tr("assist.consent.agree"))
        self.decline.setText(tr("assist.consent.decline"))
        self.cancel.setText(tr("assist.cancel"))
        self.mute.setText(tr("assist.unmute") if view.muted else tr("assist.mute"))
        self.hang_up.setText(tr("assist.hang_up"))
        self.close_.setText(tr("assist.close"))
        self.confirm_field.setText(tr("assist.field.confirm"))
        self.keep_field.setText(tr("assist.field.decline"))
        live = state in ("connecting", "in_call")
        self.agree.setVisible(state == "consent")
        self.decline.setVisible(state == "consent")
        self.cancel.setVisible(state == "queued")
        self.mute.setVisible(live)
        self.hang_up.setVisible(live)
        self.video.setVisible(live)
        self.chat.setVisible(live and bool(self._chat))
        self.close_.setVisible(state == "ended")
        if not live:
            self.show_proposal(None)
            self._chat.clear()
            self.video.clear()
        else:
            self.show_proposal(self._proposal)
        self.raise_()

    def show_proposal(self, proposal: ProposalView | None) -> None:
        self._proposal = proposal
        shown = proposal is not None
        for w in (self.field, self.confirm_field, self.keep_field):
            w.setVisible(shown)
        if proposal is not None:
            self.field.setText(
                tr("assist.field.title", label=proposal.label, old=proposal.old_value, new=proposal.new_value)
            )

    def _answer(self, accepted: bool) -> None:
        proposal = self._proposal
        if proposal is None:
            return
        self.facade.confirm_field(proposal.proposal_id, accepted)
        if accepted:  # the form on screen shows the confirmed value at once (the core has it too)
            window = self.window()
            edit = window.findChild(QLineEdit, f"field:{proposal.key}") if window is not None else None
            if isinstance(edit, QLineEdit) and not edit.isReadOnly():
                edit.setText(proposal.new_value)

    def add_chat(self, who: str, text: str) -> None:
        self._chat = [*self._chat, ("» " if who == "agent" else "« ") + text][-3:]
        self.chat.setText("\n".join(self._chat))
        self.chat.setVisible(True)

    def show_acceptance(self, agent: str, decision: str) -> None:
        self.add_chat("agent", tr("assist.acceptance", agent=agent, decision=decision))

    def show_frame(self, image: QImage) -> None:
        self.video.setPixmap(
            QPixmap.fromImage(image).scaled(
                self.video.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation,
            )
        )


class PointerMark(QLabel):
    """A red ring where the agent points, for a few seconds (the agent sees it in the screen track)."""

    SIZE = 56

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("assistPointer")
        self.setFixedSize(self.SIZE, self.SIZE)
        self.setStyleSheet(
            f"border: 6px solid #e5322d; border-radius: {self.SIZE // 2}px; background: rgba(229, 50, 45, 60);"
        )
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(4000)
        self._timer.timeout.connect(self.hide)

    def point(self, x: float, y: float) -> None:
        area = self.parentWidget()
        if area is None:
            return
        self.move(int(x * area.width()) - self.SIZE // 2, int(y * area.height()) - self.SIZE // 2)
        self.show()
        self.raise_()
        self._timer.start()


class _Follow(QObject):
    """Keeps the panel at the right edge of the window when it is resized."""

    def __init__(self, window: QMainWindow, panel: AssistPanel) -> None:
        super().__init__(window)
        self.window = window
        self.panel = panel
        window.installEventFilter(self)
        self.place()

    def place(self) -> None:
        central = self.window.centralWidget()
        height = central.height() if central is not None else self.window.height()
        self.panel.setGeometry(self.window.width() - PANEL_WIDTH - 16, 70, PANEL_WIDTH, max(300, height - 90))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self.place()
        return False


def install_assist(window: QMainWindow, header_anchor: QPushButton, facade: AssistFacade) -> QPushButton:
    """Put the 远程帮办 button in the header, before ``header_anchor`` (呼叫工作人员), and the
    panel over ``window``; the button."""
    button = QPushButton(tr("assist.button"))
    button.setObjectName("assistButton")
    button.setMinimumHeight(56)
    button.clicked.connect(facade.ask)
    header = header_anchor.parentWidget()
    layout = header.layout() if header is not None else None
    if isinstance(layout, QHBoxLayout):
        layout.insertWidget(layout.indexOf(header_anchor), button)
    central = window.centralWidget()
    panel = AssistPanel(facade, central if central is not None else window)
    window._assist_follow = _Follow(window, panel)  # type: ignore[attr-defined]
    mark = PointerMark(central if central is not None else window)
    facade.pointer.connect(mark.point)
    facade.window = window
    # the assist facade outlives the window: connected for as long as the button lives
    follow(facade.status, button, lambda view: button.setEnabled(view.state in ("idle", "ended")))
    language = getattr(window, "lang", None)  # the header's language button (ui/main_window.py)
    if isinstance(language, QPushButton):  # runs after the window's own toggle: texts in the new language
        language.clicked.connect(lambda: (button.setText(tr("assist.button")), panel.show_view(facade.view)))
    return button
