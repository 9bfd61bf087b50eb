"""Bagging: members trained on bootstrap samples of the training data (drawn as integer example
weights: an example drawn twice counts twice in the loss, one never drawn is left out) and/or with
different seeds, then combined by (soft or hard) voting with equal weights."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError
from .base import Ensemble
from .member import Member, training_examples


def bootstrap_counts(n: int, seed: int) -> np.ndarray:
    """How often each of ``n`` examples is drawn in a bootstrap sample of size ``n``."""
    rng = np.random.default_rng(seed)
    return np.bincount(rng.integers(0, n, size=n), minlength=n)


class BaggingEnsemble(Ensemble):
    strategy: ClassVar[str] = "bagging"

    def __init__(
        self,
        base: Member,
        *,
        n_members: int = 4,
        bootstrap: bool = True,
        voting: str = "soft",
        share_backbone: bool = True,
    ) -> None:
        super().__init__([], voting=voting, share_backbone=share_backbone)
        if n_members < 1:
            raise ConfigError("bagging needs n_members >= 1")
        self.base, self.n_members, self.bootstrap = base, n_members, bootstrap
        self.counts_: list[list[int]] = []

    def get_params(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "n_members": self.n_members,
            "bootstrap": self.bootstrap,
            "voting": self.voting,
            "share_backbone": self.share_backbone,
        }

    def fit(self, validation: Any = None, *, out: str | None = None) -> BaggingEnsemble:
        recipe = self.base.recipe or {}
        seed0 = int(recipe.get("train", {}).get("seed", 42))
        n = len(training_examples(recipe)["train"]) if self.bootstrap else 0
        self.members, self.counts_ = [], []
        for i in range(self.n_members):
            member = self.base.clone(name=f"{self.base.name}-bag{i + 1}", seed=seed0 + i)
            counts = bootstrap_counts(n, seed0 * 1000 + i) if self.bootstrap else None
            member.fit(counts, output=None if out is None else f"{out}/runs/{member.name}")
            self.members.append(member)
            self.counts_.append([] if counts is None else counts.tolist())
        self._check_members()
        self.weights_ = np.ones(len(self.members))
        return self
