"""Distillation: one student (any backbone and method) trained on the ensemble's soft labels, so
that the ensemble's gain is kept at one model's cost.

The ensemble predicts every training example (NER: per-word probabilities); the student's loss is
``alpha * true-label loss + (1 - alpha) * T^2 * KL(ensemble_T || student_T)`` (see
``tuneforge.models.tasks.Distillation``), trained by the ordinary loop."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConfigError
from ..models.tasks import Distillation, get_task
from .base import Ensemble
from .member import Member, training_examples
from .ner import align_tags


def soft_labels(teacher: Ensemble, student_recipe: dict[str, Any], batch_size: int = 64) -> list[Any]:
    """The teacher's probabilities for the student's training examples, in the student's label order."""
    task = get_task(student_recipe.get("task", "classification"))
    if task.name != teacher.task:
        raise ConfigError(f"the student's task {task.name!r} differs from the ensemble's {teacher.task!r}")
    train = training_examples(student_recipe)["train"]
    labels = task.label_list(train)
    probs = teacher.predict_proba(train, batch_size)
    if task.name == "ner":
        return [align_tags(p, teacher.labels, labels).tolist() for p in probs]
    index = {lab: i for i, lab in enumerate(teacher.labels)}
    missing = [lab for lab in labels if lab not in index]
    if missing:
        raise ConfigError(f"the student's labels {missing[:5]} are not among the ensemble's labels")
    cols = np.array([index[lab] for lab in labels])
    rows = probs[:, cols]
    if task.name == "multilabel":  # independent per-label probabilities
        return rows.tolist()
    return (rows / np.clip(rows.sum(1, keepdims=True), 1e-12, None)).tolist()


def distill(
    teacher: Ensemble,
    student: Member,
    *,
    temperature: float = 2.0,
    alpha: float = 0.5,
    output: str | None = None,
    quiet: bool = True,
) -> Member:
    """Train ``student`` (unfitted, with a recipe) on ``teacher``'s soft labels; returns it fitted."""
    if student.recipe is None:
        raise ConfigError("the student needs a recipe (backbone, method, data) to train from")
    if temperature <= 0 or not 0.0 <= alpha <= 1.0:
        raise ConfigError("distillation needs temperature > 0 and 0 <= alpha <= 1")
    soft = soft_labels(teacher, student.recipe)
    return student.fit(
        soft_targets=soft, distillation=Distillation(temperature, alpha), output=output, quiet=quiet
    )
