"""The CLI of splits and labelling: data split, label suggest, label import, label export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import tiny_recipe
from tuneforge.cli import app
from tuneforge.config import recipe_from_dict
from tuneforge.data.readers import read_examples
from tuneforge.data.split import load_split_indices

runner = CliRunner()


def tf(*args) -> str:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # rich wraps long lines


def test_data_split_writes_files_and_indices(demo_data, tmp_path: Path) -> None:
    source = demo_data["classification"]["train"]
    output = tf(
        "data",
        "split",
        source,
        "--task",
        "classification",
        "--out",
        tmp_path,
        "--validation",
        "0.2",
        "--test",
        "0.1",
    )
    assert "rows" in output and "validation" in output
    rows = {n: read_examples(tmp_path / f"{n}.csv") for n in ("train", "validation", "test")}
    assert [len(r) for r in rows.values()] == [168, 48, 24]
    everything = read_examples(source)
    plan = load_split_indices(tmp_path / "splits.json", everything)
    assert [everything[i].text for i in plan["validation"]] == [e.text for e in rows["validation"]]


def test_data_split_k_fold_with_groups(tmp_path: Path) -> None:
    src = tmp_path / "data.csv"
    src.write_text("text,label,doc\n" + "".join(f"text {i},{'ab'[i % 2]},d{i % 7}\n" for i in range(42)))
    tf(
        "data",
        "split",
        src,
        "--task",
        "classification",
        "--out",
        tmp_path / "k",
        "--k-fold",
        "3",
        "--group-column",
        "doc",
    )
    seen = []
    for i in (1, 2, 3):
        val = read_examples(tmp_path / "k" / f"fold-{i}" / "validation.csv", group_column="doc")
        train = read_examples(tmp_path / "k" / f"fold-{i}" / "train.csv", group_column="doc")
        assert not {e.group for e in val} & {e.group for e in train}
        seen += [e.text for e in val]
    assert sorted(seen) == sorted(f"text {i}" for i in range(42))


def test_label_suggest_import_export(demo_data, tmp_path: Path) -> None:
    from tuneforge.pipeline import run

    run_dir = run(
        recipe_from_dict(tiny_recipe(demo_data, "classification", tmp_path / "run")), quiet=True
    ).path
    tasks = tmp_path / "tasks.json"
    output = tf("label", "suggest", run_dir, "--pool", demo_data["classification"]["test"], "--top", "5",
                "--format", "labelstudio", "--out", tasks)  # fmt: skip
    assert "wrote 5 examples ranked by entropy" in output and (tmp_path / "tasks.xml").is_file()
    exported = json.loads(tasks.read_text())
    for task in exported[:3]:  # the annotator accepts the model's pre-annotation
        task["annotations"] = [{"result": task["predictions"][0]["result"]}]
    exported[3]["annotations"] = [{"result": [], "was_cancelled": True}]
    tasks.write_text(json.dumps(exported))
    merged = tmp_path / "merged.csv"
    train = demo_data["classification"]["train"]
    output = tf(
        "label",
        "import",
        tasks,
        "--format",
        "labelstudio",
        "--task",
        "classification",
        "--into",
        train,
        "--out",
        merged,
    )
    assert "added 3 examples" in output and "1 skipped in the tool, 1 unannotated" in output
    assert len(read_examples(merged)) == len(read_examples(train)) + 3
    out = tmp_path / "train.doccano.jsonl"
    assert "wrote 240" in tf(
        "label", "export", train, "--format", "doccano", "--task", "classification", "--out", out
    )
    assert len(out.read_text().splitlines()) == 240


def test_label_import_error_is_a_clean_message(demo_data, tmp_path: Path) -> None:
    ann = tmp_path / "d.jsonl"
    ann.write_text('{"text": "brand new text", "label": ["refund_requets"]}\n')
    cmd = [sys.executable, "-m", "tuneforge.cli", "label", "import", str(ann), "--format", "doccano", "--task",
           "classification", "--into", str(demo_data["classification"]["train"]), "--out", str(tmp_path / "m.csv")]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "Did you mean 'refund_request'?" in " ".join(proc.stderr.split())
    assert not (tmp_path / "m.csv").exists()


@pytest.mark.parametrize("task", ["ner", "multilabel"])
def test_label_export_then_import_round_trip(demo_data, tmp_path: Path, task: str) -> None:
    train = demo_data[task]["train"]
    out = tmp_path / "tasks.json"
    tf("label", "export", train, "--format", "labelstudio", "--task", task, "--out", out)
    merged = tmp_path / ("m.conll" if task == "ner" else "m.jsonl")
    output = tf(
        "label", "import", out, "--format", "labelstudio", "--task", task, "--into", train, "--out", merged
    )
    assert "added 0 examples" in output
    assert len(read_examples(merged, task=task)) == len(read_examples(train, task=task))
