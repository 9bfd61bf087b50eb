"""The log-linear pool meta-learner: one weight per member and one bias per label."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from tuneforge.ensemble import LogLinearPool


def _members(n=600, k=5, seed=0):
    """Two members' probabilities: member 1 knows the label (peaked on it 80% of the time), member 2
    is noise; hstacked like the stacker passes them."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    good = rng.dirichlet(np.ones(k), n)
    hit = rng.random(n) < 0.8
    good[hit, y[hit]] += 3.0
    good /= good.sum(1, keepdims=True)
    noise = rng.dirichlet(np.ones(k), n)
    return np.hstack([good, noise]), y


def test_the_informative_member_gets_the_weight_and_probabilities_are_valid():
    x, y = _members()
    pool = LogLinearPool(n_labels=5).fit(x[:400], y[:400])
    assert pool.coef_[0] > 0.5 and abs(pool.coef_[1]) < 0.25
    p = pool.predict_proba(x[400:])
    assert p.shape == (200, 5) and np.allclose(p.sum(1), 1.0) and (p >= 0).all()
    assert np.mean(pool.predict(x[400:]) == y[400:]) > 0.75
    assert list(pool.classes_) == [0, 1, 2, 3, 4]


def test_labels_missing_from_the_fit_data_keep_a_column():
    x, y = _members(k=4)
    keep = y != 3
    pool = LogLinearPool(n_labels=4).fit(x[keep], y[keep])
    assert pool.predict_proba(x).shape == (len(x), 4)


def test_clone_json_round_trip_and_shape_errors():
    x, y = _members()
    pool = LogLinearPool(n_labels=5, bias_l2=0.1)
    assert clone(pool).get_params() == pool.get_params()
    pool.fit(x, y)
    again = LogLinearPool.from_json(pool.to_json())
    assert np.array_equal(again.predict_proba(x), pool.predict_proba(x))
    with pytest.raises(ValueError, match="members x 5 probabilities"):
        pool.predict_proba(x[:, :7])
    with pytest.raises(ValueError, match="no parameter"):
        pool.set_params(C=1.0)
