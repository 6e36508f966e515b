"""When a call drops to voice only and when its video comes back (kiosk/assist/quality.py)."""

from __future__ import annotations

from kiosk.assist.quality import LinkMonitor


def test_three_poor_samples_in_a_row_switch_to_audio_only() -> None:
    m = LinkMonitor()
    assert [m.sample(0.3, 0.05) for _ in range(3)] == [None, None, True]
    assert m.audio_only


def test_an_isolated_poor_sample_changes_nothing() -> None:
    m = LinkMonitor()
    for lost in (0.3, 0.0, 0.3, 0.0, 0.3, 0.0):
        assert m.sample(lost, 0.05) is None
    assert not m.audio_only


def test_a_long_round_trip_is_poor_too() -> None:
    m = LinkMonitor(max_rtt_s=0.5)
    assert [m.sample(0.0, 0.9) for _ in range(3)][-1] is True


def test_video_comes_back_after_five_good_samples() -> None:
    m = LinkMonitor()
    for _ in range(3):
        m.sample(0.5, None)
    assert [m.sample(0.01, 0.05) for _ in range(5)] == [None, None, None, None, False]
    assert not m.audio_only
