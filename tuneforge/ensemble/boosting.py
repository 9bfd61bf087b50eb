"""Boosting: SAMME (multi-class AdaBoost, Zhu et al. 2009) over fine-tuned members.

Round m trains a member with the current example weights in its loss, measures its weighted error
``err`` on the training examples, and gets the say ``alpha = lr * (log((1 - err) / err) + log(K - 1))``;
the examples it got wrong have their weights multiplied by ``exp(alpha)``. Stopping rule: a member no
better than chance (``err >= 1 - 1/K``) is discarded and boosting stops (the first one is kept with
say 1, so there is always a model); a perfect member (``err == 0``) is kept with say 1 and boosting
stops, since the weights would no longer change. The ensemble votes ``argmax_k sum_m alpha_m [h_m = k]``."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError
from .base import Ensemble
from .member import Member, gold_indices, training_examples


def samme_step(
    weights: np.ndarray, miss: np.ndarray, n_classes: int, learning_rate: float = 1.0
) -> tuple[np.ndarray, float, float, str | None]:
    """One SAMME update: ``(new weights summing to 1, alpha, weighted error, stop reason or None)``."""
    w = np.asarray(weights, dtype=np.float64) / np.sum(weights)
    miss = np.asarray(miss, dtype=bool)
    err = float(w[miss].sum())
    if err <= 0.0:
        return w, 1.0, 0.0, "perfect"
    if err >= 1.0 - 1.0 / n_classes:
        return w, 0.0, err, "no better than chance"
    alpha = learning_rate * (math.log((1.0 - err) / err) + math.log(n_classes - 1))
    new = w * np.exp(alpha * miss)
    return new / new.sum(), alpha, err, None


class BoostingEnsemble(Ensemble):
    strategy: ClassVar[str] = "boosting"

    def __init__(
        self, base: Member, *, n_members: int = 4, learning_rate: float = 1.0, share_backbone: bool = True
    ) -> None:
        super().__init__([], voting="hard", share_backbone=share_backbone)
        if n_members < 1 or learning_rate <= 0:
            raise ConfigError("boosting needs n_members >= 1 and learning_rate > 0")
        self.base, self.n_members, self.learning_rate = base, n_members, learning_rate
        self.errors_: list[float] = []
        self.stopped_: str = ""

    def get_params(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "n_members": self.n_members,
            "learning_rate": self.learning_rate,
            "share_backbone": self.share_backbone,
        }

    def fit(self, validation: Any = None, *, out: str | None = None) -> BoostingEnsemble:
        recipe = self.base.recipe or {}
        seed0 = int(recipe.get("train", {}).get("seed", 42))
        train = training_examples(recipe)["train"]
        if recipe.get("task", "classification") != "classification":
            raise ConfigError(
                "boosting (SAMME) is for single-label classification; for multilabel and ner use voting, "
                "bagging, stacking (multilabel) or distillation"
            )
        w = np.full(len(train), 1.0 / len(train))
        self.members, alphas, self.errors_, self.stopped_ = [], [], [], f"{self.n_members} rounds"
        for m in range(self.n_members):
            member = self.base.clone(name=f"{self.base.name}-boost{m + 1}", seed=seed0 + m)
            member.fit(w * len(w), output=None if out is None else f"{out}/runs/{member.name}")
            y = gold_indices(train, member.labels)
            miss = member.predict_proba(train).argmax(1) != y
            w, alpha, err, stop = samme_step(w, miss, len(member.labels), self.learning_rate)
            self.errors_.append(err)
            if stop == "no better than chance" and self.members:
                self.stopped_ = f"round {m + 1}: weighted error {err:.4f} >= 1 - 1/K; member discarded"
                break
            self.members.append(member)
            alphas.append(alpha if alpha > 0 else 1.0)
            if stop:
                self.stopped_ = f"round {m + 1}: {stop} (weighted error {err:.4f})"
                break
        self._check_members()
        self.weights_ = np.asarray(alphas)
        return self

    def state(self) -> dict[str, Any]:
        return super().state() | {"errors": self.errors_, "stopped": self.stopped_}

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.errors_, self.stopped_ = list(state.get("errors", [])), state.get("stopped", "")
