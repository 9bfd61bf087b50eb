"""What every ensemble shares: its members, their probabilities (aligned to the ensemble's labels,
one backbone pass per shared group), weighted soft / hard voting, ``predict``, ``evaluate``.

A strategy sets ``weights_`` and ``voting`` (or overrides ``combine``) in ``fit``."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError, RunError
from ..models.bio_decode import viterbi_bio
from ..types import EvalResult, Example, Prediction
from .member import Member
from .ner import align_tags, ner_tag_order, span_vote, tags_to_prediction

Probas = list[Any]  # per member: (n, classes) array, or for NER one (words, tags) array per example


class Ensemble:
    strategy: ClassVar[str] = "base"

    def __init__(
        self, members: Sequence[Member], *, voting: str = "soft", share_backbone: bool = True
    ) -> None:
        if voting not in ("soft", "hard"):
            raise ConfigError(f"voting must be 'soft' or 'hard', not {voting!r}")
        self.members = list(members)
        self.voting = voting
        self.share_backbone = share_backbone
        self.weights_: np.ndarray | None = None
        self.student_: Member | None = None  # a distilled student, when there is one

    # -- estimator contract -----------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        return {"members": self.members, "voting": self.voting, "share_backbone": self.share_backbone}

    def clone(self) -> Ensemble:
        """An unfitted ensemble with the same parameters (members cloned, unfitted)."""
        return type(self)(**{k: _clone_value(v) for k, v in self.get_params().items()})

    def _fit_members(self, out: str | None = None) -> None:
        for m in self.members:
            if not m.fitted:
                m.fit(output=None if out is None else f"{out}/runs/{m.name}")

    def _check_members(self) -> None:
        if not self.members:
            raise ConfigError(f"a {self.strategy} ensemble needs at least one member")
        tasks = {m.task for m in self.members}
        if len(tasks) > 1:
            raise ConfigError(f"ensemble members must share one task, got {sorted(tasks)}")
        names = [m.name for m in self.members]
        if len(set(names)) != len(names):
            raise ConfigError(f"member names must be unique, got {names}")

    # -- learnt state ------------------------------------------------------------------------------
    @property
    def task(self) -> str:
        return self.members[0].task

    @property
    def labels(self) -> list[str]:
        if self.task == "ner":
            return ner_tag_order(t for m in self.members for t in m.labels)
        return list(self.members[0].labels)

    @property
    def threshold(self) -> float:
        """Multi-label: the probability from which a label is predicted (the first member's setting)."""
        return float(self.members[0]._require().meta.get("multilabel_threshold", 0.5))

    def member_probas(self, examples: Sequence[Example | str], batch_size: int = 64) -> Probas:
        from .shared import member_probabilities

        raw = member_probabilities(self.members, examples, batch_size=batch_size, share=self.share_backbone)
        return [self._align(m, p) for m, p in zip(self.members, raw, strict=True)]

    def _align(self, member: Member, probs: Any) -> Any:
        labels = self.labels
        if self.task == "ner":
            return [align_tags(p, member.labels, labels) for p in probs]
        if member.labels == labels:
            return probs
        index = {lab: i for i, lab in enumerate(labels)}
        out = np.zeros((probs.shape[0], len(labels)))
        for j, lab in enumerate(member.labels):
            if lab in index:
                out[:, index[lab]] = probs[:, j]
        return out

    def _weights(self) -> np.ndarray:
        if self.weights_ is None:
            raise RunError(f"this {self.strategy} ensemble is not fitted; call fit() first")
        return self.weights_

    # -- combining ---------------------------------------------------------------------------------
    def combine(self, probas: Probas) -> Any:
        """Ensemble probabilities from the members' (classification: ``(n, classes)``; NER: per example
        the weighted mean of the members' per-word probabilities)."""
        w = self._weights()
        if self.task == "ner":
            return [
                sum(wi * p[i] for wi, p in zip(w, probas, strict=True)) / w.sum()
                for i in range(len(probas[0]))
            ]
        if self.voting == "hard":  # each member's decision; multi-label: a vote per label
            probas = [
                (p >= self.threshold).astype(np.float64)
                if self.task == "multilabel"
                else np.eye(p.shape[1])[p.argmax(1)]
                for p in probas
            ]
        return sum(wi * p for wi, p in zip(w, probas, strict=True)) / w.sum()

    def decision_threshold(self) -> float:
        """Multi-label: a label is predicted from this combined value (hard voting: a weighted majority
        of the members' votes; otherwise the members' probability threshold)."""
        return 0.5 if self.voting == "hard" else self.threshold

    def predict_proba(self, examples: Sequence[Example | str], batch_size: int = 64) -> Any:
        return self.combine(self.member_probas(examples, batch_size))

    def predictions_from(self, probas: Probas, examples: Sequence[Example]) -> list[Prediction]:
        labels = self.labels
        if self.task == "multilabel":
            thr = self.decision_threshold()
            return [
                Prediction(
                    label=[lab for lab, v in zip(labels, row, strict=True) if v >= thr],
                    probabilities=dict(zip(labels, map(float, row), strict=True)),
                )
                for row in self.combine(probas)
            ]
        if self.task != "ner":
            p = self.combine(probas)
            return [
                Prediction(
                    label=labels[int(row.argmax())],
                    probabilities=dict(zip(labels, map(float, row), strict=True)),
                )
                for row in p
            ]
        if self.voting == "hard":
            w = self._weights()
            out = []
            for i, ex in enumerate(examples):
                seqs = [repair_argmax(p[i], labels) for p in probas]
                out.append(tags_to_prediction(span_vote(seqs, w, len(ex.tokens or ())), ex))
            return out
        out = []
        for p, ex in zip(self.combine(probas), examples, strict=True):
            tags = viterbi_bio(p, labels)
            scores = [float(p[w, labels.index(t)]) for w, t in enumerate(tags)]
            out.append(tags_to_prediction(tags, ex, scores))
        return out

    def predict(self, examples: Sequence[Example | str], batch_size: int = 64) -> list[Prediction]:
        exs = self.members[0]._require()._examples(examples)
        return self.predictions_from(self.member_probas(exs, batch_size), exs)

    def evaluate(self, examples: Sequence[Example], batch_size: int = 64) -> EvalResult:
        return score(self.task, examples, self.predict(examples, batch_size), self.labels)

    # -- saving --------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Learnt state besides the members, as JSON (see ``saved.py``)."""
        return {"voting": self.voting, "weights": self._weights().tolist()}

    def set_state(self, state: dict[str, Any]) -> None:
        self.voting = state["voting"]
        self.weights_ = np.asarray(state["weights"], dtype=np.float64)


def _clone_value(value: Any) -> Any:
    if isinstance(value, Member):
        return value.clone()
    if isinstance(value, list) and value and all(isinstance(v, Member) for v in value):
        return [v.clone() for v in value]
    if hasattr(value, "get_params") and hasattr(value, "fit"):  # a scikit-learn estimator
        from sklearn.base import clone

        return clone(value)
    return copy.deepcopy(value)


def repair_argmax(probs: np.ndarray, labels: Sequence[str]) -> list[str]:
    """A single model's own decoding: the most probable tag per word, I- without B- made B-."""
    from ..data.tags import repair_bio

    return repair_bio([labels[int(j)] for j in probs.argmax(1)]) if len(probs) else []


def score(
    task: str, examples: Sequence[Example], preds: Sequence[Prediction], labels: Sequence[str]
) -> EvalResult:
    from ..evaluate.metrics import evaluate_predictions
    from ..models.tasks import get_task

    t = get_task(task)
    return evaluate_predictions(
        task, [t.gold(e) for e in examples], [t.predicted(p) for p in preds], list(labels)
    )
