"""Markdown rendering, atomic writing and loading of evaluation reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuneforge.evaluate.metrics import evaluate_predictions
from tuneforge.evaluate.report import load_report, render_markdown, write_report
from tuneforge.types import EvalResult


@pytest.fixture
def clf_result() -> EvalResult:
    # a: p=1, r=1/2; b: p=1/3, r=1; c: 0 — accuracy 0.5
    return evaluate_predictions("classification", ["a", "a", "b", "c"], ["a", "b", "b", "b"], ["a", "b", "c"])


def _section(text: str, heading: str) -> str:
    """Text of one ``## heading`` section."""
    start = text.index(f"## {heading}")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def test_classification_markdown_rows(clf_result: EvalResult) -> None:
    md = render_markdown(clf_result, title="Sentiment eval")
    assert md.startswith("# Sentiment eval\n")
    assert "| **accuracy** (primary) | 0.5000 |" in md
    assert "| macro_f1 | 0.3889 |" in md
    per_class = _section(md, "Per-class scores")
    assert "| Label | Precision | Recall | F1 | Support |" in per_class
    assert "| a | 1.0000 | 0.5000 | 0.6667 | 2 |" in per_class
    assert "| b | 0.3333 | 1.0000 | 0.5000 | 1 |" in per_class
    assert "| c | 0.0000 | 0.0000 | 0.0000 | 1 |" in per_class
    assert "| *micro avg* | 0.5000 | 0.5000 | 0.5000 | 4 |" in per_class
    assert "| *macro avg* | 0.4444 | 0.5000 | 0.3889 | 4 |" in per_class
    assert "| *weighted avg* | 0.5833 | 0.5000 | 0.4583 | 4 |" in per_class
    assert "Accuracy: 0.5000" in per_class
    matrix = _section(md, "Confusion matrix")
    assert "| a | 1 | 1 | 0 |" in matrix and "| c | 0 | 1 | 0 |" in matrix
    assert "Top 20 confusions" not in md


def test_extra_table_comes_first(clf_result: EvalResult) -> None:
    extra = {"run": "r-7", "backbone": "tiny-bert", "method": "lora", "train_seconds": 12.3456789}
    md = render_markdown(clf_result, extra=extra)
    assert "| run | r-7 |" in md and "| method | lora |" in md and "| train_seconds | 12.3457 |" in md
    assert md.index("| backbone | tiny-bert |") < md.index("## Metrics")


def test_labels_with_pipes_are_escaped() -> None:
    result = evaluate_predictions("classification", ["x|y", "z"], ["x|y", "x|y"], ["x|y", "z"])
    md = render_markdown(result)
    assert "| x\\|y | 0.5000 | 1.0000 | 0.6667 | 1 |" in md


def test_many_classes_list_top_confusions_instead_of_matrix() -> None:
    labels = [f"class{i:02d}" for i in range(25)]
    golds, preds = [], []
    for i, label in enumerate(labels):
        golds += [label] * 3
        preds += [label, labels[(i + 1) % 25], labels[(i + 1) % 25] if i == 4 else label]
    result = evaluate_predictions("classification", golds, preds, labels)
    md = render_markdown(result)
    assert "## Confusion matrix" not in md
    top = _section(md, "Top 20 confusions")
    rows = [line for line in top.splitlines() if line.startswith("| class")]
    assert len(rows) == 20
    assert rows[0] == "| class04 | class05 | 2 |"  # the most confused pair first
    assert rows[1] == "| class00 | class01 | 1 |"  # then ties in label order


def test_multilabel_markdown() -> None:
    result = evaluate_predictions(
        "multilabel", [["a"], ["a", "b"], []], [["a"], ["b"], ["c"]], ["a", "b", "c"]
    )
    md = render_markdown(result)
    assert "| **micro_f1** (primary) | 0.6667 |" in md
    assert "| *samples avg* | 0.6667 | 0.5000 | 0.5556 | 3 |" in md
    assert "Subset accuracy: 0.3333" in md and "Hamming loss: 0.2222" in md
    assert "Confusion matrix" not in md


def test_ner_markdown_has_entity_and_token_tables() -> None:
    golds = [["B-PER", "I-PER", "O"], ["B-LOC", "O"]]
    preds = [["B-PER", "I-PER", "O"], ["B-ORG", "O"]]
    result = evaluate_predictions("ner", golds, preds, ["O", "B-PER", "I-PER", "B-LOC", "B-ORG"])
    md = render_markdown(result)
    entity = _section(md, "Entity-level scores (strict IOB2)")
    assert "| Entity type | Precision | Recall | F1 | Support |" in entity
    assert "| PER | 1.0000 | 1.0000 | 1.0000 | 1 |" in entity
    assert "| LOC | 0.0000 | 0.0000 | 0.0000 | 1 |" in entity
    assert "| *micro avg* | 0.5000 | 0.5000 | 0.5000 | 2 |" in entity
    token = _section(md, "Token-level scores")
    assert "| O | 1.0000 | 1.0000 | 1.0000 | 2 |" in token
    assert "| B-ORG | 0.0000 | 0.0000 | 0.0000 | 0 |" in token
    assert "Token accuracy: 0.8000" in token


def test_render_minimal_result() -> None:
    md = render_markdown(EvalResult(task="classification", metrics={"accuracy": 0.75}))
    assert "| accuracy | 0.7500 |" in md


def test_write_and_load_round_trip(tmp_path: Path, clf_result: EvalResult) -> None:
    extra = {"run": "r1", "out": tmp_path, "train_seconds": 3.5}
    md_path, json_path = write_report(clf_result, tmp_path / "eval", title="T", extra=extra)
    assert (md_path, json_path) == (tmp_path / "eval" / "report.md", tmp_path / "eval" / "report.json")
    assert md_path.read_text(encoding="utf-8") == render_markdown(clf_result, title="T", extra=extra)
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert set(data) == {"task", "metrics", "report", "extra"}
    assert data["extra"] == {"run": "r1", "out": str(tmp_path), "train_seconds": 3.5}
    for source in (json_path, md_path, json_path.parent):
        loaded = load_report(source)
        assert loaded == clf_result
        assert loaded.primary == clf_result.primary
    assert sorted(p.name for p in json_path.parent.iterdir()) == ["report.json", "report.md"]


def test_round_trip_ner_with_custom_stem(tmp_path: Path) -> None:
    result = evaluate_predictions("ner", [["B-X", "I-X", "O"]], [["B-X", "O", "O"]], [])
    md_path, json_path = write_report(result, tmp_path, stem="test_eval")
    assert md_path.name == "test_eval.md" and json_path.name == "test_eval.json"
    assert load_report(json_path) == result


def test_failing_write_leaves_no_partial_file(
    tmp_path: Path, clf_result: EvalResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "report.md").write_text("old report\n", encoding="utf-8")
    original = Path.write_text

    def half_then_fail(self: Path, data: str, *args: object, **kwargs: object) -> int:
        original(self, data[: len(data) // 2], *args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_report(clf_result, tmp_path)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]  # no temp files, no report.json
    assert (tmp_path / "report.md").read_text(encoding="utf-8") == "old report\n"


def test_unserialisable_result_writes_nothing(tmp_path: Path) -> None:
    class Boom:
        def __str__(self) -> str:
            raise RuntimeError("cannot serialise")

    result = EvalResult(task="classification", metrics={"accuracy": 1.0}, report={"odd": Boom()})
    with pytest.raises(RuntimeError, match="cannot serialise"):
        write_report(result, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_load_report_rejects_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not a JSON report"):
        load_report(bad)
    bad.write_text('{"foo": 1}', encoding="utf-8")
    with pytest.raises(ValueError, match="not an evaluation report"):
        load_report(bad)
