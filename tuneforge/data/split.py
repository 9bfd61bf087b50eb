"""Seeded hold-out splits, stratified by label where there is one label per example."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from ..types import Example


def holdout(examples: Sequence[Example], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """``(train_indices, heldout_indices)``: about ``fraction`` of every label's examples are held out
    (at least one per label with two or more examples); sorted indices."""
    rng = np.random.default_rng(seed)
    by_label: dict[object, list[int]] = defaultdict(list)
    for i, ex in enumerate(examples):
        key = ex.label if isinstance(ex.label, str) else None
        by_label[key].append(i)
    held: list[int] = []
    for key in sorted(by_label, key=str):
        idx = by_label[key]
        k = int(round(len(idx) * fraction))
        k = max(1, min(k, len(idx) - 1)) if len(idx) >= 2 else 0
        held.extend(rng.permutation(idx)[:k].tolist())
    held_set = set(held)
    return [i for i in range(len(examples)) if i not in held_set], sorted(held)


def subsample(n: int, k: int, seed: int) -> list[int]:
    """A seeded subset of ``k`` of ``range(n)``, in the original order."""
    if k >= n:
        return list(range(n))
    return sorted(np.random.default_rng(seed).permutation(n)[:k].tolist())
