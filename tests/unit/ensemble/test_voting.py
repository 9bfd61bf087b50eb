"""Voting arithmetic and learnt weights, on fixed probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from tuneforge.ensemble.base import Ensemble
from tuneforge.ensemble.report import disagreement
from tuneforge.ensemble.voting import learn_weights


class _Fake:
    def __init__(self, name: str) -> None:
        self.name = name

    task = "classification"
    labels = ["a", "b", "c"]


def _ensemble(voting: str, weights) -> Ensemble:
    ens = Ensemble([_Fake("x"), _Fake("y"), _Fake("z")], voting=voting)
    ens.weights_ = np.asarray(weights, dtype=float)
    return ens


P = [
    np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3]]),
    np.array([[0.4, 0.5, 0.1], [0.1, 0.2, 0.7]]),
    np.array([[0.3, 0.6, 0.1], [0.1, 0.3, 0.6]]),
]


def test_soft_and_hard_voting():
    soft = _ensemble("soft", [1, 1, 1]).combine(P)
    assert soft == pytest.approx((P[0] + P[1] + P[2]) / 3)
    hard = _ensemble("hard", [1, 1, 1]).combine(P)
    assert np.allclose(hard, [[1 / 3, 2 / 3, 0], [0, 1 / 3, 2 / 3]])
    weighted = _ensemble("hard", [3, 1, 1]).combine(P)
    assert weighted[0].argmax() == 0  # the heavy member's label wins


def test_learnt_weights_favour_the_accurate_member():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 3, size=200)
    good = np.full((200, 3), 0.1)
    good[np.arange(200), gold] = 0.8
    noise = rng.dirichlet(np.ones(3), size=200)
    w = learn_weights([good, noise], gold)
    assert w.sum() == pytest.approx(1.0) and w[0] > 0.9


def test_disagreement_rates():
    d = disagreement("classification", P, ["a", "b", "c"])
    # example 0: a, b, b (disagree); example 1: b, c, c (disagree)
    assert d["any"] == 1.0
    assert d["pairwise"] == pytest.approx(np.mean([1.0, 1.0, 0.0]))
