"""Spoken prompts: the face screen says what it shows ("请眨眨眼", "请靠近一些", ...).

:class:`Voice` is the interface; :class:`EspeakVoice` speaks with the
``espeak-ng`` program (Debian package ``espeak-ng``; the Chinese voice
``cmn-latn-pinyin`` ships with it).  A new prompt interrupts the one still
playing, so the citizen always hears the current instruction.  Optional: the
terminal speaks only when ``face.voice`` is on in the config.  Only prompt texts
are spoken and logged, never personal data.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

log = logging.getLogger(__name__)


class VoiceUnavailable(RuntimeError):
    """The speech program is not installed."""


@runtime_checkable
class Voice(Protocol):
    def say(self, text: str) -> None:
        """Speak ``text`` now, cutting off whatever is still being said.  Never blocks long."""
        ...

    def close(self) -> None: ...


class EspeakVoice:
    """``espeak-ng`` in a child process per utterance.  ``wav_dir`` writes each utterance to a
    numbered WAV file instead of the sound card (for tests and for checking the output)."""

    def __init__(
        self,
        voice: str = "cmn-latn-pinyin",
        *,
        speed_wpm: int = 150,
        binary: str = "espeak-ng",
        wav_dir: Path | None = None,
    ) -> None:
        path = shutil.which(binary)
        if path is None:
            raise VoiceUnavailable(f"{binary} is not installed (Debian package espeak-ng)")
        self._binary = path
        self.voice = voice
        self.speed_wpm = speed_wpm
        self.wav_dir = wav_dir
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._count = 0

    def say(self, text: str) -> None:
        with self._lock:
            self._stop()
            self._count += 1
            args = [self._binary, "-v", self.voice, "-s", str(self.speed_wpm)]
            if self.wav_dir is not None:
                args += ["-w", str(self.wav_dir / f"prompt-{self._count:03d}.wav")]
            args += ["--", text]
            try:
                self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            except OSError as err:
                log.warning("voice prompt failed: %s", err)
                self._proc = None

    def wait(self, timeout: float = 10.0) -> None:
        """Wait until the current utterance is done (tests, shutdown)."""
        with self._lock:
            proc = self._proc
        if proc is not None:
            proc.wait(timeout=timeout)

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def close(self) -> None:
        with self._lock:
            self._stop()
