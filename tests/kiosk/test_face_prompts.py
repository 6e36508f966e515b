"""Face screen prompts (FacePrompter) and the spoken voice (espeak-ng, run for real into WAV files)."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from kiosk.i18n import tr
from kiosk.identity.face import FaceProgress, FaceQuality
from kiosk.identity.face_prompts import FacePrompter
from kiosk.voice import EspeakVoice, Voice, VoiceUnavailable


class Recorder:
    def __init__(self) -> None:
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def close(self) -> None:
        pass


def test_challenge_prompt_shown_and_spoken_once() -> None:
    rec = Recorder()
    p = FacePrompter(rec, lambda k: tr(k, "zh"))
    first = p.update(FaceProgress(FaceQuality.OK, None, 1))
    assert first.challenge_key is None and first.quality_key == "face.quality.ok"
    for n in range(2, 6):
        prompt = p.update(FaceProgress(FaceQuality.TURNED_AWAY, "turn_left", n))
        assert prompt.challenge_key == "face.challenge.turn_left"
        assert prompt.quality_key is None  # turning is what was asked: no "face the camera"
    p.update(FaceProgress(FaceQuality.EYES_CLOSED, "blink", 6))
    assert rec.said == ["请向左转头", "请眨眨眼"]
    assert p.spoken == ["face.challenge.turn_left", "face.challenge.blink"]


def test_quality_problem_spoken_after_it_lasts() -> None:
    rec = Recorder()
    p = FacePrompter(rec, lambda k: tr(k, "en"), speak_after=3)
    p.update(FaceProgress(FaceQuality.NO_FACE, None, 1))
    p.update(FaceProgress(FaceQuality.TOO_SMALL, None, 2))  # a flicker is not read out
    assert rec.said == []
    for n in range(3, 6):
        shown = p.update(FaceProgress(FaceQuality.TOO_SMALL, None, n))
        assert shown.quality_key == "face.quality.too_small"
    assert rec.said == ["Please come closer"]
    p.update(FaceProgress(FaceQuality.OK, None, 6))
    assert rec.said == ["Please come closer"]  # "good" is shown, not spoken


def test_every_quality_and_challenge_has_a_text() -> None:
    from kiosk.i18n import has_key
    from kiosk.identity.liveness import Challenge

    for q in FaceQuality:
        assert has_key(f"face.quality.{q.value}"), q
    for c in Challenge:
        assert has_key(f"face.challenge.{c.value}"), c


def test_espeak_voice_speaks_chinese_prompts(tmp_path: Path) -> None:
    """espeak-ng for real (Debian package espeak-ng), into WAV files instead of the sound card."""
    try:
        voice = EspeakVoice("cmn-latn-pinyin", wav_dir=tmp_path)
    except VoiceUnavailable as err:
        pytest.fail(f"espeak-ng is part of the terminal's system packages: {err}")
    assert isinstance(voice, Voice)
    p = FacePrompter(voice, lambda k: tr(k, "zh"))
    p.update(FaceProgress(FaceQuality.OK, "blink", 1))
    voice.wait()
    p.update(FaceProgress(FaceQuality.OK, "turn_right", 2))
    voice.wait()
    voice.close()
    wavs = sorted(tmp_path.glob("prompt-*.wav"))
    assert len(wavs) == 2
    for w in wavs:
        with wave.open(str(w)) as f:
            seconds = f.getnframes() / f.getframerate()
        assert 0.3 < seconds < 5.0, (w.name, seconds)


def test_missing_speech_program_is_reported() -> None:
    with pytest.raises(VoiceUnavailable):
        EspeakVoice(binary="espeak-ng-not-installed")
