"""Selection's validation split: grown from training examples when the recipe's is small."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from tuneforge.select.holdout import MAX_MOVED, grow_validation
from tuneforge.types import Example


def _rows(n: int, labels: int = 5, source: str = "train.csv", group_every: int = 0) -> list[Example]:
    return [
        Example(
            text=f"text {i}",
            label=f"l{i % labels}",
            source=source,
            line=i + 2,
            group=f"g{i // group_every}" if group_every else None,
        )
        for i in range(n)
    ]


def test_grows_validation_to_the_minimum_with_a_stratified_share_of_train():
    train, val = _rows(400), _rows(20, source="dev.csv")
    new_train, new_val, moved = grow_validation(train, val, minimum=100, seed=1)
    assert moved == 80 and len(new_val) == 100 and len(new_train) == 320
    assert new_val[:20] == val  # the recipe's own validation examples stay, first
    assert Counter(new_train + new_val[20:]) == Counter(train)  # nothing lost, nothing twice
    assert Counter(ex.label for ex in new_val[20:]) == Counter({f"l{k}": 16 for k in range(5)})


def test_moves_at_most_a_quarter_of_train_and_nothing_when_validation_is_large_enough():
    train = _rows(200)
    _, val, moved = grow_validation(train, [], minimum=1000, seed=0)
    assert moved == int(MAX_MOVED * 200) == len(val)
    assert grow_validation(train, _rows(50), minimum=50, seed=0)[2] == 0
    assert grow_validation(train, [], minimum=0, seed=0) == (train, [], 0)


def test_augmented_copies_of_moved_examples_leave_training():
    originals = _rows(100)
    copies = [
        Example(text=ex.text + " (copy)", label=ex.label, source=ex.source, line=ex.line)
        for ex in originals[:40]
    ]
    new_train, new_val, moved = grow_validation(originals + copies, [], minimum=20, augmented=40, seed=3)
    assert moved == 20
    held = {(ex.source, ex.line) for ex in new_val}
    assert all(ex.text.endswith("(copy)") is False for ex in new_val)  # copies are never moved
    kept_copies = [ex for ex in new_train if ex.text.endswith("(copy)")]
    assert not any((ex.source, ex.line) in held for ex in kept_copies)
    assert len(kept_copies) == 40 - sum(1 for ex in copies if (ex.source, ex.line) in held)


def test_groups_move_whole_and_ner_sentences_move_too():
    train = _rows(120, group_every=4)
    new_train, new_val, moved = grow_validation(train, [], minimum=24, seed=2)
    assert moved and {ex.group for ex in new_train}.isdisjoint({ex.group for ex in new_val})
    sentences = [
        Example(
            text=f"w{i} x",
            tokens=(f"w{i}", "x"),
            tags=("B-PER" if i % 2 else "O", "O"),
            source="t.conll",
            line=3 * i,
        )
        for i in range(60)
    ]
    ner_train, ner_val, moved = grow_validation(sentences, sentences[:5], minimum=15, seed=0)
    assert moved == 10 and len(ner_val) == 15 and len(ner_train) == 50


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 300), n_val=st.integers(0, 80), minimum=st.integers(0, 400), seed=st.integers(0, 5))
def test_property_train_and_moved_partition_train(n, n_val, minimum, seed):
    train, val = _rows(n, labels=7), _rows(n_val, source="dev.csv")
    new_train, new_val, moved = grow_validation(train, val, minimum=minimum, seed=seed)
    assert new_val[:n_val] == val and len(new_val) == n_val + moved
    assert Counter(new_train + new_val[n_val:]) == Counter(train)
    assert moved <= max(0, min(minimum - n_val, int(MAX_MOVED * n))) + 7  # one per label at most over
