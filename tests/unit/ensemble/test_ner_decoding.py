"""NER ensembles: valid BIO decoding of averaged probabilities, and span voting."""

from __future__ import annotations

import numpy as np

from tuneforge.data.tags import bio_spans
from tuneforge.ensemble.ner import align_tags, span_vote
from tuneforge.models.bio_decode import viterbi_bio

TAGS = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


def _valid(tags):
    prev = "O"
    for t in tags:
        if t.startswith("I-") and prev[2:] != t[2:]:
            return False
        prev = t
    return True


def test_viterbi_never_starts_an_entity_with_i():
    # per-word argmax would be O, I-PER, I-PER: invalid; the best valid sequence is O, B-PER, I-PER
    probs = np.array(
        [
            [0.9, 0.02, 0.02, 0.03, 0.03],
            [0.1, 0.05, 0.05, 0.35, 0.45],
            [0.1, 0.05, 0.05, 0.1, 0.7],
        ]
    )
    assert viterbi_bio(probs, TAGS) == ["O", "B-PER", "I-PER"]


def test_viterbi_keeps_valid_argmax_and_handles_random_input():
    rng = np.random.default_rng(0)
    for _ in range(50):
        probs = rng.dirichlet(np.ones(len(TAGS)), size=7)
        assert _valid(viterbi_bio(probs, TAGS))
    probs = np.eye(5)[[1, 2, 0, 3]]
    assert viterbi_bio(probs, TAGS) == ["B-LOC", "I-LOC", "O", "B-PER"]
    assert viterbi_bio(np.zeros((0, 5)), TAGS) == []


def test_span_vote_keeps_majority_spans():
    a = ["B-PER", "I-PER", "O", "B-LOC"]
    b = ["B-PER", "I-PER", "O", "O"]
    c = ["B-PER", "O", "O", "B-LOC"]
    assert span_vote([a, b, c]) == ["B-PER", "I-PER", "O", "B-LOC"]
    # weighted: c alone outweighs a and b
    assert bio_spans(span_vote([a, b, c], weights=[1, 1, 5])) == [("PER", 0, 1), ("LOC", 3, 4)]


def test_span_vote_resolves_overlaps_by_votes():
    a = ["B-PER", "I-PER", "I-PER"]
    b = ["B-LOC", "I-LOC", "O"]
    assert span_vote([a, b, b], weights=[1, 1, 1]) == ["B-LOC", "I-LOC", "O"]


def test_align_tags_reorders_and_fills_missing():
    probs = np.array([[0.5, 0.3, 0.2]])
    out = align_tags(probs, ["O", "B-PER", "I-PER"], TAGS)
    assert out.tolist() == [[0.5, 0.0, 0.0, 0.3, 0.2]]
