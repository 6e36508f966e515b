"""Spoken prompts with the real espeak-ng: synthesised speech of plausible length, the volume,
a new prompt stopping the one being played (a real player process), the fallback engine."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from kiosk.voice import Audio, EspeakEngine, Speaker, VoiceUnavailable, build_speaker, clauses

PROMPT_ZH = "请将身份证放在读卡区"
PROMPT_EN = "Please place your ID card on the card reader."

# A stand-in for aplay: notes the file it plays, then "plays" until it is stopped, and notes that.
PLAYER = """
import signal, sys, time
log = open(sys.argv[1], "a")
def stopped(*_):
    log.write("stopped " + sys.argv[2] + "\\n"); log.flush(); sys.exit(0)
signal.signal(signal.SIGTERM, stopped)
log.write("playing " + sys.argv[2] + "\\n"); log.flush()
time.sleep(float(sys.argv[3]))
log.write("done " + sys.argv[2] + "\\n"); log.flush()
"""


def test_espeak_speaks_mandarin_and_english_of_plausible_length() -> None:
    engine = EspeakEngine()
    zh = engine.synthesize(PROMPT_ZH, "zh")
    en = engine.synthesize(PROMPT_EN, "en")
    longer = engine.synthesize(PROMPT_ZH + "，然后按照屏幕提示继续办理", "zh")
    for audio in (zh, en, longer):
        assert 0.8 < audio.duration_s < 12.0
        assert audio.rms() > 300  # speech, not silence
    assert longer.duration_s > zh.duration_s + 1.0
    assert Audio.from_wav(zh.wav()) == zh


def test_volume_scales_the_samples() -> None:
    audio = EspeakEngine().synthesize(PROMPT_ZH, "zh")
    half = audio.scaled(0.5)
    assert half.duration_s == audio.duration_s
    assert half.rms() == pytest.approx(audio.rms() / 2, rel=0.02)
    assert audio.scaled(0.0).rms() == 0.0


def _lines(log: Path, n: int, timeout: float = 20.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = log.read_text().splitlines() if log.exists() else []
        if len(lines) >= n:
            return lines
        time.sleep(0.05)
    raise AssertionError(f"player log has {lines}")


def test_a_new_prompt_stops_the_one_being_played(tmp_path: Path) -> None:
    script = tmp_path / "player.py"
    script.write_text(PLAYER.replace("sys.argv[2]", "sys.argv[-1]").replace("sys.argv[3]", "sys.argv[2]"))
    log = tmp_path / "played.log"
    speaker = Speaker(
        [EspeakEngine()], player=[sys.executable, str(script), str(log), "30"], wav_dir=tmp_path
    )
    try:
        speaker.say(PROMPT_ZH)
        first = _lines(log, 1)[0]
        assert first.startswith("playing ")
        speaker.say(PROMPT_EN, "en")  # interrupts
        lines = _lines(log, 3)
        assert lines[1] == "stopped " + first.split(" ", 1)[1]
        assert lines[2].startswith("playing ") and lines[2] != first
        speaker.stop()
        assert speaker.wait(10.0)
        assert _lines(log, 4)[3].startswith("stopped ")
        assert speaker.last_text == PROMPT_EN
    finally:
        speaker.close()
    wavs = sorted(tmp_path.glob("prompt-*.wav"))
    assert len(wavs) == 2
    assert Audio.from_wav(wavs[1].read_bytes()).rms() > 300


class _BrokenEngine:
    name = "broken"

    def speaks(self, lang: str) -> bool:
        return True

    def synthesize(self, text: str, lang: str) -> Audio:
        raise RuntimeError("model failed")


def test_espeak_speaks_when_the_preferred_engine_fails(tmp_path: Path) -> None:
    speaker = Speaker([_BrokenEngine(), EspeakEngine()], wav_dir=tmp_path, volume=1.0)
    try:
        speaker.say(PROMPT_ZH)
        assert speaker.wait(20.0)
    finally:
        speaker.close()
    assert speaker.last_timing is not None and speaker.last_timing[1] == "espeak-ng"
    (wav,) = tmp_path.glob("prompt-*.wav")
    assert Audio.from_wav(wav.read_bytes()).rms() > 300


def test_build_speaker_falls_back_to_espeak_and_refuses_without_any_engine() -> None:
    speaker = build_speaker(neural=False)
    try:
        assert [e.name for e in speaker.engines] == ["espeak-ng"]
    finally:
        speaker.close()
    with pytest.raises(VoiceUnavailable):
        EspeakEngine(binary="espeak-ng-not-installed")
    with pytest.raises(VoiceUnavailable):
        Speaker([])


def test_clauses_cut_after_punctuation_but_not_into_scraps() -> None:
    assert clauses("请核对信息，然后签名。谢谢您的耐心") == ["请核对信息，", "然后签名。", "谢谢您的耐心"]
    assert clauses("好，请稍候。") == ["好，请稍候。"]
    assert clauses("Done. Please take your card.") == ["Done.", "Please take your card."]
    assert clauses("") == [""]


def test_a_prompt_plays_clause_by_clause(tmp_path: Path) -> None:
    script = tmp_path / "player.py"
    script.write_text(PLAYER.replace("sys.argv[2]", "sys.argv[-1]").replace("sys.argv[3]", "sys.argv[2]"))
    log = tmp_path / "played.log"
    speaker = Speaker([EspeakEngine()], player=[sys.executable, str(script), str(log), "0"], wav_dir=tmp_path)
    try:
        speaker.say("请核对信息，然后签名。谢谢您的耐心")
        assert speaker.wait(30.0)
    finally:
        speaker.close()
    lines = _lines(log, 6)
    assert [line.split(" ")[0] for line in lines] == ["playing", "done"] * 3  # one clause after the other
    (wav,) = tmp_path.glob("prompt-*.wav")
    whole = Audio.from_wav(wav.read_bytes())
    assert whole.duration_s > 2.0 and whole.rms() > 300
