"""The validation split that selection scores candidates on.

Stage 2 can only tell two candidates apart by whole validation examples: on 199 examples one example
is half a point, and methods a point apart on test trade places on validation by chance. When the
recipe's validation split is smaller than ``select.min_validation``, selection moves training
examples into its own validation split (stratified and group-aware, like every split; at most
``MAX_MOVED`` of the training examples), so that the race is decided on more examples. Only the
selection's copy of the data changes: ``tuneforge run`` on the pick trains on the recipe's splits.

Augmented copies of a moved example are dropped from training, so that no validation example is seen
in training in another form."""

from __future__ import annotations

from collections.abc import Sequence

from ..data.split import plan_splits
from ..types import Example

MAX_MOVED = 0.25  # at most this share of the (original) training examples moves to validation


def _origin(ex: Example) -> tuple[str, int] | None:
    """Where an example was read (augmented copies keep their original's); None when unknown."""
    return (ex.source, ex.line) if ex.source or ex.line else None


def grow_validation(
    train: Sequence[Example],
    validation: Sequence[Example],
    *,
    minimum: int,
    augmented: int = 0,
    seed: int = 0,
) -> tuple[list[Example], list[Example], int]:
    """``(train, validation, moved)``: ``validation`` grown towards ``minimum`` examples with training
    examples held out of ``train``. ``augmented``: how many examples at the end of ``train`` are
    augmented copies (they are never moved; those of a moved example are dropped)."""
    train, validation = list(train), list(validation)
    originals = train[: len(train) - augmented] if augmented else train
    copies = train[len(originals) :]
    need = min(minimum - len(validation), int(MAX_MOVED * len(originals)))
    if need <= 0 or len(originals) < 2:
        return train, validation, 0
    plan = plan_splits(originals, validation_fraction=need / len(originals), seed=seed)
    moved = [originals[i] for i in plan["validation"]]
    if not moved:
        return train, validation, 0
    gone = {o for o in map(_origin, moved) if o is not None}
    kept = [originals[i] for i in plan["train"]] + [ex for ex in copies if _origin(ex) not in gone]
    return kept, validation + moved, len(moved)
