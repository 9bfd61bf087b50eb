"""The CLI end to end on the tiny random backbone: run, predict, evaluate, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from tests.conftest import tiny_recipe

CLI = [sys.executable, "-m", "tuneforge.cli"]


def tf(*args, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([*CLI, *map(str, args)], input=stdin, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def runs(demo_data, tmp_path_factory):
    """One finished run per task, made through the CLI."""
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for task, method in [("classification", "full"), ("ner", "lora"), ("multilabel", "full")]:
        recipe = tiny_recipe(demo_data, task, root / task, epochs=2)
        recipe["method"] = method
        path = root / f"{task}.yaml"
        path.write_text(yaml.safe_dump(recipe))
        tf("run", path, "--quiet")
        out[task] = root / task
    return out


@pytest.mark.parametrize("task", ["classification", "ner", "multilabel"])
def test_run_leaves_a_complete_run_directory(runs, task):
    run = runs[task]
    for name in [
        "recipe.yaml",
        "model/tuneforge.json",
        "metrics.jsonl",
        "report.md",
        "report.json",
        "validation_report.json",
        "run.json",
        "splits.json",
        "checkpoints/last.pt",
        "checkpoints/manifest.json",
        "manifest.json",
    ]:
        assert (run / name).is_file(), name
    manifest = json.loads((run / "manifest.json").read_text())
    assert len(manifest["data"]["train"]["sha256"]) == 64 and manifest["seed"] == 42
    assert manifest["packages"]["torch"].startswith("2.13") and manifest["hardware"]["cpu_count"] >= 1
    assert manifest["splits"]["sha256"] and "tuneforge.json" in manifest["artifacts"]
    summary = json.loads((run / "run.json").read_text())
    assert set(summary["metrics"]) == {"validation", "test"}
    assert summary["parameters"]["trainable"] > 0
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert any(r["split"] == "validation" for r in records)
    assert yaml.safe_load((run / "recipe.yaml").read_text())["task"] == task


def test_predict_stdin_classification(runs):
    proc = tf("predict", runs["classification"], "-", stdin="where is my card\nI want a refund please\n")
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 2
    assert rows[0]["text"] == "where is my card"
    assert abs(sum(rows[0]["probabilities"].values()) - 1) < 1e-4
    assert rows[0]["label"] == max(rows[0]["probabilities"], key=rows[0]["probabilities"].get)


def test_predict_file_ner_gives_spans_with_offsets(runs, demo_data, tmp_path):
    out = tmp_path / "pred.jsonl"
    tf("predict", runs["ner"], demo_data["ner"]["test"], "--out", out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 30
    for row in rows:
        assert len(row["tags"]) > 0
        for ent in row["entities"]:
            assert row["text"][ent["start"] : ent["end"]] == ent["text"]


def test_evaluate_rescoring_matches_the_run_report(runs, demo_data, tmp_path):
    run = runs["classification"]
    tf("evaluate", run, "--data", demo_data["classification"]["test"], "--out", tmp_path)
    again = json.loads((tmp_path / "report.json").read_text())["metrics"]
    original = json.loads((run / "report.json").read_text())["metrics"]
    assert again["accuracy"] == pytest.approx(original["accuracy"])


def test_python_api_loads_and_predicts(runs):
    import tuneforge

    model = tuneforge.load(runs["multilabel"])
    preds = model.predict(["my parcel is late and I want a refund"])
    assert isinstance(preds[0].label, list)
    proba = model.predict_proba(["my parcel is late"])
    assert proba.shape == (1, len(model.labels))


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "missing.yaml"], "does not exist"),
        (["predict", "no/such/run"], "does not exist"),
        (["evaluate", "no/such/run", "--data", "x.csv"], "does not exist"),
    ],
)
def test_errors_exit_2_without_traceback(args, message, tmp_path):
    proc = subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_recipe_key_and_bad_data_exit_2(tmp_path, demo_data):
    recipe = tiny_recipe(demo_data, "classification", tmp_path / "run")
    recipe["train"]["learning_rate"] = 0.1
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    proc = tf("run", tmp_path / "r.yaml", check=False)
    assert proc.returncode == 2 and "unknown key 'train.learning_rate'" in proc.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text('text,label\n"unterminated,x\n')
    recipe = tiny_recipe(demo_data, "classification", tmp_path / "run2")
    recipe["data"]["train"] = str(bad)
    (tmp_path / "r2.yaml").write_text(yaml.safe_dump(recipe))
    proc = tf("run", tmp_path / "r2.yaml", check=False)
    assert proc.returncode == 2 and "bad.csv" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "run2" / "model").exists()


def test_unknown_label_in_test_file_is_reported(tmp_path, demo_data):
    test = tmp_path / "test.csv"
    test.write_text("text,label\nwhere is my card,card_lost\nmy parcel is late,shipping_woes\n")
    recipe = tiny_recipe(demo_data, "classification", tmp_path / "run")
    recipe["data"]["test"] = str(test)
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    proc = tf("run", tmp_path / "r.yaml", check=False)
    assert proc.returncode == 2
    assert "test.csv:3" in proc.stderr and "unknown_labels" in proc.stderr and "shipping_woes" in proc.stderr


def test_misspelled_label_in_test_file_is_fixed_and_recorded(tmp_path, demo_data):
    test = tmp_path / "test.csv"
    test.write_text("text,label\nwhere is my card,card_lots\n")
    recipe = tiny_recipe(demo_data, "classification", tmp_path / "run", epochs=1)
    recipe["data"]["test"] = str(test)
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    tf("run", tmp_path / "r.yaml")
    changed = [json.loads(x) for x in (tmp_path / "run" / "changed.jsonl").read_text().splitlines()]
    assert {"line": 2, "check": "labels", "before": "card_lots", "after": "card_lost"}.items() <= next(
        c for c in changed if c["file"].endswith("test.csv")
    ).items()


def test_existing_output_needs_resume_or_force(runs):
    proc = tf("run", runs["classification"].parent / "classification.yaml", check=False)
    assert proc.returncode == 2 and "--resume" in proc.stderr
