"""The rating screen as a citizen meets it after cancelling: five neutral levels, reasons for 不满意,
a thank-you, the rating at the sandbox platform; every step spoken (real espeak-ng to WAV files)."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest
from PySide6.QtWidgets import QPushButton

from kiosk.i18n import set_language, tr
from kiosk.session.machine import Step
from kiosk.voice import Audio, Speaker
from terminal.runtime import DEMO_CITIZENS
from tests.conftest import Factory

pytestmark = pytest.mark.slow
SENIOR, BUSINESS, _EXPIRED = DEMO_CITIZENS
LEVELS = ("very_good", "good", "fair", "bad", "very_bad")


@pytest.fixture(autouse=True)
def chinese() -> None:
    set_language("zh")
    yield
    set_language("zh")


def test_negative_rating_after_cancel_with_reasons_reaches_the_platform(
    kiosk: Factory, tmp_path: Path
) -> None:
    terminal, ui, driver = kiosk()
    assert terminal.bench is not None
    wavs = tmp_path / "voice"
    wavs.mkdir()
    voice = ui.facade.voice
    driver.wait_until(lambda: voice.speaker is not None, 30.0, "the terminal's speaker")  # built at start
    speaker = voice.speaker
    assert isinstance(speaker, Speaker)
    speaker.player, speaker.wav_dir = None, wavs  # no sound device here: each utterance to a WAV file
    voice.set_enabled(True)

    driver.begin(BUSINESS.item_id)
    driver.present(BUSINESS)
    driver.wait_step(Step.FORM, timeout=30)
    driver.click("cancel")
    driver.click("cancelConfirm")  # 确定要取消吗？ → 确认取消
    driver.wait_step(Step.RATING)
    assert driver.find("ratingEnded").text() == tr("rating.ended.cancelled")
    buttons = [driver.find(f"rate:{level}", QPushButton) for level in LEVELS]
    assert [b.text() for b in buttons] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert len({b.property("role") for b in buttons}) == 1  # all five alike: no level is pushed
    widths, heights = [b.width() for b in buttons], {b.height() for b in buttons}
    assert max(widths) - min(widths) <= 1 and len(heights) == 1  # the same size (a pixel of rounding)
    assert all(b.accessibleName() for b in buttons)

    driver.click("rate:bad")
    send = driver.find("reasonsSubmit", QPushButton)
    assert not send.isEnabled()  # a negative rating names its reasons
    driver.click("reason:too_slow")
    driver.click("reason:equipment")
    assert driver.find("reason:too_slow", QPushButton).text().startswith("✓")
    assert send.isEnabled()
    driver.click("reasonsSubmit")
    driver.find("ratingThanks")  # the thank-you is shown
    screen = driver.window.stack.currentWidget()
    assert screen.page() == "thanks" and screen.thanks.text() == "感谢您的评价"
    driver.wait_step(Step.ATTRACT, timeout=15)

    terminal.drainer.kick()
    got: list[dict[str, object]] = []

    def received() -> bool:
        reply = terminal.client.transport.request("GET", "/_sandbox/ratings", auth=False)
        got[:] = json.loads(reply.body)
        return bool(got)

    driver.wait_until(received, 20.0, "the rating at the platform")
    (rating,) = got
    assert rating["item_id"] == BUSINESS.item_id and rating["terminal_id"] == terminal.config.terminal_id
    assert rating["level"] == 2 and rating["reasons"] == ["too_slow", "equipment"]
    assert rating["ended"] == "cancelled" and rating["case_id"] is None

    # Voice: each screen's prompt was spoken (the last ones win when they follow fast).
    assert speaker.wait(30.0)
    spoken = sorted(wavs.glob("prompt-*.wav"))
    assert spoken, "no prompt was spoken"
    for path in spoken:
        with wave.open(str(path)) as w:
            audio = Audio(w.readframes(w.getnframes()), w.getframerate())
        assert 0.3 < audio.duration_s < 15.0
        assert audio.rms() > 300  # speech, not silence

    # The next citizen starts with the configured default (off); elderly mode turns voice on, 重听 repeats.
    assert not voice.enabled
    count = len(list(wavs.glob("prompt-*.wav")))
    voice.set_elderly_mode(True)
    assert voice.enabled
    driver.click("start")
    driver.wait_step(Step.CHOOSE_ITEM)
    assert voice.last_text == tr("voice.step.choose_item")
    driver.click("voiceRepeat")
    assert speaker.wait(30.0)
    assert len(list(wavs.glob("prompt-*.wav"))) >= count + 1
    voice.set_elderly_mode(False)
    assert not voice.enabled


def test_every_screen_and_error_has_a_voice_prompt_in_both_languages() -> None:
    from ui.facade_voice import SILENT_STEPS, step_key

    keys = [step_key(s) for s in Step if s not in SILENT_STEPS]
    keys += [
        f"voice.error.{e}" for e in ("device_problem", "idle_warning", "bug", "qr_refused", "card_not_lifted")
    ]
    keys += ["voice.rating.reasons", "voice.rating.thanks"]
    for lang in ("zh", "en"):
        for key in keys:
            text = tr(key, lang, s=10)
            assert text and text != key, (lang, key)
