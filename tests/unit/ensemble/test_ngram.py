"""The n-gram model (TF-IDF word + character n-grams, logistic regression) on hand-written texts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tuneforge.errors import ConfigError
from tuneforge.models.ngram import NgramModel, NgramOptions, is_ngram_dir

TEXTS = [
    "my card was lost yesterday",
    "i lost my card at the shop",
    "card missing please block it",
    "please refund my payment",
    "i want a refund for this order",
    "refund the money to my account",
    "what is the exchange rate today",
    "exchange rate for euros please",
]
LABELS = ["lost_card"] * 3 + ["refund"] * 3 + ["exchange_rate"] * 2


def test_fits_predicts_and_reloads_identically(tmp_path):
    model = NgramModel(["exchange_rate", "lost_card", "refund", "unseen"], "classification").fit(
        TEXTS, LABELS
    )
    probs = model.predict_proba(TEXTS + ["refund please for my order"])
    assert probs.shape == (9, 4) and np.allclose(probs.sum(1), 1.0)
    assert [model.labels[i] for i in probs[:8].argmax(1)] == LABELS
    assert model.labels[int(probs[8].argmax())] == "refund"
    assert np.all(probs[:, 3] == 0.0), "a label without training text keeps probability zero"
    model.save(tmp_path / "m", {"note": "x"})
    assert is_ngram_dir(tmp_path / "m") and not is_ngram_dir(tmp_path)
    meta = json.loads((tmp_path / "m" / "tuneforge.json").read_text())
    assert meta["kind"] == "ngram" and meta["note"] == "x" and meta["features"] == model.coef_.shape[1]
    again = NgramModel.load(tmp_path / "m")
    assert np.array_equal(again.predict_proba(TEXTS + ["zzz"]), model.predict_proba(TEXTS + ["zzz"]))


def test_two_classes_give_the_logistic_probability():
    texts, labels = TEXTS[:6], LABELS[:6]
    model = NgramModel(["lost_card", "refund"], "classification").fit(texts, labels)
    probs = model.predict_proba(texts)
    assert [model.labels[i] for i in probs.argmax(1)] == labels
    assert np.allclose(probs.sum(1), 1.0)


def test_zero_weight_leaves_a_text_out_of_vocabulary_and_fit():
    weights = [1.0] * 7 + [0.0]
    model = NgramModel(["exchange_rate", "lost_card", "refund"], "classification").fit(TEXTS, LABELS, weights)
    assert "euros" not in model.vectorizers_[0].vocabulary_
    full = NgramModel(["exchange_rate", "lost_card", "refund"], "classification").fit(TEXTS, LABELS)
    assert "euros" in full.vectorizers_[0].vocabulary_
    with pytest.raises(ConfigError, match="positive weight"):
        NgramModel(["a"], "classification").fit(["x y"], ["a"], [0.0])


def test_multilabel_scores_each_label_and_handles_constant_labels(tmp_path):
    targets = [["card"], ["card"], ["card", "urgent"], [], ["money"], ["money"], [], []]
    model = NgramModel(["card", "money", "never", "urgent"], "multilabel").fit(TEXTS, targets)
    probs = model.predict_proba(TEXTS)
    assert probs.shape == (8, 4) and ((probs >= 0) & (probs <= 1)).all()
    assert (probs[:3, 0] > probs[3:, 0].max()).all(), "the card texts score highest on card"
    assert (probs[:, 2] < 0.01).all(), "a label never given keeps a near-zero rate"
    model.save(tmp_path / "ml")
    assert np.array_equal(NgramModel.load(tmp_path / "ml").predict_proba(TEXTS), probs)


def test_word_only_options_and_bad_options():
    model = NgramModel(
        ["exchange_rate", "lost_card", "refund"], "classification", NgramOptions(char_ngrams=(0, 0))
    )
    model.fit(TEXTS, LABELS)
    assert len(model.vectorizers_) == 1
    with pytest.raises(ValueError, match="word_ngrams"):
        NgramOptions(word_ngrams=(2, 1))
    with pytest.raises(ConfigError, match="task 'ner'"):
        NgramModel(["B-X"], "ner")
