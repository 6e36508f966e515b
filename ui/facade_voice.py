"""Voice on every step, part of the one facade (:attr:`ui.facade.KioskFacade.voice`).

Each screen and each error the facade announces has a prompt, a catalogue text under ``voice.``
(``voice.step.<step>``, ``voice.error.<what>``) spoken in the citizen's language through a
:class:`kiosk.voice.Speaker` that the composition root attaches (none attached: silent).  A new
prompt interrupts the one being spoken; :meth:`VoiceFacade.repeat` says the last one again (the
重听 button); the volume and voice on/off are the citizen's (reset for each new citizen to the
configured default), and elderly mode turns voice on (:meth:`VoiceFacade.set_elderly_mode`).
Screens voice their own errors with :meth:`VoiceFacade.say_key`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, Signal

from kiosk.i18n import has_key, language, tr
from kiosk.session.machine import Step

if TYPE_CHECKING:
    from ui.facade import KioskFacade

log = logging.getLogger(__name__)

#: Steps with no prompt: nobody is being served there.
SILENT_STEPS = frozenset({Step.ATTRACT, Step.MAINTENANCE})


class SpeakerLike(Protocol):
    def say(self, text: str, lang: str | None = None) -> None: ...

    def stop(self) -> None: ...

    def set_volume(self, volume: float) -> None: ...

    def close(self) -> None: ...


def step_key(step: Step) -> str:
    return f"voice.step.{step.value}"


class VoiceFacade(QObject):
    changed = Signal()  # on/off or volume changed (the controls redraw)

    def __init__(
        self, facade: KioskFacade, *, enabled: bool = False, volume: float = 0.8, face_by_core: bool = False
    ) -> None:
        super().__init__(facade)
        self.facade = facade
        self.speaker: SpeakerLike | None = None
        self.default_enabled = enabled
        self.default_volume = volume
        self._enabled = enabled
        self._elderly = False
        self._volume = volume
        self._idle_warned = False
        self.last_key: str | None = None
        self._render: Callable[[], str] | None = None  # the last prompt's text, in the language shown now
        facade.stepChanged.connect(self._on_step)
        facade.problem.connect(lambda _p: self.say_key("voice.error.device_problem"))
        facade.idleWarning.connect(self._on_idle)
        facade.bug.connect(lambda _b: self.say_key("voice.error.bug"))
        facade.qrRefused.connect(lambda _m: self.say_key("voice.error.qr_refused"))
        facade.cardNotLifted.connect(lambda: self.say_key("voice.error.card_not_lifted"))
        # The face check's challenges (blink, turn): spoken here unless the core's FacePrompter
        # speaks them itself (``[face] voice``).
        self._face_by_core = face_by_core
        self._face_key: str | None = None
        facade.facePrompt.connect(self._on_face)
        elderly = getattr(facade, "elderlyModeChanged", None)  # the elderly-mode switch, where present
        if elderly is not None:
            elderly.connect(self.set_elderly_mode)

    # ------------------------------------------------------------------ set-up
    def attach(self, speaker: SpeakerLike | None) -> None:
        """The composition root hands over the speaker (None: no voice on this terminal)."""
        if self.speaker is not None:
            self.speaker.close()
        self.speaker = speaker
        if speaker is not None:
            speaker.set_volume(self._volume)
        self.changed.emit()

    @property
    def available(self) -> bool:
        return self.speaker is not None

    @property
    def enabled(self) -> bool:
        """Voice is on: switched on by the citizen or the config, or elderly mode is on."""
        return self._enabled or self._elderly

    @property
    def volume(self) -> float:
        return self._volume

    def set_enabled(self, on: bool) -> None:
        self._enabled = on
        if not self.enabled and self.speaker is not None:
            self.speaker.stop()
        elif on:
            self.repeat()
        self.changed.emit()

    def set_elderly_mode(self, on: bool) -> None:
        """Elderly mode (长辈模式) turns voice on; leaving it restores the citizen's choice."""
        was = self.enabled
        self._elderly = on
        if self.enabled and not was:
            self.repeat()
        elif was and not self.enabled and self.speaker is not None:
            self.speaker.stop()
        self.changed.emit()

    def set_volume(self, volume: float) -> None:
        self._volume = min(1.0, max(0.0, round(volume, 2)))
        if self.speaker is not None:
            self.speaker.set_volume(self._volume)
        self.changed.emit()

    def louder(self) -> None:
        self.set_volume(self._volume + 0.2)

    def softer(self) -> None:
        self.set_volume(self._volume - 0.2)

    # ------------------------------------------------------------------ speaking
    def say_key(self, key: str, **fmt: Any) -> None:
        """Speak the catalogue text ``key`` (when voice is on), interrupting what is being said."""
        if not has_key(key):
            log.warning("voice: no catalogue text %s", key)
            return
        self.say(key, lambda: tr(key, **fmt))

    def say(self, key: str, render: Callable[[], str]) -> None:
        """Speak ``render()`` (when voice is on); :meth:`repeat` renders it again."""
        self.last_key, self._render = key, render
        self.repeat()

    @property
    def last_text(self) -> str | None:
        return self._render() if self._render is not None else None

    def repeat(self) -> None:
        """重听: the last prompt again (in the language now shown)."""
        text = self.last_text
        if text is None or not self.enabled or self.speaker is None:
            return
        try:
            self.speaker.say(text, language())
        except Exception:  # the voice never stops the session
            log.exception("voice prompt failed")

    def _on_step(self, step: Step) -> None:
        if step is Step.ATTRACT:  # a new citizen: their own choice of voice and volume
            self._enabled = self.default_enabled
            self.set_volume(self.default_volume)
            self.last_key, self._render = None, None
            if self.speaker is not None:
                self.speaker.stop()
            return
        self._face_key = None
        if step in SILENT_STEPS:
            return
        ended = self.facade.rating.ended() if step is Step.RATING else "completed"

        def render() -> str:
            text = tr(step_key(step))
            if ended == "completed":
                return text
            return tr("rating.ended." + ended) + (" " if language() == "en" else "，") + text

        self.say(step_key(step), render)

    def _on_face(self, prompt: Any) -> None:
        key = getattr(prompt, "challenge_key", None)
        if key and key != self._face_key and not self._face_by_core:
            self._face_key = key
            self.say_key(key)

    def _on_idle(self, seconds: int) -> None:
        if seconds < 0:
            self._idle_warned = False
        elif not self._idle_warned:  # once per warning, not every tick of the count-down
            self._idle_warned = True
            self.say_key("voice.error.idle_warning", s=seconds)

    def close(self) -> None:
        if self.speaker is not None:
            self.speaker.close()
            self.speaker = None
