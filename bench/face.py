"""Face pipeline benchmark: per-frame latency, time to decision, memory, ROC points.

Run: ``.venv/bin/python -m bench.face`` (``--quick`` for fewer runs).  Pinned to 2 cores when the
OS allows.  The last stdout line is one JSON object (keys: frame_ms_p50, frame_ms_p95,
decision_s_p50, peak_rss_mb, threshold, far, frr, genuine_pairs, impostor_pairs, plus
breakdowns); ``load`` is the machine's load average when the run started.

* frame latency: what the terminal does on **every** camera frame now
  (:class:`kiosk.identity.face_analysis.FastFrameAnalyser`: BlazeFace, the 478-point mesh and the
  quality gates), on jittered 640x480 frames of the demo media; ``embed_ms_*`` is the dlib work
  done on the few frames chosen for the match (crop detection + 5-point alignment + ResNet);
  ``dlib_frame_ms_*`` is the old every-frame dlib gate, for comparison.
* decision: :meth:`kiosk.identity.face.FaceVerifier.verify` with :class:`ChallengeLiveness` (2 random
  challenges out of blink / turn left / turn right / open mouth), against the card photo as the
  card carries it (102x126 WebP in the 1024-byte block, decoded), on a scripted sequence in which
  the person answers each challenge promptly: the frame after a challenge is asked shows the
  action (real photo frames turned / eyes painted shut / mouth opened:
  devices/camera/face_actions.py).  Frames are fed as fast as they are processed; the clock
  runs from the first frame (already compliant) to the returned decision, and includes the
  card photo's embedding.  ``decision_frames_p50`` is the frames the sequence needed: at a
  camera's 15 frames/s the person's own movements take at least that many / 15 seconds
  (``decision_s_at_15fps_p50``), whatever the computer does.  ``decision_match_only_s_p50`` is
  the same with liveness decided on the first frame (an IR camera's verdict);
  ``decision_ref_ready_s_p50`` the challenge decision when the card photo's embedding is already
  done (e.g. computed while the citizen turns from the card reader to the camera);
  ``decision_paced_15fps_s_p50`` the challenge decision with the frames arriving at 15 frames/s
  as from a camera (5 runs).
* ROC: every pair of the single-face photos in shared/testdata/faces (identities.tsv; the
  two-people and partial-face files are left out), each photo also in augmented variants
  (card format, dim and bright light, low resolution, dim card format).  Genuine pairs: two
  *different* photos of one person, every variant combination; impostor pairs: photos of two
  people, every variant combination.  Variants of one photo are not independent samples: the
  JSON gives the independent source pairs as well.  Images and embeddings stay in memory.
  ``target_window`` is the range of thresholds in which FAR <= 0.1 % and FRR <= 3 % both hold
  on these pairs; ``single_descriptor`` repeats the ROC point with dlib's plain descriptor
  instead of the mirror-averaged one the terminal uses (:meth:`kiosk.identity.face.FaceVerifier._describe`).
* memory: ``peak_rss_mb`` is the benchmark process's peak plus the dlib worker process's peak
  (kiosk/identity/face_worker.py; the decision runs embed there, like the terminal): an upper bound, as
  the two peaks need not coincide, and the ROC part loads dlib in this process too, which the
  terminal does not.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import time
from collections.abc import Callable, Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bench._stats import percentile
from devices.camera.face_actions import close_eyes, open_mouth, turn_head
from devices.camera.opencv import fit_on_canvas
from devices.camera.simulator import media_path
from devices.idcard.photo import SimulatorPhotoDecoder, encode_photo_block
from kiosk.identity.face import DEFAULT_THRESHOLD, Embedding, FaceQuality, FaceVerifier
from kiosk.identity.face_analysis import FastFrameAnalyser
from kiosk.identity.liveness import Challenge, ChallengeLiveness, MeshLandmarker

FACES = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "faces"
if not FACES.is_dir():
    FACES = Path("/work/shared/testdata/faces")
LIVE = ("obama_live1.jpg", "obama_live2.jpg", "biden_live.jpg", "kit_live.jpg")


def pin_two_cores() -> int:
    try:
        cpus = sorted(os.sched_getaffinity(0))[:2]
        os.sched_setaffinity(0, cpus)
    except (AttributeError, OSError):
        return os.cpu_count() or 1
    cv2.setNumThreads(len(cpus))
    return len(cpus)


def load(path: Path) -> Any:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"cannot read {path}")
    return img


def card_format(img: Any) -> Any | None:
    """What the ID card carries: the 102x126 WebP photo block, decoded again."""
    try:
        return SimulatorPhotoDecoder().decode(encode_photo_block(img))
    except ValueError:
        return None


def ms(values: list[float], name: str) -> dict[str, float]:
    return {f"{name}_p50": round(percentile(values, 50), 1), f"{name}_p95": round(percentile(values, 95), 1)}


def frame_latency(verifier: FaceVerifier, analyser: FastFrameAnalyser, n: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    bases = [fit_on_canvas(load(media_path(name)), 640, 480) for name in LIVE]
    fast, emb, old = [], [], []
    for i in range(n):
        base = bases[i % len(bases)]
        noise = rng.integers(-3, 4, size=base.shape, dtype=np.int16)
        frame = np.clip(base.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        t0 = time.perf_counter()
        check = analyser.analyse(frame)
        t1 = time.perf_counter()
        if check.box is not None:
            verifier.embed_region(frame, check.box)
        t2 = time.perf_counter()
        if i % 4 == 0:
            verifier.check_frame(frame)
        t3 = time.perf_counter()
        if i >= 4:  # warm-up
            fast.append((t1 - t0) * 1000)
            emb.append((t2 - t1) * 1000)
            if i % 4 == 0:
                old.append((t3 - t2) * 1000)
    out: dict[str, Any] = {}
    out.update(ms(fast, "frame_ms"))
    out.update(ms(emb, "embed_ms"))
    out.update(ms(old, "dlib_frame_ms"))
    return out


class ScriptedPerson:
    """Answers the challenge asked on the previous frame, promptly (turns hold, a blink is
    closed-then-open, the mouth stays open until the next prompt)."""

    def __init__(self, mesh: MeshLandmarker, liveness: ChallengeLiveness | None) -> None:
        frontal = fit_on_canvas(load(media_path("biden_live.jpg")), 640, 480)
        pts = mesh.landmarks(frontal)
        assert pts is not None
        nose_x = int(pts[1][0])
        self.frontal = frontal
        self.liveness = liveness
        self.actions: dict[Challenge, list[Any]] = {
            Challenge.TURN_LEFT: [turn_head(frontal, nose_x, person_left=True)],
            Challenge.TURN_RIGHT: [turn_head(frontal, nose_x, person_left=False)],
            Challenge.BLINK: [close_eyes(frontal, pts), frontal],
            Challenge.OPEN_MOUTH: [open_mouth(frontal, pts)],
        }
        self.frames = 0

    def __iter__(self) -> Iterator[Any]:
        step = 0
        asked: Challenge | None = None
        while True:
            current = self.liveness.current if self.liveness is not None else None
            if current is not asked:
                asked, step = current, 0
            self.frames += 1
            if current is None:
                yield self.frontal
            else:
                action = self.actions[current]
                yield action[step % len(action)]
                step += 1


def paced(frames: Iterator[Any], fps: float) -> Iterator[Any]:
    """Frames no faster than a camera delivers them (a late reader gets the next one at once)."""
    due = time.perf_counter()
    for frame in frames:
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        due = max(due + 1 / fps, time.perf_counter() - 1 / fps)
        yield frame


def decision_times(verifier: FaceVerifier, mesh: MeshLandmarker, runs: int) -> dict[str, Any]:
    reference = card_format(load(media_path("biden_card.jpg")))
    assert reference is not None
    ref_emb = verifier.embed_reference(reference)
    assert isinstance(ref_emb, Embedding)
    with_liveness: list[float] = []
    ref_ready: list[float] = []
    paced_15: list[float] = []
    frames_needed: list[int] = []
    match_only: list[float] = []
    passed = 0
    asked: dict[str, int] = {}
    for seed in range(runs):
        liveness = ChallengeLiveness(rng=random.Random(seed), challenges=2)
        person = ScriptedPerson(mesh, liveness)
        for c in liveness.sequence:
            asked[c.value] = asked.get(c.value, 0) + 1
        t0 = time.perf_counter()
        result = verifier.verify(reference, iter(person), timeout_s=30, max_frames=200, liveness=liveness)
        with_liveness.append(time.perf_counter() - t0)
        frames_needed.append(result.frames_used)
        passed += int(result.matched)
        if not result.matched:
            print(json.dumps({"run": seed, "reason": result.reason.value, "frames": result.frames_used}))
        liveness = ChallengeLiveness(rng=random.Random(seed), challenges=2)
        person = ScriptedPerson(mesh, liveness)
        t0 = time.perf_counter()
        verifier.verify(ref_emb, iter(person), timeout_s=30, max_frames=200, liveness=liveness)
        ref_ready.append(time.perf_counter() - t0)
        if seed < 5:  # a camera delivering 15 frames/s, the person reacting on the next frame
            liveness = ChallengeLiveness(rng=random.Random(seed), challenges=2)
            camera = paced(iter(ScriptedPerson(mesh, liveness)), 15.0)
            t0 = time.perf_counter()
            verifier.verify(reference, camera, timeout_s=30, max_frames=200, liveness=liveness)
            paced_15.append(time.perf_counter() - t0)
        plain = ScriptedPerson(mesh, None)
        t0 = time.perf_counter()
        verifier.verify(reference, iter(plain), timeout_s=30, max_frames=20)
        match_only.append(time.perf_counter() - t0)
    return {
        "decision_s_p50": round(statistics.median(with_liveness), 3),
        "decision_s_p95": round(percentile(with_liveness, 95), 3),
        "decision_s_max": round(max(with_liveness), 3),
        "decision_ref_ready_s_p50": round(statistics.median(ref_ready), 3),
        "decision_paced_15fps_s_p50": round(statistics.median(paced_15), 3),
        "decision_frames_p50": statistics.median(frames_needed),
        "decision_s_at_15fps_p50": round(statistics.median(frames_needed) / 15, 3),
        "decision_match_only_s_p50": round(statistics.median(match_only), 3),
        "decision_runs": runs,
        "decision_passed": passed,
        "challenges_asked": asked,
    }


VARIANTS: dict[str, Callable[[Any], Any | None]] = {
    "photo": lambda img: img,
    "card": card_format,
    "dim": lambda img: np.clip(img.astype(np.float32) * 0.45, 0, 255).astype(np.uint8),
    "bright": lambda img: np.clip(img.astype(np.float32) * 1.35 + 25, 0, 255).astype(np.uint8),
    "lowres": lambda img: cv2.resize(
        cv2.imdecode(
            cv2.imencode(".jpg", cv2.resize(img, None, fx=1 / 3, fy=1 / 3), [cv2.IMWRITE_JPEG_QUALITY, 35])[
                1
            ],
            cv2.IMREAD_COLOR,
        ),
        None,
        fx=3,
        fy=3,
        interpolation=cv2.INTER_LINEAR,
    ),
    "card_dim": lambda img: card_format(np.clip(img.astype(np.float32) * 0.55, 0, 255).astype(np.uint8)),
}


def roc(verifier: FaceVerifier, threshold: float) -> dict[str, Any]:
    rows = [line.split("\t") for line in (FACES / "identities.tsv").read_text().splitlines()[1:] if line]
    usable = [(r[0], r[1]) for r in rows if not r[1].startswith("(") and "partial" not in r[0]]
    # (identity, source photo, variant, embedding)
    embs: list[tuple[str, str, str, Embedding]] = []
    failed: list[str] = []
    for name, ident in usable:
        img = load(FACES / name)
        for vname, make in VARIANTS.items():
            variant = make(img)
            e = verifier.embed_reference(variant) if variant is not None else FaceQuality.NO_FACE
            if isinstance(e, Embedding):
                embs.append((ident, name, vname, e))
            else:
                failed.append(f"{name}:{vname}")
    same: list[float] = []
    diff: list[float] = []
    by_variant: dict[str, list[float]] = {}
    for (ia, pa, va, ea), (ib, pb, vb, eb) in combinations(embs, 2):
        if pa == pb:
            continue  # two variants of one photo: not a test of recognition
        d = ea.distance(eb)
        if ia == ib:
            same.append(d)
            by_variant.setdefault("+".join(sorted((va, vb))), []).append(d)
        else:
            diff.append(d)
    sources = {(ident, name) for name, ident in usable}
    src_same = sum(1 for a, b in combinations(sorted(sources), 2) if a[0] == b[0])
    src_diff = sum(1 for a, b in combinations(sorted(sources), 2) if a[0] != b[0])

    def point(t: float) -> dict[str, float]:
        return {
            "threshold": t,
            "far": round(sum(d <= t for d in diff) / len(diff), 5),
            "frr": round(sum(d > t for d in same) / len(same), 5),
        }

    at = point(threshold)
    # the thresholds at which both targets hold on these pairs: FRR <= 3 % needs t >= the
    # (k+1)-th largest genuine distance, FAR <= 0.1 % needs t < the (m+1)-th smallest impostor one
    k, m_ = int(0.03 * len(same)), int(0.001 * len(diff))
    lo, hi = sorted(same, reverse=True)[k], sorted(diff)[m_]
    window = [round(lo, 4), round(hi, 4)] if lo < hi else None
    worst_variant = max(by_variant, key=lambda k: max(by_variant[k]))
    return {
        "far": at["far"],
        "frr": at["frr"],
        "genuine_pairs": len(same),
        "impostor_pairs": len(diff),
        "far_resolution": round(1 / len(diff), 6),
        "far_upper95_if_zero": round(3 / len(diff), 5),  # rule of three, if the pairs were independent
        "genuine_source_pairs": src_same,
        "impostor_source_pairs": src_diff,
        "far_upper95_if_zero_independent_sources": round(3 / src_diff, 4),
        "photos": len(usable),
        "variants": list(VARIANTS),
        "embeddings": len(embs),
        "embedding_failed": failed,
        "genuine_max": round(max(same), 3),
        "impostor_min": round(min(diff), 3),
        "genuine_worst_variant_pair": worst_variant,
        "target_window": window,  # [lo, hi): FAR <= 0.1 % and FRR <= 3 % for lo <= t < hi (None: none)
        "roc": [
            point(t)
            for t in sorted({0.4, 0.45, 0.5, 0.55, 0.58, 0.59, 0.6, 0.61, 0.62, 0.65, 0.7, threshold})
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer frames and decision runs")
    args = parser.parse_args()
    load_avg = os.getloadavg()
    cores = pin_two_cores()
    threshold = DEFAULT_THRESHOLD
    verifier = FaceVerifier(threshold=threshold)
    t0 = time.perf_counter()
    verifier.load()
    analyser = verifier._get_analyser()
    assert isinstance(analyser, FastFrameAnalyser)
    mesh = MeshLandmarker()
    mesh.load()
    load_s = time.perf_counter() - t0
    out: dict[str, Any] = {
        "cores": cores,
        "load": [round(v, 2) for v in load_avg],
        "model_load_s": round(load_s, 2),
    }
    out.update(frame_latency(verifier, analyser, 24 if args.quick else 80))
    out.update(decision_times(verifier, mesh, 5 if args.quick else 20))
    out["embed_process"] = verifier.embed_process
    worker_peak = verifier.worker_peak_rss_mb()
    verifier.close()
    out["threshold"] = threshold
    out.update(roc(verifier, threshold))
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = worker_peak or 0.0  # VmHWM of the worker process, read before it ended
    out["peak_rss_mb"] = round(parent + worker, 1)  # upper bound: both peaks as if at once
    out["peak_rss_parent_mb"] = round(parent, 1)
    out["peak_rss_worker_mb"] = round(worker, 1)
    if not args.quick:  # the same pairs with dlib's plain single descriptor, for comparison
        single = FaceVerifier(threshold=threshold, mirror_average=False)
        single._models = verifier._models  # the same dlib models, only the descriptor differs
        plain = roc(single, threshold)
        keys = ("far", "frr", "genuine_max", "impostor_min", "target_window")
        out["single_descriptor"] = {k: plain[k] for k in keys}
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
