"""A stacking meta-learner with one weight per member: a learnt log-linear pool.

    p(k | x)  ∝  exp( sum_m  w_m · log p_m(k | x)  +  b_k )

Its input is what the stacker passes any meta-learner: the members' probabilities side by side, one
block of ``n_labels`` columns per member. A logistic regression over those columns learns a weight for
every (member, label, output label) triple, which a few hundred validation examples cannot pin down
when there are many labels; the pool learns one weight per member (its say, and a temperature: the
weights need not sum to one) and one bias per label, the same for every label, on the
log-probabilities, where a member's confidence is not squashed against 0 and 1. Fitted by maximum
likelihood (L-BFGS) with a small L2 penalty on the biases. A scikit-learn estimator: ``clone``,
``get_params``, ``fit``, ``predict_proba``, ``classes_``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

EPS = 1e-7  # probabilities are clipped here before the log


class LogLinearPool:
    """``n_labels``: columns per member (the stacker sets it); ``bias_l2``: L2 penalty on the biases."""

    def __init__(self, n_labels: int | None = None, bias_l2: float = 0.01, max_iter: int = 500) -> None:
        self.n_labels, self.bias_l2, self.max_iter = n_labels, bias_l2, max_iter

    # -- scikit-learn estimator protocol ---------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"n_labels": self.n_labels, "bias_l2": self.bias_l2, "max_iter": self.max_iter}

    def set_params(self, **params: Any) -> LogLinearPool:
        for key, value in params.items():
            if key not in self.get_params():
                raise ValueError(f"LogLinearPool has no parameter {key!r}")
            setattr(self, key, value)
        return self

    def _logs(self, x: np.ndarray) -> np.ndarray:
        """``(members, rows, labels)`` log-probabilities of the stacked input."""
        x = np.asarray(x, dtype=np.float64)
        k = self.n_labels
        if k is None or k < 1 or x.ndim != 2 or x.shape[1] % k:
            raise ValueError(f"expected rows of members x {k} probabilities, got shape {x.shape}")
        return np.log(np.clip(x, EPS, 1.0)).reshape(len(x), -1, k).transpose(1, 0, 2)

    def fit(self, x: np.ndarray, y: np.ndarray) -> LogLinearPool:
        logs = torch.as_tensor(self._logs(x))
        gold = torch.as_tensor(np.asarray(y, dtype=np.int64))
        w = torch.ones(logs.shape[0], dtype=torch.float64, requires_grad=True)
        b = torch.zeros(logs.shape[2], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], max_iter=self.max_iter, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            scores = torch.einsum("m,mnk->nk", w, logs) + b
            loss = torch.nn.functional.cross_entropy(scores, gold) + self.bias_l2 * (b**2).sum()
            loss.backward()
            return loss

        if len(gold):
            opt.step(closure)
        self.coef_ = w.detach().numpy().copy()
        self.intercept_ = b.detach().numpy().copy()
        self.classes_ = np.arange(logs.shape[2])
        self.n_features_in_ = int(np.asarray(x).shape[1])
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        scores = np.einsum("m,mnk->nk", self.coef_, self._logs(x)) + self.intercept_
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.classes_[self.predict_proba(x).argmax(axis=1)]

    def to_json(self) -> dict[str, Any]:
        return {
            "estimator": "loglinear",
            "params": self.get_params(),
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_.tolist(),
        }

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> LogLinearPool:
        pool = cls(**record["params"])
        pool.coef_ = np.asarray(record["coef"], dtype=np.float64)
        pool.intercept_ = np.asarray(record["intercept"], dtype=np.float64)
        pool.classes_ = np.arange(len(pool.intercept_))
        pool.n_features_in_ = len(pool.coef_) * len(pool.intercept_)
        return pool
