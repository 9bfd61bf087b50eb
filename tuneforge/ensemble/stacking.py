"""Stacking: a meta-learner (scikit-learn logistic regression by default; any estimator with
``fit`` / ``predict_proba``) learns to combine the members' probabilities.

- ``cv=k``: k stratified folds of the training data; for each member and fold, a clone trains on the
  other folds (the fold's examples have weight 0, so they are out of its training entirely) and
  predicts the fold. The meta-learner trains on these out-of-fold probabilities only; then each member
  is refitted on all the training data for prediction.
- ``cv="prefit"``: the members are used as they are (fitted first if needed) and the meta-learner
  trains on their probabilities for a held-out split (``fit(validation)``, usually the validation data).

Multi-label tasks get one binary meta-learner per label (``PerLabel``), each on all the members'
probabilities; k-fold stacking then stratifies by label set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError
from ..models.tasks import get_task
from ..types import Example
from .base import Ensemble, Probas
from .member import Member, gold_indices, label_matrix, training_examples


def default_meta() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=2000)


class PerLabel:
    """Multi-label stacking: one binary meta-learner per label on all the members' probabilities;
    ``predict_proba`` gives ``(n, labels)`` (a label seen always or never in training: that constant)."""

    def __init__(self, base: Any) -> None:
        self.base = base
        self.estimators_: list[Any] = []

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {"base": self.base}

    def fit(self, x: np.ndarray, y: np.ndarray) -> PerLabel:
        from sklearn.base import clone

        self.estimators_ = [
            float(col[0]) if col.min() == col.max() else clone(self.base).fit(x, col.astype(np.int64))
            for col in np.asarray(y).T
        ]
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [
                np.full(len(x), e) if isinstance(e, float) else e.predict_proba(x)[:, 1]
                for e in self.estimators_
            ]
        )


def stratified_folds(labels: Sequence[str], k: int, seed: int) -> list[np.ndarray]:
    """``k`` folds with each label spread evenly (seeded)."""
    rng = np.random.default_rng(seed)
    fold_of = np.zeros(len(labels), dtype=np.int64)
    offset = 0
    for lab in sorted(set(labels)):
        idx = np.flatnonzero(np.asarray(labels, dtype=object) == lab)
        rng.shuffle(idx)
        fold_of[idx] = (np.arange(len(idx)) + offset) % k
        offset += len(idx)
    return [np.flatnonzero(fold_of == j) for j in range(k)]


class StackingEnsemble(Ensemble):
    strategy: ClassVar[str] = "stacking"

    def __init__(
        self, members: Sequence[Member], *, meta: Any = None, cv: int | str = 5, share_backbone: bool = True
    ) -> None:
        super().__init__(members, voting="soft", share_backbone=share_backbone)
        if cv != "prefit" and (not isinstance(cv, int) or cv < 2):
            raise ConfigError(f"stacking cv must be an integer >= 2 or 'prefit', not {cv!r}")
        self.meta, self.cv = meta, cv
        self.meta_: Any = None
        self.folds_: list[list[int]] = []

    def get_params(self) -> dict[str, Any]:
        return super().get_params() | {"meta": self.meta, "cv": self.cv}

    def _new_meta(self) -> Any:
        from sklearn.base import clone

        meta = default_meta() if self.meta is None else clone(self.meta)
        return PerLabel(meta) if self.task == "multilabel" else meta

    def fit(self, validation: Sequence[Example] | None = None, *, out: str | None = None) -> StackingEnsemble:
        if self.cv == "prefit":
            if not validation:
                raise ConfigError("stacking with cv='prefit' needs a held-out split: fit(validation=...)")
            self._fit_members(out)
            self._check_members()
            x, examples = self.member_probas(validation), validation
        else:
            x, examples = self._out_of_fold(out)
            self._fit_members(out)
            self._check_members()
        if self.task == "ner":
            raise ConfigError("stacking is for classification; for ner use voting or bagging")
        gold = (
            label_matrix(examples, self.labels)
            if self.task == "multilabel"
            else gold_indices(examples, self.labels)
        )
        self.meta_ = self._new_meta().fit(np.hstack(x), gold)
        self.weights_ = np.ones(len(self.members))
        return self

    def _out_of_fold(self, out: str | None) -> tuple[Probas, list[Example]]:
        recipes = [m.recipe for m in self.members]
        if any(r is None for r in recipes) or any(r.get("data") != recipes[0].get("data") for r in recipes):
            raise ConfigError("k-fold stacking needs members trained from recipes on the same data section")
        task = recipes[0].get("task", "classification")
        if task == "ner":
            raise ConfigError("stacking is for classification; for ner use voting or bagging")
        train = training_examples(recipes[0])["train"]
        labels = get_task(task).label_list(train)
        seed = int(recipes[0].get("train", {}).get("seed", 42))
        strata = [str(sorted(e.label) if isinstance(e.label, tuple | list) else e.label) for e in train]
        folds = stratified_folds(strata, self.cv, seed)  # multi-label: by label set
        self.folds_ = [f.tolist() for f in folds]
        oof = [np.zeros((len(train), len(labels))) for _ in self.members]
        for mi, member in enumerate(self.members):
            for j, fold in enumerate(folds):
                weights = np.ones(len(train))
                weights[fold] = 0.0
                fm = member.clone(name=f"{member.name}-fold{j + 1}")
                fm.fit(weights, output=None if out is None else f"{out}/folds/{fm.name}")
                probs = fm.predict_proba([train[i] for i in fold])
                oof[mi][fold] = _reindex(probs, fm.labels, labels)
        return oof, train

    def combine(self, probas: Probas) -> np.ndarray:
        if self.meta_ is None:
            self._weights()
        p = self.meta_.predict_proba(np.hstack(probas))
        if isinstance(self.meta_, PerLabel):
            return p
        full = np.zeros((p.shape[0], len(self.labels)))
        full[:, np.asarray(self.meta_.classes_, dtype=np.int64)] = p
        return full

    def state(self) -> dict[str, Any]:
        return super().state() | {"cv": self.cv, "folds": self.folds_}

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.cv, self.folds_ = state.get("cv", "prefit"), state.get("folds", [])


def _reindex(probs: np.ndarray, have: Sequence[str], want: Sequence[str]) -> np.ndarray:
    if list(have) == list(want):
        return probs
    out = np.zeros((probs.shape[0], len(want)))
    index = {lab: i for i, lab in enumerate(want)}
    for j, lab in enumerate(have):
        if lab in index:
            out[:, index[lab]] = probs[:, j]
    return out
