"""Voting: the members' probabilities averaged (``soft``) or their labels counted (``hard``), with
equal, given, or learnt weights (``weights="learn"``: the convex combination of the members'
probabilities that minimises the log-loss on held-out data, usually the validation split)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from ..errors import ConfigError, RunError
from ..types import Example
from .base import Ensemble, Probas
from .member import Member, gold_indices, label_matrix


def learn_weights(rows: Sequence[np.ndarray], gold: np.ndarray, iters: int = 200) -> np.ndarray:
    """Simplex weights (softmax-parametrised) minimising the NLL of ``sum_m w_m rows[m]``.

    ``gold``: the class index per row, or (multi-label) a 0/1 matrix like the rows, where each label
    is a Bernoulli outcome."""
    stack = torch.as_tensor(np.stack(rows), dtype=torch.float64)  # members x n x classes
    if gold.ndim == 2:  # multi-label: p(label present) or p(absent), every (row, label) an outcome
        y = torch.as_tensor(gold, dtype=torch.float64)
        picked = (stack * y + (1 - stack) * (1 - y)).reshape(len(rows), -1)
    else:
        picked = stack[:, torch.arange(len(gold)), torch.as_tensor(gold)]  # members x n
    theta = torch.zeros(len(rows), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([theta], lr=1.0, max_iter=iters, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        w = theta.softmax(0)
        loss = -(w @ picked).clamp(min=1e-12).log().mean()
        loss.backward()
        return loss

    opt.step(closure)
    return theta.detach().softmax(0).numpy()


def flat_rows(
    task: str, probas: Probas, examples: Sequence[Example], labels: Sequence[str]
) -> tuple[list, np.ndarray]:
    """Per member an ``(N, classes)`` array and the gold index of each row (NER: one row per word)."""
    if task == "multilabel":
        return list(probas), label_matrix(examples, labels)
    if task != "ner":
        return list(probas), gold_indices(examples, labels)
    index = {t: i for i, t in enumerate(labels)}
    missing = sorted({t for e in examples for t in e.tags or () if t not in index})
    if missing:
        raise RunError(f"tags {missing[:5]} are not among the ensemble's tags {list(labels)[:10]}")
    gold = np.array([index[t] for e in examples for t in (e.tags or ())], dtype=np.int64)
    return [np.concatenate(p) if p else np.zeros((0, len(labels))) for p in probas], gold


class VotingEnsemble(Ensemble):
    strategy: ClassVar[str] = "voting"

    def __init__(
        self,
        members: Sequence[Member],
        *,
        voting: str = "soft",
        weights: Sequence[float] | str | None = None,
        share_backbone: bool = True,
    ) -> None:
        super().__init__(members, voting=voting, share_backbone=share_backbone)
        if isinstance(weights, str) and weights not in ("equal", "learn"):
            raise ConfigError(f"weights must be a list of numbers, 'equal' or 'learn', not {weights!r}")
        if not isinstance(weights, str | type(None)) and len(weights) != len(self.members):
            raise ConfigError(f"{len(weights)} weights for {len(self.members)} members; give one per member")
        self.weights = weights

    def get_params(self) -> dict[str, Any]:
        return super().get_params() | {"weights": self.weights}

    def fit(self, validation: Sequence[Example] | None = None, *, out: str | None = None) -> VotingEnsemble:
        self._fit_members(out)
        self._check_members()
        if self.weights == "learn":
            if not validation:
                raise ConfigError(
                    "weights='learn' needs held-out examples: pass validation=... (the validation split)"
                )
            rows, gold = flat_rows(self.task, self.member_probas(validation), validation, self.labels)
            self.weights_ = learn_weights(rows, gold)
        elif self.weights in (None, "equal"):
            self.weights_ = np.ones(len(self.members))
        else:
            self.weights_ = np.asarray(self.weights, dtype=np.float64)
        return self
