"""The agreement estimate behind the int8 precision search, on hand-made margins and outputs."""

from __future__ import annotations

import numpy as np
import pytest

from tuneforge.export.int8_search import decision_margins, estimated_agreement


def test_identical_outputs_are_estimated_to_agree_fully():
    ref = [np.array([[2.0, 1.0, 0.0]]), np.array([[0.0, 0.5, 3.0]])]
    m, d, same, owner = decision_margins(ref, ref, multilabel=False)
    assert m.tolist() == [1.0, 2.5] and d.tolist() == [0.0, 0.0] and same.all()
    assert estimated_agreement(m, d, owner, 2) == 1.0


def test_each_margin_is_paired_with_every_observed_change():
    margins = np.array([1.0, 1.0, 3.0])
    changes = np.array([0.0, -2.0, 0.0])  # one change of -2 would flip any margin below 2
    est = estimated_agreement(margins, changes, np.arange(3), 3)
    assert est == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)


def test_classification_margin_is_top_minus_runner_up_and_flips_are_observed():
    ref = [np.array([[3.0, 2.0, 0.0]])]
    exp = [np.array([[2.0, 2.5, 0.0]])]
    m, d, same, _ = decision_margins(ref, exp, multilabel=False)
    assert m.tolist() == [1.0] and d.tolist() == [-1.5] and same.tolist() == [False]


def test_multilabel_decisions_are_distances_from_the_threshold_and_an_example_needs_all():
    ref = [np.array([[2.0, -1.0]]), np.array([[0.5, -3.0]])]
    exp = [np.array([[1.0, 0.5]]), np.array([[0.5, -3.0]])]
    m, d, same, owner = decision_margins(ref, exp, multilabel=True, threshold=0.5)
    assert m.tolist() == [2.0, 1.0, 0.5, 3.0]
    assert d.tolist() == [-1.0, -1.5, 0.0, 0.0]
    assert same.tolist() == [True, False, True, True] and owner.tolist() == [0, 0, 1, 1]
    est = estimated_agreement(m, d, owner, 2)
    assert 0.0 < est < 1.0


def test_token_outputs_give_one_decision_per_token():
    ref = [np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]])]
    m, d, same, owner = decision_margins(ref, [r + 0.0 for r in ref], multilabel=False)
    assert m.tolist() == [1.0, 2.0, 3.0] and owner.tolist() == [0, 0, 0] and same.all()
