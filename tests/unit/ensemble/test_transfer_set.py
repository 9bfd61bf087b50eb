"""The transfer set of a distillation: what is kept, dropped and normalised (a stand-in teacher)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import tiny_recipe
from tuneforge.ensemble.distill import transfer_set
from tuneforge.ensemble.member import training_examples
from tuneforge.errors import ConfigError
from tuneforge.types import Example


class Teacher:
    """Predicts a fixed distribution; records what it was asked."""

    task = "classification"

    def __init__(self, labels):
        self.labels = list(labels)
        self.asked: list[Example] = []

    def predict_proba(self, examples, batch_size=64):
        self.asked += list(examples)
        p = np.arange(1, len(self.labels) + 1, dtype=float)
        return np.tile(p / p.sum(), (len(examples), 1))


@pytest.fixture()
def setup(demo_data, tmp_path):
    recipe = tiny_recipe(demo_data, "classification", tmp_path / "st")
    splits = training_examples(recipe)
    labels = sorted({e.label for e in splits["train"]})
    return recipe, splits, labels


def test_keeps_new_texts_drops_split_texts_and_repeats(setup):
    recipe, splits, labels = setup
    teacher = Teacher(reversed(labels))  # another label order than the student's
    offered = ["a brand new question  about\tcards", "A brand new question about cards", "another one"]
    offered += [splits["validation"][0].text.upper(), splits["test"][1].text, splits["train"][2]]
    ts = transfer_set(teacher, recipe, offered, splits=splits)
    # whitespace normalised like the training texts (normalize: fix), case-folded repeats dropped
    assert [e.text for e in ts.examples] == ["a brand new question about cards", "another one"]
    assert ts.summary() == {"examples": 2, "dropped_in_splits": 3, "dropped_duplicate": 1}
    # the rows follow the student's label order and sum to one
    row = np.asarray(ts.targets[0])
    assert row.shape == (len(labels),) and row.sum() == pytest.approx(1.0)
    assert row[labels.index(teacher.labels[-1])] == pytest.approx(row.max())
    assert transfer_set(teacher, recipe, offered, splits=splits, limit=1).summary()["examples"] == 1


def test_a_teacher_without_the_students_labels_is_refused(setup):
    recipe, splits, labels = setup
    with pytest.raises(ConfigError, match="not among the ensemble's labels"):
        transfer_set(Teacher(labels[:-1]), recipe, ["some new text"], splits=splits)
    other = Teacher(labels)
    other.task = "ner"
    with pytest.raises(ConfigError, match="differs from the ensemble's"):
        transfer_set(other, recipe, ["some new text"], splits=splits)
