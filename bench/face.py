"""Face pipeline benchmark: per-frame latency, time to decision, memory, ROC points.

Run: ``.venv/bin/python -m bench.face``.  Pinned to 2 cores when the OS allows.
The last stdout line is one JSON object (keys: frame_ms_p50, frame_ms_p95,
decision_s_p50, peak_rss_mb, threshold, far, frr, plus breakdowns and pair counts).

* frame latency: dlib HOG detection, MediaPipe face mesh (478 landmarks), dlib
  5-point alignment + ResNet embedding, on jittered 640x480 frames of the demo
  media.
* decision: :meth:`kiosk.face.FaceVerifier.verify` with :class:`ChallengeLiveness`
  (2 random turn challenges) on a scripted sequence (3 rest frames, then the
  asked turns synthesised by warping the real face), frames fed as fast as they
  are processed, from the first frame to the returned decision.
* ROC: every pair of the single-face photos in shared/testdata/faces
  (identities.tsv; the two-people and partial-face files are left out), full
  photos through ``embed_reference``.  Images and embeddings stay in memory.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import time
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bench._stats import percentile
from devices.camera.opencv import fit_on_canvas
from devices.camera.simulator import media_path
from kiosk.face import DEFAULT_THRESHOLD, Embedding, FaceVerifier
from kiosk.liveness import Challenge, ChallengeLiveness, MeshLandmarker

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


def frame_latency(verifier: FaceVerifier, mesh: MeshLandmarker, n: int = 40) -> dict[str, float]:
    models = verifier._get_models()
    rng = np.random.default_rng(0)
    bases = [fit_on_canvas(load(media_path(name)), 640, 480) for name in LIVE]
    det, lmk, emb, tot = [], [], [], []
    for i in range(n):
        base = bases[i % len(bases)]
        noise = rng.integers(-3, 4, size=base.shape, dtype=np.int16)
        frame = np.clip(base.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        t0 = time.perf_counter()
        rgb = np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        rects = list(models.detector(rgb, 1))
        t1 = time.perf_counter()
        mesh.landmarks(frame)
        t2 = time.perf_counter()
        if rects:
            shape = models.shape_predictor(rgb, rects[0])
            models.recogniser.compute_face_descriptor(rgb, shape)
        t3 = time.perf_counter()
        if i >= 2:  # warm-up
            det.append((t1 - t0) * 1000)
            lmk.append((t2 - t1) * 1000)
            emb.append((t3 - t2) * 1000)
            tot.append((t3 - t0) * 1000)
    return {
        "frame_ms_p50": round(percentile(tot, 50), 1),
        "frame_ms_p95": round(percentile(tot, 95), 1),
        "detect_ms_p50": round(percentile(det, 50), 1),
        "detect_ms_p95": round(percentile(det, 95), 1),
        "landmarks_ms_p50": round(percentile(lmk, 50), 1),
        "landmarks_ms_p95": round(percentile(lmk, 95), 1),
        "embed_ms_p50": round(percentile(emb, 50), 1),
        "embed_ms_p95": round(percentile(emb, 95), 1),
    }


def warp_turn(img: Any, nose_x: int, squeeze_image_left: bool, squeeze: float = 0.5) -> Any:
    h, w = img.shape[:2]
    out = np.zeros_like(img)
    if squeeze_image_left:
        part = cv2.resize(img[:, :nose_x], (int(nose_x * squeeze), h), interpolation=cv2.INTER_AREA)
        out[:, nose_x:] = img[:, nose_x:]
        out[:, nose_x - part.shape[1] : nose_x] = part
    else:
        part = cv2.resize(img[:, nose_x:], (int((w - nose_x) * squeeze), h), interpolation=cv2.INTER_AREA)
        out[:, :nose_x] = img[:, :nose_x]
        out[:, nose_x : nose_x + part.shape[1]] = part
    return out


def decision_times(mesh: MeshLandmarker, runs: int = 5) -> tuple[list[float], list[float], int]:
    frontal = fit_on_canvas(load(media_path("biden_live.jpg")), 640, 480)
    reference = load(media_path("biden_card.jpg"))
    pts = mesh.landmarks(frontal)
    assert pts is not None
    nose_x = int(pts[1][0])
    turned = {
        Challenge.TURN_LEFT: warp_turn(frontal, nose_x, squeeze_image_left=False),
        Challenge.TURN_RIGHT: warp_turn(frontal, nose_x, squeeze_image_left=True),
    }
    with_liveness: list[float] = []
    match_only: list[float] = []
    passed = 0
    plain = FaceVerifier()
    plain.load()
    ref_emb = plain.embed_reference(reference)
    assert isinstance(ref_emb, Embedding)
    for seed in range(runs):
        liveness = ChallengeLiveness(
            mesh, rng=random.Random(seed), pool=[Challenge.TURN_LEFT, Challenge.TURN_RIGHT], challenges=2
        )
        verifier = FaceVerifier(liveness=liveness)
        verifier.load()

        def frames(lv: ChallengeLiveness = liveness) -> Iterator[Any]:
            for _ in range(3):
                yield frontal
            for _ in range(6):
                challenge = lv.current
                yield frontal if challenge is None else turned[challenge]

        t0 = time.perf_counter()
        result = verifier.verify(ref_emb, frames(), timeout_s=30, max_frames=20)
        with_liveness.append(time.perf_counter() - t0)
        passed += int(result.matched)
        t0 = time.perf_counter()
        plain.verify(ref_emb, iter([frontal]), timeout_s=30, max_frames=5)
        match_only.append(time.perf_counter() - t0)
    return with_liveness, match_only, passed


def roc(verifier: FaceVerifier, threshold: float) -> dict[str, Any]:
    rows = [line.split("\t") for line in (FACES / "identities.tsv").read_text().splitlines()[1:] if line]
    usable = [(r[0], r[1]) for r in rows if not r[1].startswith("(") and "partial" not in r[0]]
    embs: list[tuple[str, Embedding]] = []
    for name, ident in usable:
        e = verifier.embed_reference(load(FACES / name))
        if isinstance(e, Embedding):
            embs.append((ident, e))
    same: list[float] = []
    diff: list[float] = []
    for (ia, ea), (ib, eb) in combinations(embs, 2):
        (same if ia == ib else diff).append(ea.distance(eb))

    def point(t: float) -> dict[str, float]:
        far = sum(d <= t for d in diff) / len(diff)
        frr = sum(d > t for d in same) / len(same)
        return {"threshold": t, "far": round(far, 4), "frr": round(frr, 4)}

    at = point(threshold)
    return {
        "far": at["far"],
        "frr": at["frr"],
        "pairs_same": len(same),
        "pairs_different": len(diff),
        "photos": len(embs),
        "same_max": round(max(same), 3),
        "different_min": round(min(diff), 3),
        "roc": [point(t) for t in (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)],
    }


def main() -> None:
    cores = pin_two_cores()
    threshold = DEFAULT_THRESHOLD
    verifier = FaceVerifier(threshold=threshold)
    t0 = time.perf_counter()
    verifier.load()
    mesh = MeshLandmarker()
    mesh.load()
    load_s = time.perf_counter() - t0
    out: dict[str, Any] = {"cores": cores, "model_load_s": round(load_s, 2)}
    out.update(frame_latency(verifier, mesh))
    with_liveness, match_only, passed = decision_times(mesh)
    out["decision_s_p50"] = round(statistics.median(with_liveness), 3)
    out["decision_s_max"] = round(max(with_liveness), 3)
    out["decision_match_only_s_p50"] = round(statistics.median(match_only), 3)
    out["decision_runs"] = len(with_liveness)
    out["decision_passed"] = passed
    out["threshold"] = threshold
    out.update(roc(verifier, threshold))
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
