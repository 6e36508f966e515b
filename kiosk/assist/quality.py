"""Graceful degradation of a remote-help call: audio only while the link is poor.

The agent's receiver reports (RTCP) tell the terminal, for the audio it sends, the fraction of
packets lost since the last report and the round-trip time.  :class:`LinkMonitor` turns those
samples into a decision: after ``bad_samples`` poor samples in a row the terminal stops sending
video (camera and screen; audio and the data channel go on), after ``good_samples`` good ones
in a row it sends video again.  A sample is poor when the loss is at least ``max_loss`` or the
round trip at least ``max_rtt_s``.
"""

from __future__ import annotations

from dataclasses import dataclass

#: RTCP's fraction lost is an 8-bit fixed-point number (lost / 256).
RTCP_FRACTION_SCALE = 256.0


@dataclass
class LinkMonitor:
    max_loss: float = 0.15
    max_rtt_s: float = 0.8
    bad_samples: int = 3
    good_samples: int = 5
    audio_only: bool = False
    _bad: int = 0
    _good: int = 0

    def sample(self, fraction_lost: float, rtt_s: float | None) -> bool | None:
        """One sample (loss as a fraction 0..1); the new audio-only state when it changes, else None."""
        poor = fraction_lost >= self.max_loss or (rtt_s is not None and rtt_s >= self.max_rtt_s)
        if poor:
            self._bad += 1
            self._good = 0
        else:
            self._good += 1
            self._bad = 0
        if not self.audio_only and self._bad >= self.bad_samples:
            self.audio_only = True
            return True
        if self.audio_only and self._good >= self.good_samples:
            self.audio_only = False
            return False
        return None
