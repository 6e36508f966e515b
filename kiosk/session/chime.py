"""A short chime at the terminal (the citizen called staff): two sine tones as a 16-bit WAV made in
memory, played with the first player found (``aplay``, ``paplay``, ``pw-play``).

The terminal may have no sound device or no player: then the chime fails quietly with one log
line; it never blocks the caller (the player runs as a child process).  ``wav_dir`` writes each
chime to a numbered file instead of playing it (tests, checking the sound).
"""

from __future__ import annotations

import io
import logging
import math
import shutil
import struct
import subprocess
import threading
import wave
from pathlib import Path

log = logging.getLogger(__name__)

RATE = 22050
#: Two falling tones (E6, C6) of 0.18 s each: a doorbell-like "ding-dong".
TONES: tuple[tuple[float, float], ...] = ((1318.5, 0.18), (1046.5, 0.28))
PLAYERS: tuple[str, ...] = ("aplay", "paplay", "pw-play")


def chime_wav(volume: float = 0.5) -> bytes:
    """The chime as a mono 16-bit WAV, each tone with a short attack and an exponential decay."""
    frames = bytearray()
    for freq, seconds in TONES:
        n = int(RATE * seconds)
        for i in range(n):
            t = i / RATE
            envelope = min(1.0, i / (0.005 * RATE)) * math.exp(-4.0 * t / seconds)
            frames += struct.pack("<h", int(32767 * volume * envelope * math.sin(2 * math.pi * freq * t)))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))
    return buf.getvalue()


class Chime:
    def __init__(self, *, wav_dir: Path | None = None, players: tuple[str, ...] = PLAYERS) -> None:
        self.wav_dir = wav_dir
        self.players = players
        self._wav = chime_wav()
        self._count = 0
        self._lock = threading.Lock()

    def play(self) -> bool:
        """Ring once; False (logged) when there is nothing to ring with."""
        with self._lock:
            self._count += 1
            if self.wav_dir is not None:
                (self.wav_dir / f"chime-{self._count:03d}.wav").write_bytes(self._wav)
                return True
        player = next((p for p in map(shutil.which, self.players) if p), None)
        if player is None:
            log.info("chime not played: no sound player (%s) on this terminal", ", ".join(self.players))
            return False
        try:
            proc = subprocess.Popen(
                [player, "-q", "-"] if player.endswith("aplay") else [player, "-"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError as err:
            log.info("chime not played: %s", err)
            return False
        threading.Thread(target=self._feed, args=(proc,), name="chime", daemon=True).start()
        return True

    def _feed(self, proc: subprocess.Popen[bytes]) -> None:
        try:
            proc.communicate(self._wav, timeout=5.0)
        except (OSError, subprocess.TimeoutExpired) as err:
            proc.kill()
            log.info("chime not played: %s", err)
            return
        if proc.returncode:
            log.info("chime not played: the player found no sound device (exit %s)", proc.returncode)
