"""Distillation: one student (any backbone and method) trained on the ensemble's soft labels, so
that the ensemble's gain is kept at one model's cost.

The ensemble predicts every training example (NER: per-word probabilities); the student's loss is
``alpha * true-label loss + (1 - alpha) * T^2 * KL(ensemble_T || student_T)`` (see
``tuneforge.models.tasks.Distillation``), trained by the ordinary loop.

A **transfer set** (unlabelled in-domain text) adds examples the members have never trained on:
on its own training examples an ensemble's members are close to the true labels and to each other,
so their combination teaches the student little there; on unseen text the ensemble's outputs
carry what the combination knows and a single member does not. Transfer examples are trained on
the KL term alone (they have no true label). Texts that are also in the student's training,
validation or test split are dropped, so the validation score that picks the student's best epoch
stays honest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..data.quality.text import dedup_key, normalize_example
from ..errors import ConfigError
from ..models.tasks import Distillation, get_task
from ..types import Example
from .base import Ensemble
from .member import Member, parsed_recipe, training_examples
from .ner import align_tags


@dataclass(frozen=True)
class TransferSet:
    """What the student is distilled on besides its training split: the kept examples, their
    teacher probabilities, and how many offered texts were dropped (duplicates, or in a split)."""

    examples: list[Example]
    targets: list[Any]
    dropped_duplicate: int = 0
    dropped_in_splits: int = 0

    def summary(self) -> dict[str, int]:
        """What ``ensemble.json`` and the report keep of it."""
        return {
            "examples": len(self.examples),
            "dropped_in_splits": self.dropped_in_splits,
            "dropped_duplicate": self.dropped_duplicate,
        }


def transfer_summary(student: Member | None) -> dict[str, int] | None:
    """The transfer set a student was distilled on (kept and dropped counts), also after reloading."""
    t = getattr(student, "transfer_", None)
    return t.summary() if isinstance(t, TransferSet) else t


def _rows(
    teacher: Ensemble,
    examples: Sequence[Example],
    task_name: str,
    labels: Sequence[str],
    batch_size: int = 64,
) -> list[Any]:
    """The teacher's probabilities for ``examples`` in the student's label (NER: tag) order."""
    if not examples:
        return []
    probs = teacher.predict_proba(list(examples), batch_size)
    if task_name == "ner":
        return [align_tags(p, teacher.labels, labels).tolist() for p in probs]
    index = {lab: i for i, lab in enumerate(teacher.labels)}
    missing = [lab for lab in labels if lab not in index]
    if missing:
        raise ConfigError(f"the student's labels {missing[:5]} are not among the ensemble's labels")
    rows = probs[:, np.array([index[lab] for lab in labels])]
    if task_name == "multilabel":  # independent per-label probabilities
        return rows.tolist()
    return (rows / np.clip(rows.sum(1, keepdims=True), 1e-12, None)).tolist()


def _student_task(teacher: Ensemble, student_recipe: dict[str, Any]) -> Any:
    task = get_task(student_recipe.get("task", "classification"))
    if task.name != teacher.task:
        raise ConfigError(f"the student's task {task.name!r} differs from the ensemble's {teacher.task!r}")
    return task


def soft_labels(
    teacher: Ensemble,
    student_recipe: dict[str, Any],
    batch_size: int = 64,
    splits: dict[str, list[Example]] | None = None,
) -> list[Any]:
    """The teacher's probabilities for the student's training examples, in the student's label order
    (``splits``: the student's data-stage splits, when already made)."""
    task = _student_task(teacher, student_recipe)
    train = (splits or training_examples(student_recipe))["train"]
    return _rows(teacher, train, task.name, task.label_list(train), batch_size)


def _as_example(item: Example | str, ner: bool) -> Example:
    if isinstance(item, Example):
        if ner and not item.tokens:
            return Example(
                text=item.text, tokens=tuple(item.text.split()), source=item.source, line=item.line
            )
        return item
    if ner:
        return Example(text=str(item), tokens=tuple(str(item).split()))
    return Example(text=str(item))


def _key(e: Example) -> str:
    """What makes two texts the same here: the data gate's duplicate key (NFKC, case-folded,
    whitespace collapsed), over the words for NER."""
    return dedup_key(" ".join(e.tokens) if e.tokens else e.text)


def transfer_set(
    teacher: Ensemble,
    student_recipe: dict[str, Any],
    texts: Sequence[Example | str],
    *,
    limit: int | None = None,
    splits: dict[str, list[Example]] | None = None,
) -> TransferSet:
    """The teacher's probabilities for unlabelled ``texts`` (strings or examples; NER: words split on
    whitespace unless the example has tokens), minus duplicates and texts that are in the student's
    splits; at most ``limit`` examples (the first ones kept). Texts are normalised as the student's
    training texts are (``data.quality.normalize: fix``)."""
    task = _student_task(teacher, student_recipe)
    ner = task.name == "ner"
    splits = splits or training_examples(student_recipe)
    seen = {_key(e) for split in splits.values() for e in split}
    quality = parsed_recipe(student_recipe, source="student recipe").data.quality
    normalize = quality.enabled and quality.normalize == "fix"  # as the training texts were
    kept: list[Example] = []
    taken: set[str] = set()
    duplicate = in_splits = 0
    for item in texts:
        e = _as_example(item, ner)
        if normalize:
            e = normalize_example(e)
        k = _key(e)
        if not k:
            continue
        if k in seen:
            in_splits += 1
        elif k in taken:
            duplicate += 1
        else:
            taken.add(k)
            kept.append(replace(e, label=None, tags=None))  # whatever labels a file had are not used
    if limit is not None:
        kept = kept[:limit]
    labels = task.label_list(splits["train"])
    return TransferSet(kept, _rows(teacher, kept, task.name, labels), duplicate, in_splits)


def distill(
    teacher: Ensemble,
    student: Member,
    *,
    temperature: float = Distillation.temperature,
    alpha: float = Distillation.alpha,
    transfer: Sequence[Example | str] | TransferSet | None = None,
    transfer_limit: int | None = None,
    output: str | None = None,
    quiet: bool = True,
) -> Member:
    """Train ``student`` (unfitted, with a recipe) on ``teacher``'s soft labels for its training
    examples and, when given, for the unlabelled ``transfer`` texts; returns it fitted. The student's
    ``transfer_`` tells what the transfer set kept and dropped."""
    if student.recipe is None:
        raise ConfigError("the student needs a recipe (backbone, method, data) to train from")
    if temperature <= 0 or not 0.0 <= alpha <= 1.0:
        raise ConfigError("distillation needs temperature > 0 and 0 <= alpha <= 1")
    splits = training_examples(student.recipe)  # the data stage once, for both
    soft = soft_labels(teacher, student.recipe, splits=splits)
    extra = None
    if transfer is not None:
        extra = (
            transfer
            if isinstance(transfer, TransferSet)
            else transfer_set(teacher, student.recipe, transfer, limit=transfer_limit, splits=splits)
        )
        if not extra.examples:
            raise ConfigError(
                "the transfer set is empty after dropping duplicates and texts of the training, "
                f"validation and test splits ({extra.dropped_in_splits} were in a split); give other "
                "unlabelled in-domain text"
            )
    fitted = student.fit(
        soft_targets=soft,
        distillation=Distillation(temperature, alpha),
        transfer=extra.examples if extra else None,
        transfer_targets=extra.targets if extra else None,
        output=output,
        quiet=quiet,
    )
    fitted.transfer_ = extra
    return fitted
