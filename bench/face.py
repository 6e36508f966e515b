"""Face pipeline benchmark: per-frame latency, time to decision, memory, ROC points.

Run: ``.venv/bin/python -m bench.face`` (``--quick`` for fewer runs and only the "photo" live
variant; ``--no-roc`` for latency, decision and memory only).  Pinned to 2 cores when the OS allows.  The last stdout line is one JSON object; ``load``
is the machine's load average when the run started.

* frame latency: what the terminal does on **every** camera frame
  (:class:`kiosk.identity.face_analysis.FastFrameAnalyser`: BlazeFace, the 478-point mesh and the
  quality gates), on jittered 640x480 frames of the demo media; ``embed_ms_*`` is the embedding
  done on the few frames chosen for the match (YuNet on a crop around the face + SFace);
  ``check_frame_ms_*`` is :meth:`kiosk.identity.face.FaceVerifier.check_frame` (YuNet over the
  whole frame, gates, embedding), for comparison.
* decision: :meth:`kiosk.identity.face.FaceVerifier.verify` with :class:`ChallengeLiveness` (2 random
  challenges out of blink / turn left / turn right / open mouth), against the card photo as the
  card carries it (102x126 WebP in the 1024-byte block, decoded), on a scripted sequence in which
  the person answers each challenge promptly (devices/camera/face_actions.py).  Frames are fed as
  fast as they are processed; the clock runs from the first frame to the returned decision and
  includes the card photo's embedding and the ``live_frames`` (3) embeddings averaged for the
  comparison.  ``decision_frames_p50`` is the frames the sequence needed (at a camera's 15
  frames/s the person's own movements take at least that many / 15 seconds,
  ``decision_s_at_15fps_p50``); ``decision_match_only_s_p50``: liveness decided on the first frame
  (an IR camera's verdict); ``decision_ref_ready_s_p50``: the card photo's embedding already done;
  ``decision_paced_15fps_s_p50``: frames arriving at 15 frames/s (5 runs).
* ROC: the photos of shared/testdata/faces-east-asian (47 identities, 46 East Asian) and
  shared/testdata/faces (5 people), **split by identity** (:func:`split_of`: SHA-256 of the
  identity, first byte even = ``choose``, odd = ``report``).  The threshold is chosen on the choose
  half only (``threshold_chosen_on_choose_set``: FAR <= 0.1 % counted on source-photo pairs); the
  ``report_*`` and ``east_asian_*`` figures are on the other half, which nothing was tuned on.
  Protocol (the terminal's decision): photo A's card-format variants (the 102x126 WebP card block,
  also of a dimmed photo) through the card-photo path against photo B (B != A) shown to the
  camera: B in each live variant (as photographed, dim, bright, low resolution) framed as
  ``LIVE_FRAMES`` 640x480 camera frames (face centred at ~170 px, small random head movement,
  sensor noise), each through the frame analyser's quality gates, the compliant ones embedded on
  the gate's box and averaged, as :meth:`FaceVerifier.verify` does.  Genuine: A and B of one
  identity; impostor: of two.  ``report_photo_vs_photo``: two photos through the photo path;
  ``report_single_frame``: one live frame instead of the average.  FAR comes with its one-sided
  95 % Clopper-Pearson upper bound over the variant pairs (``far_ci95_upper`` in each point:
  variants of one photo are not independent, so it is optimistic), over source-photo pairs
  (``*_source_pairs``: a photo pair counts as accepted if any of its variant pairs is; the
  headline ``*_far_ci95_upper`` keys) and over pairs of people (``*_identity_pairs``: the most
  cautious).  ``far``/``frr``/``genuine_pairs``/``impostor_pairs``/``far_ci95_upper`` at top level
  are on both halves together.  ``report_misses_by_identity`` / ``choose_misses_by_identity``:
  the rejected genuine pairs per identity (whether a few people make FRR), and
  ``report_frr_without_3_most_missed_identities`` (a sensitivity figure, not a result: those
  identities are picked after the fact).  ``alternative_threshold_variant_pairs``: the threshold
  the same rule gives when FAR is counted over variant pairs instead of photo pairs, with its
  report-half figures, for comparison only (the terminal keeps the photo-pair rule).
  ``pipeline`` names the card and live paths measured.  Images and embeddings stay in memory.
* memory: ``peak_rss_mb`` is this process's peak resident memory after the decisions (models,
  frame analysis, decision runs; the terminal's face pipeline), ``baseline_rss_mb`` the same
  process before any face model loaded (Python, NumPy, OpenCV, MediaPipe imported), and
  ``face_pipeline_rss_mb`` the difference; ``worker_rss_mb`` is 0: the embedder runs in the
  terminal's own process (OpenCV releases the GIL), there is no worker process any more.
  ``peak_rss_roc_mb``: the peak after the ROC part (the material's images are in memory then).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import resource
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
from kiosk.identity.face_embedder import CARD_JITTER
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
    out.update(ms(old, "check_frame_ms"))
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


# ------------------------------------------------------------------ ROC material and protocol
EAST_ASIAN = FACES.parent / "faces-east-asian"
#: Identities of the East Asian set that are not East Asian (SOURCE.md).
NOT_EAST_ASIAN = frozenset({"Steve_Park"})
#: Frames per live sample: the terminal averages this many compliant frames per comparison.
LIVE_FRAMES = 3


def dim(img: Any) -> Any:
    return np.clip(img.astype(np.float32) * 0.45, 0, 255).astype(np.uint8)


def bright(img: Any) -> Any:
    return np.clip(img.astype(np.float32) * 1.35 + 25, 0, 255).astype(np.uint8)


def lowres(img: Any) -> Any:
    small = cv2.resize(img, None, fx=1 / 3, fy=1 / 3, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 35])
    assert ok
    dec = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return cv2.resize(dec, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)


#: What the camera side can look like (applied to the photo before it is framed as a camera frame).
LIVE_VARIANTS: dict[str, Callable[[Any], Any]] = {
    "photo": lambda img: img,
    "dim": dim,
    "bright": bright,
    "lowres": lowres,
}
#: What the card side can look like: the card's 102x126 WebP block (<= 1024 bytes), decoded.
CARD_VARIANTS: dict[str, Callable[[Any], Any | None]] = {
    "card": card_format,
    "card_dim": lambda img: card_format(np.clip(img.astype(np.float32) * 0.55, 0, 255).astype(np.uint8)),
}


@dataclass(frozen=True)
class Photo:
    identity: str
    path: Path
    east_asian: bool

    @property
    def split(self) -> str:
        return split_of(self.identity)


def split_of(identity: str) -> str:
    """The fixed split by identity: ``choose`` (the threshold is chosen on it) when the first byte
    of SHA-256(identity) is even, ``report`` (the figures are reported on it) when odd."""
    return "choose" if hashlib.sha256(identity.encode()).digest()[0] % 2 == 0 else "report"


def material() -> list[Photo]:
    """Every single-face photo with its identity: shared/testdata/faces-east-asian (47 identities)
    and shared/testdata/faces (5 people; the two-people and partial-face files left out)."""
    photos: list[Photo] = []
    ea_rows = (EAST_ASIAN / "identities.tsv").read_text().splitlines()[1:]
    for line in ea_rows:
        if line.strip():
            ident, name = line.split("\t")[:2]
            photos.append(Photo(ident, EAST_ASIAN / name, ident not in NOT_EAST_ASIAN))
    for line in (FACES / "identities.tsv").read_text().splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) >= 2 and not parts[1].startswith("(") and "partial" not in parts[0]:
            photos.append(Photo(parts[1], FACES / parts[0], False))
    return photos


def frame_photo(img: Any, centre: tuple[float, float], face_w: float, rng: Any) -> Any:
    """``img`` as a 640x480 camera frame: the face (centre, width) put in the middle at ~170 px
    wide (the person standing in the oval), with a small random head movement (rotation +-2 deg,
    scale +-3 %, shift +-4 px) and sensor noise, so the frames of one sample differ as a
    camera's consecutive frames do."""
    s = min(2.5, 170.0 / max(face_w, 1.0)) * rng.uniform(0.97, 1.03)
    m = cv2.getRotationMatrix2D(centre, rng.uniform(-2, 2), s)
    m[0, 2] += 320 - centre[0] + rng.uniform(-4, 4)
    m[1, 2] += 240 - centre[1] + rng.uniform(-4, 4)
    frame = cv2.warpAffine(img, m, (640, 480), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    noise = rng.normal(0, 2.5, frame.shape)
    return np.clip(frame.astype(np.float32) + noise, 0, 255).astype(np.uint8)


@dataclass
class Embedded:
    """One photo's embeddings: card variants, live samples (mean of the compliant frames, and
    the first frame alone), the photo itself (photo-vs-photo protocol)."""

    photo: Photo
    card: dict[str, Embedding] = field(default_factory=dict)
    live: dict[str, Embedding] = field(default_factory=dict)
    live_single: dict[str, Embedding] = field(default_factory=dict)
    plain: Embedding | None = None
    refused: list[str] = field(default_factory=list)  # variants that gave no embedding, and why


def embed_photo(
    verifier: FaceVerifier,
    analyser: FastFrameAnalyser,
    photo: Photo,
    live_variants: tuple[str, ...],
    card_variants: tuple[str, ...],
    frames: int = LIVE_FRAMES,
) -> Embedded:
    """The photo through the terminal's own paths: the card variants through
    :meth:`FaceVerifier.embed_reference` (the card photo path), each live variant as ``frames``
    camera frames through the frame analyser's quality gates and :meth:`FaceVerifier.embed_region`
    on the gate's box (the live path), averaged like :meth:`FaceVerifier.verify` does."""
    img = load(photo.path)
    out = Embedded(photo)
    plain = verifier.embed_reference(img)
    out.plain = plain if isinstance(plain, Embedding) else None
    for name in card_variants:
        card = CARD_VARIANTS[name](img)
        e = verifier.embed_reference(card) if card is not None else FaceQuality.NO_FACE
        if isinstance(e, Embedding):
            out.card[name] = e
        else:
            out.refused.append(f"{name}:{'no_card_block' if card is None else e.value}")
    # where the person stands: the face nearest the photo's centre (LFW centres on its subject)
    faces = verifier.embedder.detect(img)
    if len(faces) == 0:
        out.refused.extend(f"{v}:no_face" for v in live_variants)
        return out
    h, w = img.shape[:2]
    face = min(faces, key=lambda f: (f[0] + f[2] / 2 - w / 2) ** 2 + (f[1] + f[3] / 2 - h / 2) ** 2)
    centre = (float(face[0] + face[2] / 2), float(face[1] + face[3] / 2))
    seed = int.from_bytes(hashlib.sha256(str(photo.path.name).encode()).digest()[:4], "big")
    for name in live_variants:
        source = LIVE_VARIANTS[name](img)
        rng = np.random.default_rng(seed)
        got: list[Embedding] = []
        last = "no_face"
        for _ in range(frames):
            frame = frame_photo(source, centre, float(face[2]), rng)
            check = analyser.analyse(frame)
            last = check.quality.value
            if check.quality is FaceQuality.OK and check.box is not None:
                found = verifier.embed_region(frame, check.box)
                if found is not None:
                    got.append(found)
        if got:
            out.live[name] = Embedding.mean(got)
            out.live_single[name] = got[0]
        else:
            out.refused.append(f"{name}:{last}")
    return out


def embed_all(
    verifier: FaceVerifier,
    analyser: FastFrameAnalyser,
    photos: list[Photo],
    live_variants: tuple[str, ...] = tuple(LIVE_VARIANTS),
    card_variants: tuple[str, ...] = tuple(CARD_VARIANTS),
    frames: int = LIVE_FRAMES,
) -> list[Embedded]:
    return [embed_photo(verifier, analyser, p, live_variants, card_variants, frames) for p in photos]


@dataclass
class Scores:
    """Distances of genuine and impostor pairs, with the source photos and identities of each."""

    genuine: list[float] = field(default_factory=list)
    impostor: list[float] = field(default_factory=list)
    impostor_sources: list[tuple[str, str]] = field(default_factory=list)  # (photo a, photo b)
    impostor_identities: list[tuple[str, str]] = field(default_factory=list)


def card_vs_live(embedded: list[Embedded], single_frame: bool = False) -> Scores:
    """Every card variant of photo A against every live sample of another photo B (the
    terminal's decision: the card against the camera)."""
    out = Scores()
    for a in embedded:
        for b in embedded:
            if a is b:
                continue  # a photo against itself is not a test of recognition
            lives = b.live_single if single_frame else b.live
            for ce in a.card.values():
                for le in lives.values():
                    d = ce.distance(le)
                    if a.photo.identity == b.photo.identity:
                        out.genuine.append(d)
                    else:
                        out.impostor.append(d)
                        out.impostor_sources.append((a.photo.path.name, b.photo.path.name))
                        out.impostor_identities.append(tuple(sorted((a.photo.identity, b.photo.identity))))  # type: ignore[arg-type]
    return out


def photo_vs_photo(embedded: list[Embedded]) -> Scores:
    """Every unordered pair of two different photos, both through the photo path."""
    out = Scores()
    for i, a in enumerate(embedded):
        for b in embedded[i + 1 :]:
            if a.plain is None or b.plain is None:
                continue
            d = a.plain.distance(b.plain)
            if a.photo.identity == b.photo.identity:
                out.genuine.append(d)
            else:
                out.impostor.append(d)
                out.impostor_sources.append((a.photo.path.name, b.photo.path.name))
                out.impostor_identities.append(tuple(sorted((a.photo.identity, b.photo.identity))))  # type: ignore[arg-type]
    return out


def clopper_pearson_upper(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided upper confidence bound of a binomial rate with ``k`` events in ``n`` trials
    (Clopper-Pearson, exact; for k = 0 it is 1 - (1 - confidence)^(1/n), ~3/n: the rule of three)."""
    if n <= 0:
        return 1.0
    if k >= n:
        return 1.0
    alpha = 1.0 - confidence

    def cdf(p: float) -> float:  # P(X <= k) for X ~ Binomial(n, p)
        total = 0.0
        log_p, log_q = math.log(p), math.log1p(-p)
        for i in range(k + 1):
            log_c = math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
            total += math.exp(log_c + i * log_p + (n - i) * log_q)
        return total

    lo, hi = k / n, 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if mid <= 0.0 or cdf(mid) > alpha:
            lo = mid
        else:
            hi = mid
    return hi


def point(scores: Scores, t: float) -> dict[str, Any]:
    """FAR and FRR at threshold ``t`` (a match when distance <= t) with FAR's 95 % upper bounds:
    over the variant pairs (not independent), over source-photo pairs (a photo pair counts as
    accepted when any of its variant pairs is) and over identity pairs (the same, per pair of
    people: the most cautious)."""
    accepted = [i for i, d in enumerate(scores.impostor) if d <= t]
    sources = set(scores.impostor_sources)
    identities = set(scores.impostor_identities)
    acc_sources = {scores.impostor_sources[i] for i in accepted}
    acc_identities = {scores.impostor_identities[i] for i in accepted}
    n_gen, n_imp = len(scores.genuine), len(scores.impostor)
    return {
        "threshold": round(t, 4),
        "far": round(len(accepted) / n_imp, 6) if n_imp else None,
        "frr": round(sum(d > t for d in scores.genuine) / n_gen, 5) if n_gen else None,
        "genuine_pairs": n_gen,
        "impostor_pairs": n_imp,
        "false_accepts": len(accepted),
        "far_ci95_upper": round(clopper_pearson_upper(len(accepted), n_imp), 6),
        "impostor_source_pairs": len(sources),
        "source_pairs_accepted": len(acc_sources),
        "far_ci95_upper_source_pairs": round(clopper_pearson_upper(len(acc_sources), len(sources)), 6),
        "impostor_identity_pairs": len(identities),
        "identity_pairs_accepted": len(acc_identities),
        "far_ci95_upper_identity_pairs": round(
            clopper_pearson_upper(len(acc_identities), len(identities)), 5
        ),
    }


def choose_threshold(scores: Scores, far_target: float = 0.001) -> float:
    """The largest threshold whose FAR on ``scores`` stays within ``far_target``, counted on
    source-photo pairs (a photo pair with any accepted variant pair counts as accepted): just
    below the distance of the first impostor pair that would take FAR past the target."""
    by_source: dict[tuple[str, str], float] = {}
    for d, src in zip(scores.impostor, scores.impostor_sources, strict=True):
        by_source[src] = min(d, by_source.get(src, math.inf))
    closest = sorted(by_source.values())
    allowed = int(far_target * len(closest))
    return float(np.nextafter(closest[allowed], -np.inf))


def misses_by_identity(embedded: list[Embedded], t: float) -> list[dict[str, Any]]:
    """Genuine card-vs-camera pairs rejected at ``t``, per identity (the card's), most first: whether
    a few people's photos make most of FRR."""
    scores: dict[str, list[int]] = {}
    for a in embedded:
        for b in embedded:
            if a is b or a.photo.identity != b.photo.identity:
                continue
            row = scores.setdefault(a.photo.identity, [0, 0])
            for ce in a.card.values():
                for le in b.live.values():
                    row[0] += int(ce.distance(le) > t)
                    row[1] += 1
    rows = [{"identity": k, "misses": v[0], "genuine_pairs": v[1]} for k, v in scores.items()]
    return sorted(rows, key=lambda r: (-r["misses"], r["identity"]))


def choose_threshold_variant_pairs(scores: Scores, far_target: float = 0.001) -> float:
    """The alternative rule (not the terminal's): FAR counted over every variant pair."""
    ordered = sorted(scores.impostor)
    return float(np.nextafter(ordered[int(far_target * len(ordered))], -np.inf))


def required_impostor_pairs(far: float = 0.001, confidence: float = 0.95) -> int:
    """Independent impostor pairs needed for an upper bound below ``far`` with none accepted."""
    return math.ceil(math.log(1 - confidence) / math.log(1 - far))


def roc(
    verifier: FaceVerifier,
    analyser: FastFrameAnalyser,
    threshold: float,
    *,
    live_variants: tuple[str, ...] = tuple(LIVE_VARIANTS),
    card_variants: tuple[str, ...] = tuple(CARD_VARIANTS),
    embedded: list[Embedded] | None = None,
) -> dict[str, Any]:
    """The ROC figures on the material (see the module docstring).  ``embedded``: reuse embeddings."""
    if embedded is None:
        embedded = embed_all(verifier, analyser, material(), live_variants, card_variants)
    choose = [e for e in embedded if e.photo.split == "choose"]
    report = [e for e in embedded if e.photo.split == "report"]
    choose_scores = card_vs_live(choose)
    chosen = choose_threshold(choose_scores)
    alternative = choose_threshold_variant_pairs(choose_scores)
    all_cl = point(card_vs_live(embedded), threshold)
    rep = point(card_vs_live(report), threshold)
    ea = point(card_vs_live([e for e in report if e.photo.east_asian]), threshold)
    rep_single = point(card_vs_live(report, single_frame=True), threshold)
    rep_pp = point(photo_vs_photo(report), threshold)
    ch = point(card_vs_live(choose), threshold)
    ids = {e.photo.identity for e in embedded}

    def only_live(variant: str) -> list[Embedded]:
        return [
            Embedded(e.photo, e.card, {variant: e.live[variant]} if variant in e.live else {}) for e in report
        ]

    by_variant = {v: point(card_vs_live(only_live(v)), threshold) for v in live_variants}
    worst = {r["identity"] for r in misses_by_identity(report, threshold)[:3]}
    out: dict[str, Any] = {
        "far": all_cl["far"],
        "frr": all_cl["frr"],
        "genuine_pairs": all_cl["genuine_pairs"],
        "impostor_pairs": all_cl["impostor_pairs"],
        "far_ci95_upper": all_cl["far_ci95_upper_source_pairs"],
        "identities": len(ids),
        "identities_east_asian": len({e.photo.identity for e in embedded if e.photo.east_asian}),
        "photos": len(embedded),
        "live_variants": list(live_variants),
        "card_variants": list(card_variants),
        "live_frames_per_sample": LIVE_FRAMES,
        "split": "sha256(identity)[0] even: choose, odd: report",
        "choose_identities": len({e.photo.identity for e in choose}),
        "report_identities": len({e.photo.identity for e in report}),
        "threshold_chosen_on_choose_set": round(chosen, 4),
        "chosen_on": ch,
        "report_far": rep["far"],
        "report_frr": rep["frr"],
        "report_far_ci95_upper": rep["far_ci95_upper_source_pairs"],
        "report": rep,
        "east_asian_far": ea["far"],
        "east_asian_frr": ea["frr"],
        "east_asian_far_ci95_upper": ea["far_ci95_upper_source_pairs"],
        "east_asian": ea,
        "report_frr_by_live_variant": {v: p["frr"] for v, p in by_variant.items()},
        "report_far_by_live_variant": {v: p["far"] for v, p in by_variant.items()},
        "report_single_frame": rep_single,
        "report_photo_vs_photo": rep_pp,
        "independent_impostor_pairs_needed_for_far_0.1pct": required_impostor_pairs(),
        "report_misses_by_identity": misses_by_identity(report, threshold)[:8],
        "report_frr_without_3_most_missed_identities": point(
            card_vs_live([e for e in report if e.photo.identity not in worst]), threshold
        )["frr"],
        "choose_misses_by_identity": misses_by_identity(choose, threshold)[:8],
        "threshold_rule": "largest distance with FAR <= 0.1 % on the choose half, card vs camera, "
        "counted on source-photo pairs (a photo pair is accepted if any variant pair is)",
        "alternative_threshold_variant_pairs": {
            "rule": "FAR <= 0.1 % counted over variant pairs on the choose half (not adopted)",
            "threshold": round(alternative, 4),
            "report": point(card_vs_live(report), alternative),
        },
        "pipeline": {
            "card": f"{verifier.embedder.card_upsample}x Lanczos, YuNet, alignment"
            + (f" + {len(CARD_JITTER)} key point changes averaged" if verifier.embedder.card_jitter else ""),
            "live": "face brought to the card's resolution, then the card's upsampling"
            if verifier.embedder.match_card
            else "face scaled to ~150 px",
        },
        "embedding_refused": sorted(f"{e.photo.path.name}:{r}" for e in embedded for r in e.refused),
    }
    return out


def rss_mb() -> float:
    """This process's current resident memory (Linux ``VmRSS``), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs, only the 'photo' live variant")
    parser.add_argument("--no-roc", action="store_true", help="latency, decision and memory only")
    args = parser.parse_args()
    load_avg = os.getloadavg()
    cores = pin_two_cores()
    threshold = DEFAULT_THRESHOLD
    import mediapipe  # noqa: F401  (imported before the baseline: the terminal imports it anyway)

    baseline = rss_mb()
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
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["peak_rss_mb"] = round(peak, 1)
    out["baseline_rss_mb"] = round(baseline, 1)
    out["face_pipeline_rss_mb"] = round(peak - baseline, 1)
    out["worker_rss_mb"] = 0.0
    out["peak_rss_parent_mb"], out["peak_rss_worker_mb"] = out["peak_rss_mb"], 0.0  # earlier keys
    out["threshold"] = threshold
    if not args.no_roc:
        t0 = time.perf_counter()
        live = ("photo",) if args.quick else tuple(LIVE_VARIANTS)
        out.update(roc(verifier, analyser, threshold, live_variants=live))
        out["roc_s"] = round(time.perf_counter() - t0, 1)
        out["peak_rss_roc_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    verifier.close()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
