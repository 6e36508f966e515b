"""The face check's accuracy on faces it was not tuned on (issue 19): the reporting half of the
identities, card-format photo against live camera frames, through the terminal's own paths.

The embeddings of the material are computed once per run (module fixture); the reporting half
only, one live variant (as photographed) and one card variant, to keep this under a minute:
``bench/face`` runs every variant and both halves.
"""

from __future__ import annotations

import pytest

from bench.face import (
    EAST_ASIAN,
    Embedded,
    card_vs_live,
    choose_threshold,
    clopper_pearson_upper,
    embed_all,
    material,
    photo_vs_photo,
    point,
    required_impostor_pairs,
    split_of,
)
from kiosk.identity.face import DEFAULT_THRESHOLD, FaceVerifier
from kiosk.identity.face_analysis import FastFrameAnalyser

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report_set() -> list[Embedded]:
    verifier = FaceVerifier()
    verifier.load()
    analyser = verifier._get_analyser()
    assert isinstance(analyser, FastFrameAnalyser)
    photos = [p for p in material() if p.split == "report"]
    return embed_all(verifier, analyser, photos, live_variants=("photo",), card_variants=("card",))


def test_the_split_is_by_identity_and_fixed() -> None:
    photos = material()
    assert len({p.identity for p in photos}) == 52 and len(photos) >= 220
    assert sum(p.path.is_relative_to(EAST_ASIAN) for p in photos) == 209
    halves = {p.identity: p.split for p in photos}
    assert set(halves.values()) == {"choose", "report"}
    assert all(p.split == halves[p.identity] for p in photos)  # no identity on both sides
    assert split_of("Jackie_Chan") == split_of("Jackie_Chan")
    assert 15 <= sum(v == "report" for v in halves.values()) <= 37


def test_far_and_frr_on_the_reporting_half_card_against_camera(report_set: list[Embedded]) -> None:
    """At the terminal's threshold, on identities the threshold was not chosen on: FAR <= 0.1 %
    over the variant pairs, and no pair of people accepted more than once in a thousand."""
    scores = card_vs_live(report_set)
    at = point(scores, DEFAULT_THRESHOLD)
    assert at["impostor_pairs"] >= 10_000 and at["genuine_pairs"] >= 300, at
    assert at["far"] <= 0.001, at
    # FRR is above the 3 % target on this material (docs/face-check.md): a regression bound,
    # not the target
    assert at["frr"] <= 0.12, at
    assert at["far_ci95_upper_source_pairs"] >= at["far"]


def test_east_asian_faces_on_their_own(report_set: list[Embedded]) -> None:
    east = [e for e in report_set if e.photo.east_asian]
    at = point(card_vs_live(east), DEFAULT_THRESHOLD)
    assert at["far"] <= 0.001 and at["frr"] <= 0.12, at


def test_photo_against_photo(report_set: list[Embedded]) -> None:
    at = point(photo_vs_photo(report_set), DEFAULT_THRESHOLD)
    assert at["far"] <= 0.001 and at["frr"] <= 0.05, at


def test_threshold_choice_and_confidence_bound() -> None:
    """choose_threshold stays under the first impostor source pair that would pass the FAR target;
    the Clopper-Pearson bound is the rule of three for none accepted."""
    from bench.face import Scores

    s = Scores(
        genuine=[0.1, 0.2], impostor=[0.5, 0.7, 0.9], impostor_sources=[("a", "b"), ("a", "c"), ("b", "c")]
    )
    t = choose_threshold(s, far_target=0.0)
    assert t < 0.5 and point(s, t)["false_accepts"] == 0
    assert abs(clopper_pearson_upper(0, 3000) - 3 / 3000) < 0.0001
    assert clopper_pearson_upper(5, 1000) > 0.005
    assert required_impostor_pairs() == 2995


def test_misses_per_identity_and_the_variant_pair_rule() -> None:
    """misses_by_identity counts the rejected genuine card-vs-camera pairs per card identity, most
    first; the variant-pair rule sits under the impostor that would pass the FAR target."""
    from pathlib import Path

    import numpy as np

    from bench.face import Photo, Scores, choose_threshold_variant_pairs, misses_by_identity
    from kiosk.identity.face import Embedding

    def emb(*v: float) -> Embedding:
        return Embedding.of(np.array(v))

    def photo(ident: str, name: str, card: Embedding, live: Embedding) -> Embedded:
        return Embedded(Photo(ident, Path(name), True), {"card": card}, {"photo": live})

    a1 = photo("A", "a1.jpg", emb(1, 0), emb(1, 0.05))
    a2 = photo("A", "a2.jpg", emb(0, 1), emb(0.05, 1))  # A's two photos do not match each other
    b1 = photo("B", "b1.jpg", emb(1, 1), emb(1, 1))
    b2 = photo("B", "b2.jpg", emb(1, 0.9), emb(0.9, 1))
    rows = misses_by_identity([a1, a2, b1, b2], 0.3)
    assert rows[0] == {"identity": "A", "misses": 2, "genuine_pairs": 2}
    assert rows[1] == {"identity": "B", "misses": 0, "genuine_pairs": 2}
    s = Scores(impostor=[0.9, 0.5, 0.7], impostor_sources=[("a", "b")] * 3)
    assert 0.49 < choose_threshold_variant_pairs(s, far_target=0.0) < 0.5
    assert choose_threshold_variant_pairs(s, far_target=0.34) > 0.69  # one of three may pass
