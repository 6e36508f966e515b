"""What the face screen shows and says while the face check runs.

:class:`FacePrompter` turns the per-frame :class:`kiosk.identity.face.FaceProgress`
(quality gate, current liveness challenge) into a :class:`FacePrompt` of
translation keys for the screen, and speaks an instruction through a
:class:`kiosk.voice.Voice` when it changes: a new challenge at once, a quality
problem once it has lasted ``speak_after`` frames (so a one-frame flicker is
not read out).  While a challenge is asked, the gates its own action trips
(turned away during a turn, eyes closed during a blink) are not shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.identity.face import FaceProgress, FaceQuality
from kiosk.voice import Voice

log = logging.getLogger(__name__)

#: quality gates a challenge's own action trips
_EXPECTED_DURING_CHALLENGE = {FaceQuality.TURNED_AWAY, FaceQuality.EYES_CLOSED, FaceQuality.OK}


@dataclass(frozen=True)
class FacePrompt:
    """Translation keys for the face screen; None when there is nothing to say on that line."""

    quality_key: str | None  # face.quality.<FaceQuality value>
    challenge_key: str | None  # face.challenge.<Challenge value>
    frames: int = 0


class FacePrompter:
    def __init__(
        self, voice: Voice | None = None, text_for: Callable[[str], str] | None = None, speak_after: int = 3
    ) -> None:
        self.voice = voice
        self.text_for = text_for or (lambda key: key)
        self.speak_after = speak_after
        self.spoken: list[str] = []  # keys spoken in this check, in order (prompt keys only)
        self._last_spoken: str | None = None
        self._quality: FaceQuality | None = None
        self._quality_frames = 0

    def reset(self) -> None:
        self.spoken.clear()
        self._last_spoken = None
        self._quality = None
        self._quality_frames = 0

    def update(self, progress: FaceProgress) -> FacePrompt:
        challenge_key = f"face.challenge.{progress.challenge}" if progress.challenge else None
        quality = progress.quality
        if quality is self._quality:
            self._quality_frames += 1
        else:
            self._quality, self._quality_frames = quality, 1
        quality_key: str | None = None
        if quality is not None and not (challenge_key and quality in _EXPECTED_DURING_CHALLENGE):
            quality_key = f"face.quality.{quality.value}"
        if challenge_key is not None:
            self._say(challenge_key)
        elif (
            quality_key is not None
            and quality is not FaceQuality.OK
            and self._quality_frames >= self.speak_after
        ):
            self._say(quality_key)
        return FacePrompt(quality_key, challenge_key, progress.frames)

    def _say(self, key: str) -> None:
        if key == self._last_spoken:
            return
        self._last_spoken = key
        self.spoken.append(key)
        if self.voice is not None:
            try:
                self.voice.say(self.text_for(key))
            except Exception:  # a voice failure must never stop the face check
                log.exception("voice prompt failed")
