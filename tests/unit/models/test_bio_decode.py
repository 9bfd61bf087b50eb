"""NER decodings: Viterbi is the best valid IOB2 sequence; lenient and strict read the argmax as
seqeval's default and strict modes do."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from seqeval.metrics import f1_score
from seqeval.scheme import IOB2

from tuneforge.errors import ConfigError
from tuneforge.evaluate.metrics import entity_report
from tuneforge.models.bio_decode import allowed_transitions, decode_bio, strict_bio, viterbi_bio
from tuneforge.models.tasks import get_task
from tuneforge.types import Example

TAGS = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


def _valid(seq) -> bool:
    ok = allowed_transitions(TAGS)
    idx = [TAGS.index(t) for t in seq]
    return not seq or (not seq[0].startswith("I-") and all(ok[a, b] for a, b in itertools.pairwise(idx)))


def test_the_three_decodings_on_a_stray_inside_tag():
    # argmax: O, I-PER, I-PER -- no B-PER in front
    probs = np.array(
        [[0.9, 0.02, 0.02, 0.03, 0.03], [0.1, 0.05, 0.05, 0.35, 0.45], [0.1, 0.05, 0.05, 0.1, 0.7]]
    )
    assert decode_bio(probs, TAGS, "lenient") == ["O", "B-PER", "I-PER"]
    assert decode_bio(probs, TAGS, "strict") == ["O", "O", "O"]
    assert decode_bio(probs, TAGS, "viterbi") == ["O", "B-PER", "I-PER"]
    # a lone, unsure I-LOC after O: Viterbi weighs O against B-LOC instead of inventing an entity
    probs = np.array([[0.9, 0.02, 0.02, 0.03, 0.03], [0.4, 0.1, 0.45, 0.03, 0.02]])
    assert decode_bio(probs, TAGS, "lenient") == ["O", "B-LOC"]
    assert decode_bio(probs, TAGS, "viterbi") == ["O", "O"]
    with pytest.raises(ValueError, match="unknown NER decoding"):
        decode_bio(probs, TAGS, "greedy")


def test_viterbi_is_the_most_probable_valid_sequence():
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 4):
        for _ in range(20):
            probs = rng.dirichlet(np.ones(len(TAGS)) * 0.5, size=n)
            best, best_lp = None, -np.inf
            for seq in itertools.product(TAGS, repeat=n):
                if _valid(list(seq)):
                    lp = sum(np.log(probs[w, TAGS.index(t)]) for w, t in enumerate(seq))
                    if lp > best_lp:
                        best, best_lp = list(seq), lp
            assert viterbi_bio(probs, TAGS) == best
    assert decode_bio(np.zeros((0, 5)), TAGS, "strict") == []


def test_strict_and_lenient_score_like_seqeval_modes():
    rng = np.random.default_rng(7)
    gold, pred = [], []
    for _ in range(200):
        n = int(rng.integers(1, 9))
        gold.append([TAGS[j] for j in rng.integers(0, 5, size=n)])
        pred.append([TAGS[j] for j in rng.integers(0, 5, size=n)])
    gold = [strict_bio(g) for g in gold]  # valid gold, as after reading
    strict = entity_report(gold, [strict_bio(p) for p in pred])["micro"]["f1"]
    assert strict == pytest.approx(f1_score(gold, pred, mode="strict", scheme=IOB2), abs=1e-12)
    lenient = entity_report(
        gold, [decode_bio(np.eye(5)[[TAGS.index(t) for t in p]], TAGS, "lenient") for p in pred]
    )
    assert lenient["micro"]["f1"] == pytest.approx(f1_score(gold, pred), abs=1e-12)


def test_token_task_decodes_as_configured():
    labels = TAGS
    probs = torch.tensor(
        [[[0.2, 0.2, 0.2, 0.2, 0.2], [0.9, 0.02, 0.02, 0.03, 0.03], [0.1, 0.05, 0.05, 0.35, 0.45]]]
    )
    feats = [{"word_starts": [1, 2]}]
    ex = Example(text="at Anna", tokens=("at", "Anna"))
    got = {}
    for mode in ("viterbi", "lenient", "strict"):
        (pred,) = get_task("ner", {"ner_decoding": mode}).decode(probs, feats, [ex], labels)
        got[mode] = (pred.tags, [(e.type, e.text) for e in pred.entities])
    assert got["viterbi"] == got["lenient"] == (["O", "B-PER"], [("PER", "Anna")])
    assert got["strict"] == (["O", "O"], [])
    assert get_task("ner").decoding == "viterbi"
    with pytest.raises(ConfigError, match="unknown NER decoding"):
        get_task("ner", {"ner_decoding": "greedy"})
