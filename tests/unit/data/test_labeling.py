"""Uncertainty scores, suggestion ranking on tiny runs, and merging annotations into a training file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import tiny_recipe
from tuneforge.config import recipe_from_dict
from tuneforge.data.annotation import write_annotations
from tuneforge.data.labeling import import_annotations, suggest, uncertainty, write_suggestions
from tuneforge.data.readers import read_examples, read_texts
from tuneforge.errors import ConfigError, DataError
from tuneforge.types import Example


@pytest.mark.parametrize("strategy", ["entropy", "margin", "least_confident"])
def test_uncertainty_orders_and_bounds(strategy: str) -> None:
    sure, unsure = np.array([[0.98, 0.01, 0.01]]), np.array([[0.34, 0.33, 0.33]])
    assert 0.0 <= uncertainty(sure, strategy) < uncertainty(unsure, strategy) <= 1.0
    rows = np.array([[0.99, 0.01], [0.5, 0.5]])
    assert uncertainty(rows, strategy) == pytest.approx(uncertainty(rows[1:], strategy))  # the worst decision


def test_uncertainty_values() -> None:
    p = np.array([[0.5, 0.5]])
    assert uncertainty(p, "entropy") == pytest.approx(1.0)
    assert uncertainty(np.array([[0.7, 0.2, 0.1]]), "margin") == pytest.approx(0.5)
    assert uncertainty(np.array([[0.7, 0.2, 0.1]]), "least_confident") == pytest.approx(0.3)
    with pytest.raises(ConfigError):
        uncertainty(p, "random")


@pytest.fixture(scope="module")
def runs(demo_data, tmp_path_factory):
    from tuneforge.pipeline import run

    root = tmp_path_factory.mktemp("label-runs")
    return {
        task: run(recipe_from_dict(tiny_recipe(demo_data, task, root / task)), quiet=True).path
        for task in ("classification", "ner", "multilabel")
    }


@pytest.mark.parametrize("task", ["classification", "ner", "multilabel"])
def test_suggest_ranks_deduplicates_and_predicts(runs, demo_data, task: str) -> None:
    pool = read_texts(demo_data[task]["test"])
    doubled = [*pool, *pool]
    rows = suggest(runs[task], doubled, strategy="margin", top=10)
    assert [r["rank"] for r in rows] == list(range(1, 11))
    assert len({r["text"] for r in rows}) == 10
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    everything = suggest(runs[task], doubled, top=10_000)
    assert len(everything) == len({" ".join(ex.text.split()) for ex in pool})
    pred = rows[0]["prediction"]
    if task == "ner":
        assert all(rows[0]["text"][s:e] and isinstance(t, str) for s, e, t in pred)
    elif task == "multilabel":
        assert isinstance(pred, list)
    else:
        assert isinstance(pred, str)


def test_suggestions_written_for_annotation_tools(runs, demo_data, tmp_path: Path) -> None:
    rows = suggest(runs["ner"], read_texts(demo_data["ner"]["test"]), top=5)
    files = write_suggestions(tmp_path / "tasks.json", rows, "labelstudio", ["LOC", "PER"], "ner")
    tasks = json.loads(files[0].read_text())
    assert files[1].suffix == ".xml" and len(tasks) == 5
    prediction = tasks[0]["predictions"][0]
    assert prediction["score"] == pytest.approx(1 - rows[0]["score"])
    for r in prediction["result"]:
        v = r["value"]
        assert tasks[0]["data"]["text"][v["start"] : v["end"]] == v["text"]
    doccano = write_suggestions(tmp_path / "d.jsonl", rows, "doccano", [], "ner")[0]
    first = json.loads(doccano.read_text().splitlines()[0])
    assert first["label"] == rows[0]["prediction"] and first["uncertainty"] == rows[0]["score"]


def _train(tmp_path: Path) -> Path:
    path = tmp_path / "train.csv"
    path.write_text("text,label\nwhere is my card,card\nrefund please,refund\n")
    return path


def test_import_merges_skips_known_texts_and_writes_atomically(tmp_path: Path) -> None:
    train = _train(tmp_path)
    new = [
        Example(text="where  is my card", label="card"),
        Example(text="card gone", label="card"),
        Example(text="card gone", label="card"),
        Example(text="money back", label="refund"),
    ]
    ann = write_annotations(tmp_path / "d.jsonl", new, "doccano", "classification")
    counts = import_annotations(ann, "doccano", "classification", train, tmp_path / "merged.csv")
    assert (counts["added"], counts["already_present"], counts["duplicates"]) == (2, 1, 1)
    merged = read_examples(tmp_path / "merged.csv")
    assert [e.text for e in merged] == ["where is my card", "refund please", "card gone", "money back"]
    assert read_examples(train)[-1].text == "refund please"  # --into unchanged when --out is given


def test_import_unknown_label_has_a_hint_and_writes_nothing(tmp_path: Path) -> None:
    train = _train(tmp_path)
    ann = write_annotations(
        tmp_path / "ls.json", [Example(text="x", label="refnd")], "labelstudio", "classification"
    )
    before = train.read_text()
    with pytest.raises(DataError, match="task 1: label 'refnd' is not among.*Did you mean 'refund'"):
        import_annotations(ann, "labelstudio", "classification", train)
    assert train.read_text() == before
    counts = import_annotations(ann, "labelstudio", "classification", train, allow_new_labels=True)
    assert counts["added"] == 1 and read_examples(train)[-1].label == "refnd"


def test_import_in_place_refuses_to_drop_columns(tmp_path: Path) -> None:
    train = tmp_path / "train.csv"
    train.write_text("id,text,label\n1,where is my card,card\n")
    ann = write_annotations(
        tmp_path / "d.jsonl", [Example(text="card gone", label="card")], "doccano", "classification"
    )
    with pytest.raises(ConfigError, match="'id'|id"):
        import_annotations(ann, "doccano", "classification", train)
    counts = import_annotations(ann, "doccano", "classification", train, tmp_path / "m.csv")
    assert counts["dropped_columns"] == ["id"]


def test_import_ner_into_conll(tmp_path: Path) -> None:
    train = tmp_path / "train.conll"
    train.write_text("John B-PER\nsmiled O\n")
    ann = tmp_path / "d.jsonl"
    ann.write_text('{"text": "Mary met John.", "label": [[0, 4, "PER"], [9, 13, "PER"]]}\n')
    import_annotations(ann, "doccano", "ner", train)
    got = read_examples(train, task="ner")
    assert got[-1].tokens == ("Mary", "met", "John", ".") and got[-1].tags == ("B-PER", "O", "B-PER", "O")
    ann.write_text('{"text": "in Paris", "label": [[3, 8, "LOC"]]}\n')
    with pytest.raises(DataError, match="entity type 'LOC' is not among"):
        import_annotations(ann, "doccano", "ner", train)
