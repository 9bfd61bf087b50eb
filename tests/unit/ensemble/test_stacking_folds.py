"""k-fold stacking never shows the meta-learner a member's prediction on that member's training data."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import tiny_recipe
from tuneforge.ensemble.member import Member
from tuneforge.ensemble.stacking import StackingEnsemble, stratified_folds


class SpyMember(Member):
    """Records what each clone trains on and predicts; predicts random probabilities."""

    def __init__(self, recipe, *, name="member", log=None):
        super().__init__(recipe, name=name)
        self.log = [] if log is None else log

    def clone(self, *, name=None, seed=None, output=None):
        return SpyMember(self.recipe, name=name or self.name, log=self.log)

    def fit(self, weights=None, **_):
        self.trained = None if weights is None else {i for i, w in enumerate(weights) if w > 0}
        self.predictor_ = object()
        self.log.append(("fit", self.name, self.trained))
        return self

    task = "classification"

    @property
    def labels(self):
        return self._labels

    def predict_proba(self, examples, batch_size=64):
        self.log.append(("predict", self.name, [e.text for e in examples]))
        rng = np.random.default_rng(len(examples))
        if self.task == "ner":  # one (words, tags) array per sentence
            return [rng.dirichlet(np.ones(len(self._labels)), size=len(e.tokens)) for e in examples]
        return rng.dirichlet(np.ones(len(self._labels)), size=len(examples))


@pytest.mark.parametrize("task", ["classification", "ner"])
def test_out_of_fold_predictions_only(demo_data, tmp_path, task):
    from tuneforge.ensemble.member import training_examples
    from tuneforge.ensemble.ner import ner_tag_order

    recipe = tiny_recipe(demo_data, task, tmp_path / "run")
    train = training_examples(recipe)["train"]
    if task == "ner":
        labels = ner_tag_order({t for e in train for t in e.tags})
    else:
        labels = sorted({e.label for e in train})
    SpyMember._labels, SpyMember.task = labels, task
    members = [SpyMember(recipe, name="a"), SpyMember(recipe, name="b")]
    log = members[0].log
    members[1].log = log
    ens = StackingEnsemble(members, cv=3).fit()
    index = {e.text: i for i, e in enumerate(train)}
    trained_by: dict[str, set[int]] = {}
    predicted: dict[str, list[int]] = {"a": [], "b": []}
    for kind, name, payload in log:
        if kind == "fit" and payload is not None:
            trained_by[name] = payload
        elif kind == "predict":
            rows = [index[t] for t in payload]
            assert not set(rows) & trained_by[name], f"{name} predicted its own training examples"
            predicted[name.split("-")[0]] += rows
    for base in ("a", "b"):  # every training example predicted exactly once, out of fold
        assert sorted(predicted[base]) == list(range(len(train)))
    assert ens.meta_ is not None and len(ens.folds_) == 3


def test_stratified_folds_partition_and_balance():
    labels = ["x"] * 30 + ["y"] * 9
    folds = stratified_folds(labels, 3, seed=1)
    assert sorted(np.concatenate(folds).tolist()) == list(range(39))
    for f in folds:
        assert sum(labels[i] == "y" for i in f) == 3
