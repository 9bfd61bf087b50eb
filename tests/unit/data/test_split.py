"""Split plans: stratified proportions, disjoint and complete, groups kept whole, k-fold coverage,
determinism, the splits.json record and its hash check; group ids from the readers."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuneforge.data.readers import read_examples
from tuneforge.data.split import (
    holdout,
    kfold,
    load_split_indices,
    plan_splits,
    rows_hash,
    save_split_indices,
)
from tuneforge.errors import ConfigError, DataError
from tuneforge.types import Example


def labelled(labels: list[str], groups: list[str | None] | None = None) -> list[Example]:
    groups = groups or [None] * len(labels)
    return [
        Example(text=f"text {i}", label=lab, group=g)
        for i, (lab, g) in enumerate(zip(labels, groups, strict=True))
    ]


def assert_partition(plan: dict[str, list[int]], n: int) -> None:
    rows = [i for name in ("train", "validation", "test") for i in plan[name]]
    assert sorted(rows) == list(range(n))
    for name in plan:
        assert plan[name] == sorted(plan[name])


def test_stratified_proportions_per_label() -> None:
    examples = labelled(["a"] * 60 + ["b"] * 30 + ["c"] * 10)
    plan = plan_splits(examples, validation_fraction=0.2, test_fraction=0.1, seed=0)
    assert_partition(plan, 100)
    counts = {name: Counter(examples[i].label for i in rows) for name, rows in plan.items()}
    assert counts["validation"] == {"a": 12, "b": 6, "c": 2}
    assert counts["test"] == {"a": 6, "b": 3, "c": 1}


def test_total_sizes_are_exact_with_many_small_labels() -> None:
    examples = labelled([f"l{i % 100}" for i in range(300)])  # 100 labels x 3 rows
    plan = plan_splits(examples, validation_fraction=0.1, seed=1)
    assert len(plan["validation"]) == 30 and plan["test"] == []
    assert {examples[i].label for i in plan["train"]} == {f"l{i}" for i in range(100)}


def test_rare_labels_keep_a_training_row() -> None:
    examples = labelled(["a"] * 40 + ["b", "b"] + ["c"])
    for seed in range(20):
        plan = plan_splits(examples, validation_fraction=0.3, test_fraction=0.2, seed=seed)
        train = Counter(examples[i].label for i in plan["train"])
        assert train["b"] >= 1 and train["c"] == 1


def test_multilabel_label_sets_are_spread() -> None:
    sets = [("x",)] * 40 + [("x", "y")] * 40 + [("y",)] * 18 + [("z", "x")] * 2
    examples = [Example(text=f"t{i}", label=s) for i, s in enumerate(sets)]
    plan = plan_splits(examples, validation_fraction=0.25, seed=0)
    held = Counter(examples[i].label for i in plan["validation"])
    assert held[("x",)] == 10 and held[("x", "y")] == 10 and 4 <= held[("y",)] <= 5
    assert any(examples[i].label == ("z", "x") for i in plan["train"])


def test_ner_is_stratified_by_entity_types() -> None:
    def sent(i: int, tags: list[str]) -> Example:
        return Example(text=f"w{i} " * len(tags), tokens=tuple(f"w{i}" for _ in tags), tags=tuple(tags))

    examples = [sent(i, ["B-PER", "O"]) for i in range(50)] + [sent(i, ["O", "O"]) for i in range(50)]
    examples += [sent(i, ["B-LOC", "I-LOC"]) for i in range(20)]
    plan = plan_splits(examples, validation_fraction=0.1, test_fraction=0.1, seed=4)
    for name in ("validation", "test"):
        types = Counter(next((t[2:] for t in examples[i].tags if t != "O"), "-") for i in plan[name])
        assert types == {"PER": 5, "-": 5, "LOC": 2}


def test_groups_stay_whole_and_sizes_are_close() -> None:
    rng = random.Random(0)
    labels = [rng.choice("ab") for _ in range(500)]
    groups = [f"doc{rng.randrange(60)}" for _ in range(500)]
    examples = labelled(labels, groups)
    plan = plan_splits(examples, validation_fraction=0.2, test_fraction=0.1, seed=3)
    assert_partition(plan, 500)
    owner: dict[str, str] = {}
    for name, rows in plan.items():
        for i in rows:
            assert owner.setdefault(examples[i].group, name) == name
    largest = max(Counter(groups).values())
    assert abs(len(plan["validation"]) - 100) <= largest and abs(len(plan["test"]) - 50) <= largest


def test_ungrouped_rows_are_units_of_their_own() -> None:
    examples = labelled(["a"] * 20, ["g"] * 10 + [None] * 10)
    plan = plan_splits(examples, validation_fraction=0.2, seed=0)
    assert set(range(10)) <= set(plan["train"]) or set(range(10)) <= set(plan["validation"])


def test_deterministic_and_seed_dependent() -> None:
    examples = labelled([random.Random(1).choice("abc") for _ in range(200)])
    one = plan_splits(examples, validation_fraction=0.1, test_fraction=0.1, seed=7)
    assert one == plan_splits(examples, validation_fraction=0.1, test_fraction=0.1, seed=7)
    assert one != plan_splits(examples, validation_fraction=0.1, test_fraction=0.1, seed=8)


def test_no_stratification_still_partitions() -> None:
    examples = labelled(["a"] * 90 + ["b"] * 10)
    plan = plan_splits(examples, validation_fraction=0.1, seed=0, stratify=False)
    assert_partition(plan, 100)
    assert len(plan["validation"]) == 10


@pytest.mark.parametrize("val, test", [(-0.1, 0.0), (1.0, 0.0), (0.6, 0.4)])
def test_bad_fractions(val: float, test: float) -> None:
    with pytest.raises(ConfigError):
        plan_splits(labelled(["a"] * 10), validation_fraction=val, test_fraction=test, seed=0)


def test_kfold_coverage_balance_and_groups() -> None:
    rng = random.Random(2)
    examples = labelled(
        [rng.choice("aab") for _ in range(300)], [f"g{rng.randrange(80)}" for _ in range(300)]
    )
    folds = kfold(examples, 5, seed=0)
    seen = [i for _, val in folds for i in val]
    assert sorted(seen) == list(range(300))
    for train, val in folds:
        assert not set(train) & set(val) and len(train) + len(val) == 300
        assert not {examples[i].group for i in train} & {examples[i].group for i in val}
        assert abs(len(val) - 60) <= max(Counter(e.group for e in examples).values())
    assert folds == kfold(examples, 5, seed=0)


def test_kfold_stratified_without_groups() -> None:
    examples = labelled(["a"] * 50 + ["b"] * 25)
    for _, val in kfold(examples, 5, seed=3):
        assert Counter(examples[i].label for i in val) == {"a": 10, "b": 5}


def test_kfold_errors() -> None:
    with pytest.raises(ConfigError):
        kfold(labelled(["a"] * 10), 1, seed=0)
    with pytest.raises(DataError, match="3 folds of 2 groups"):
        kfold(labelled(["a"] * 10, ["x"] * 5 + ["y"] * 5), 3, seed=0)


def test_holdout_still_works() -> None:
    train, held = holdout(labelled(["a"] * 10 + ["b"] * 10), 0.2, seed=0)
    assert len(held) == 4 and sorted(train + held) == list(range(20))


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=80),
    groups=st.lists(st.one_of(st.none(), st.sampled_from(["g1", "g2", "g3", "g4", "g5"])), max_size=80),
    val=st.floats(0.0, 0.45),
    test=st.floats(0.0, 0.45),
    seed=st.integers(0, 2**31),
)
def test_property_plan_always_partitions(labels, groups, val, test, seed) -> None:
    groups = (groups + [None] * len(labels))[: len(labels)]
    examples = labelled(labels, groups)
    plan = plan_splits(examples, validation_fraction=val, test_fraction=test, seed=seed)
    assert_partition(plan, len(labels))
    owner = {}
    for name, rows in plan.items():
        for i in rows:
            if examples[i].group is not None:
                assert owner.setdefault(examples[i].group, name) == name


# ---------------------------------------------------------------------------------------------- splits.json


def test_save_load_round_trip_and_hash_check(tmp_path: Path) -> None:
    examples = labelled(["a"] * 10 + ["b"] * 10)
    plan = plan_splits(examples, validation_fraction=0.2, seed=0)
    path = save_split_indices(tmp_path / "splits.json", plan, {"source": "data.csv"}, examples=examples)
    assert load_split_indices(path) == plan
    assert load_split_indices(path, examples) == plan
    changed = list(examples)
    changed[3] = Example(text="edited", label="a")
    with pytest.raises(DataError, match="different rows"):
        load_split_indices(path, changed)
    with pytest.raises(DataError, match="made for 20 rows, but the data has 19"):
        load_split_indices(path, examples[:19])
    assert rows_hash(examples) != rows_hash(examples[::-1])


def test_load_rejects_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        load_split_indices(bad)
    bad.write_text('{"train_file": "x.csv"}')
    with pytest.raises(DataError, match="not a split-indices file"):
        load_split_indices(bad)
    with pytest.raises(DataError, match="does not exist"):
        load_split_indices(tmp_path / "missing.json")


# ---------------------------------------------------------------------------------------------- group ids


def test_readers_fill_groups(tmp_path: Path) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text("text,label,doc\none,x,d1\ntwo,y,\n")
    assert [e.group for e in read_examples(csv, group_column="doc")] == ["d1", None]
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"text": "one", "label": "x", "Doc": 3}\n{"text": "two", "label": "x", "doc": null}\n')
    assert [e.group for e in read_examples(jsonl, group_column="doc")] == ["3", None]
    conll = tmp_path / "a.conll"
    conll.write_text("-DOCSTART- O\n\nEU B-ORG\nrejects O\n\nPeter B-PER\n\n-DOCSTART- O\n\nBonn B-LOC\n")
    assert [e.group for e in read_examples(conll, task="ner")] == ["doc-1", "doc-1", "doc-2"]
    plain = tmp_path / "b.conll"
    plain.write_text("EU B-ORG\n\nBonn B-LOC\n")
    assert [e.group for e in read_examples(plain, task="ner")] == [None, None]
    one_doc = tmp_path / "c.conll"
    one_doc.write_text("-DOCSTART- O\n\nEU B-ORG\n\nBonn B-LOC\n")  # one document: nothing to keep together
    assert [e.group for e in read_examples(one_doc, task="ner")] == [None, None]


def test_missing_group_column_is_a_data_error(tmp_path: Path) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text("text,label,doc_id\none,x,d1\n")
    with pytest.raises(DataError) as err:
        read_examples(csv, group_column="docid")
    msg = str(err.value)
    assert "a.csv" in msg and "'doc_id'" in msg and "Did you mean 'doc_id'?" in msg
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"text": "one", "label": "x"}\n')
    with pytest.raises(DataError, match=r"a.jsonl:1: no field 'doc'"):
        read_examples(jsonl, group_column="doc")
