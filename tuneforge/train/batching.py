"""Length-grouped batches with dynamic padding: similar lengths share a batch, so almost no work is
spent on padding, while the order stays random from epoch to epoch (and reproducible: it depends
only on the seed and the epoch number)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def train_batches(
    lengths: Sequence[int],
    batch_size: int,
    seed: int,
    epoch: int,
    group_by_length: bool = True,
    chunk_batches: int = 50,
) -> list[list[int]]:
    """Indices of every training batch of one epoch, in the order they are used.

    The examples are shuffled, cut into chunks of ``chunk_batches`` batches, each chunk is sorted by
    length and cut into batches, and the batches are shuffled again."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    if not group_by_length:
        return [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    lens = np.asarray(lengths)
    batches: list[list[int]] = []
    chunk = batch_size * chunk_batches
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(-lens[part], kind="stable")]
        batches.extend(part[i : i + batch_size].tolist() for i in range(0, len(part), batch_size))
    perm = rng.permutation(len(batches))
    return [batches[i] for i in perm]


def eval_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Batches of examples sorted by length (longest first); callers restore the original order."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    return [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]


def padding_share(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> float:
    """Share of the computed token positions that are padding."""
    real = padded = 0
    for b in batches:
        ls = [lengths[i] for i in b]
        real += sum(ls)
        padded += max(ls) * len(ls)
    return 1.0 - real / max(padded, 1)
