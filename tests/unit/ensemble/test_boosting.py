"""SAMME weights on a hand-computed case, and its stopping rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tuneforge.ensemble.boosting import samme_step


def test_samme_update_matches_hand_computation():
    # 5 examples, equal weights, 3 classes, the member misses example 0:
    # err = 0.2; alpha = log(0.8 / 0.2) + log(3 - 1) = log 8; the missed weight 0.2 * 8 = 1.6,
    # the others stay 0.2: normalised 1.6 / 2.4 = 2/3 and 0.2 / 2.4 = 1/12.
    w, alpha, err, stop = samme_step(np.full(5, 0.2), np.array([1, 0, 0, 0, 0]), n_classes=3)
    assert stop is None
    assert err == pytest.approx(0.2)
    assert alpha == pytest.approx(math.log(8))
    assert w == pytest.approx([2 / 3, 1 / 12, 1 / 12, 1 / 12, 1 / 12])


def test_second_round_uses_the_updated_weights():
    w = np.array([2 / 3, 1 / 12, 1 / 12, 1 / 12, 1 / 12])
    # now the member misses examples 1 and 2: err = 1/6, alpha = log(5) + log(2) = log 10
    new, alpha, err, _ = samme_step(w, np.array([0, 1, 1, 0, 0]), n_classes=3)
    assert err == pytest.approx(1 / 6)
    assert alpha == pytest.approx(math.log(10))
    expected = np.array([2 / 3, 10 / 12, 10 / 12, 1 / 12, 1 / 12])
    assert new == pytest.approx(expected / expected.sum())


def test_learning_rate_scales_alpha():
    _, alpha, _, _ = samme_step(np.full(4, 0.25), np.array([1, 0, 0, 0]), n_classes=2, learning_rate=0.5)
    assert alpha == pytest.approx(0.5 * math.log(3))


def test_stopping_rule():
    # no better than chance for K=2 (err >= 0.5): stop, no say
    _, alpha, err, stop = samme_step(np.full(4, 0.25), np.array([1, 1, 0, 0]), n_classes=2)
    assert stop == "no better than chance" and alpha == 0.0 and err == pytest.approx(0.5)
    # with 4 classes chance is 0.75, so err = 0.5 still counts
    _, alpha, _, stop = samme_step(np.full(4, 0.25), np.array([1, 1, 0, 0]), n_classes=4)
    assert stop is None and alpha == pytest.approx(math.log(3))
    # perfect member: stop, weights unchanged
    w, alpha, err, stop = samme_step(np.full(4, 0.25), np.zeros(4), n_classes=3)
    assert stop == "perfect" and err == 0.0 and w == pytest.approx(np.full(4, 0.25))
