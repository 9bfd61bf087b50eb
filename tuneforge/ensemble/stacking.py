"""Stacking: a meta-learner (scikit-learn logistic regression by default; any estimator with
``fit`` / ``predict_proba``) learns to combine the members' probabilities.

- ``cv=k``: k stratified folds of the training data; for each member and fold, a clone trains on the
  other folds (the fold's examples have weight 0, so they are out of its training entirely) and
  predicts the fold. The meta-learner trains on these out-of-fold probabilities only; then each member
  is refitted on all the training data for prediction.
- ``cv="prefit"``: the members are used as they are (fitted first if needed) and the meta-learner
  trains on their probabilities for a held-out split (``fit(validation)``, usually the validation data).

Multi-label tasks get one binary meta-learner per label (``PerLabel``), each on all the members'
probabilities; k-fold stacking then stratifies by label set.

NER stacks per word: the meta-learner reads every member's tag probabilities for a word and gives the
word's tag probabilities, which are then decoded to a valid IOB2 sequence (Viterbi), as soft voting
is. Folds are whole sentences, stratified by the entity types a sentence contains."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError
from ..models.tasks import get_task
from ..types import Example
from .base import Ensemble, Probas
from .loglinear import LogLinearPool
from .member import Member, data_identity, training_examples
from .ner import align_tags, ner_tag_order
from .voting import flat_rows


def default_meta() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=2000)


def make_meta(kind: str, c: float = 1.0) -> Any:
    """The meta-learner a recipe or the command line names: ``logistic`` (scikit-learn logistic
    regression on the members' probabilities, inverse regularisation ``c``) or ``loglinear`` (a
    learnt log-linear pool: one weight per member and one bias per label)."""
    if kind == "logistic":
        return default_meta().set_params(C=c)
    if kind == "loglinear":
        return LogLinearPool()
    raise ConfigError(f"unknown stacking meta-learner {kind!r}; choose logistic or loglinear")


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
        if isinstance(meta, LogLinearPool):
            if self.task == "multilabel":
                raise ConfigError(
                    "the log-linear pool combines one distribution over labels per member; for "
                    "multi-label stacking use the logistic meta-learner"
                )
            meta.set_params(n_labels=len(self.labels))
        return PerLabel(meta) if self.task == "multilabel" else meta

    def fit(self, validation: Sequence[Example] | None = None, *, out: str | None = None) -> StackingEnsemble:
        if self.cv == "prefit":
            if not validation:
                raise ConfigError("stacking with cv='prefit' needs a held-out split: fit(validation=...)")
            self._fit_members(out)
            self._check_members()
            x, examples = self.member_probas(validation), validation
        else:
            x, examples, order = self._out_of_fold(out)
            self._fit_members(out)
            self._check_members()
            if self.task == "ner":  # the fold models' tag order -> the fitted members' tag order
                x = [[align_tags(p, order, self.labels) for p in member] for member in x]
        rows, gold = flat_rows(self.task, x, examples, self.labels)
        self.meta_ = self._new_meta().fit(np.hstack(rows), gold)
        self.weights_ = np.ones(len(self.members))
        return self

    def _out_of_fold(self, out: str | None) -> tuple[Probas, list[Example], list[str]]:
        """Out-of-fold probabilities of every member on the training data, the training examples, and
        the label (NER: tag) order of the probabilities."""
        recipes = [m.recipe for m in self.members]
        if any(r is None for r in recipes):
            names = [m.name for m, r in zip(self.members, recipes, strict=True) if r is None]
            raise ConfigError(f"k-fold stacking refits every member; {names} are runs without a recipe")
        first = data_identity(recipes[0])
        for member, recipe in zip(self.members[1:], recipes[1:], strict=True):
            other = data_identity(recipe)
            if other != first:
                keys = sorted(k for k in first.keys() | other.keys() if first.get(k) != other.get(k))
                raise ConfigError(
                    f"k-fold stacking needs members on the same data; {member.name!r} differs from "
                    f"{self.members[0].name!r} in data.{', data.'.join(keys)}; give them one data "
                    "section (and one data.seed)"
                )
        task = recipes[0].get("task", "classification")
        train = training_examples(recipes[0])["train"]
        ner = task == "ner"
        labels = get_task(task).label_list(train)  # what each member trains on
        if ner:
            labels = ner_tag_order(labels)
        seed = int(recipes[0].get("train", {}).get("seed", 42))
        folds = stratified_folds([_stratum(e, ner) for e in train], self.cv, seed)
        self.folds_ = [f.tolist() for f in folds]
        oof: list[Any] = [
            [None] * len(train) if ner else np.zeros((len(train), len(labels))) for _ in self.members
        ]
        for mi, member in enumerate(self.members):
            for j, fold in enumerate(folds):
                weights = np.ones(len(train))
                weights[fold] = 0.0
                fm = member.clone(name=f"{member.name}-fold{j + 1}")
                fm.fit(weights, output=None if out is None else f"{out}/folds/{fm.name}")
                probs = fm.predict_proba([train[i] for i in fold])
                if ner:
                    for i, p in zip(fold, probs, strict=True):
                        oof[mi][i] = align_tags(p, fm.labels, labels)
                else:
                    oof[mi][fold] = _reindex(probs, fm.labels, labels)
        return oof, train, labels

    def combine(self, probas: Probas) -> Any:
        if self.meta_ is None:
            self._weights()
        if self.task == "ner":  # one row per word; split back into one (words, tags) array per example
            lengths = [len(p) for p in probas[0]]
            flat = [np.concatenate(m) if m else np.zeros((0, len(self.labels))) for m in probas]
            words = self.combine_rows(np.hstack(flat))
            return np.split(words, np.cumsum(lengths)[:-1]) if lengths else []
        return self.combine_rows(np.hstack(probas))

    def combine_rows(self, x: np.ndarray) -> np.ndarray:
        """The meta-learner's probabilities, in ``labels`` order, for rows of stacked member outputs."""
        if len(x) == 0:
            return np.zeros((0, len(self.labels)))
        p = self.meta_.predict_proba(x)
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


def _stratum(example: Example, ner: bool) -> str:
    """What k-fold stacking stratifies by: the label (multi-label: the label set; NER: the set of
    entity types in the sentence)."""
    if ner:
        return str(sorted({t[2:] for t in example.tags or () if t != "O"}))
    return str(sorted(example.label) if isinstance(example.label, tuple | list) else example.label)


def _reindex(probs: np.ndarray, have: Sequence[str], want: Sequence[str]) -> np.ndarray:
    if list(have) == list(want):
        return probs
    out = np.zeros((probs.shape[0], len(want)))
    index = {lab: i for i, lab in enumerate(want)}
    for j, lab in enumerate(have):
        if lab in index:
            out[:, index[lab]] = probs[:, j]
    return out
