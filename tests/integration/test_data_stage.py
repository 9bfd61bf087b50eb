"""The data stage inside a run, and `tuneforge data inspect|clean` on the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import tuneforge
from tests.conftest import tiny_recipe
from tuneforge.config import recipe_from_dict
from tuneforge.data.readers import read_examples
from tuneforge.errors import ConfigError
from tuneforge.pipeline import run


def _tf(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tuneforge.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_run_writes_data_report_and_ledgers(demo_data, tmp_path):
    recipe = tiny_recipe(demo_data, "classification", tmp_path / "run", epochs=1)
    run_dir = run(recipe_from_dict(recipe), quiet=True)
    for name in ("data_report.md", "data_report.json", "data_report.html", "removed.jsonl", "changed.jsonl"):
        assert (run_dir.path / name).is_file(), name
    report = json.loads((run_dir.path / "data_report.json").read_text())
    removed = [json.loads(x) for x in (run_dir.path / "removed.jsonl").read_text().splitlines()]
    # the demo training file carries exact duplicates on purpose: each removal is listed with its line
    assert report["checks"]["duplicates"]["removed"] == sum(r["check"] == "duplicates" for r in removed) > 0
    train_rows = len(read_examples(demo_data["classification"]["train"], task="classification"))
    assert report["stats"]["splits"]["train"]["rows_in"] == train_rows
    assert report["stats"]["splits"]["train"]["rows_out"] == train_rows - sum(
        r["split"] == "train" for r in removed
    )
    # serving normalises text the way training did: full-width letters and doubled spaces change nothing
    predictor = tuneforge.load(run_dir.path)
    assert predictor.meta["normalize_text"] is True
    wide, plain = predictor.predict_proba(["Ｃａｎ I  change my ａｄｄｒｅｓｓ?", "Can I change my address?"])
    assert np.allclose(wide, plain)


def test_run_holds_out_test_and_reuses_splits(demo_data, tmp_path):
    files = demo_data["ner"]
    base = tiny_recipe(demo_data, "ner", tmp_path / "a", epochs=1)
    base["data"] = {"train": str(files["train"]), "validation_fraction": 0.2, "test_fraction": 0.2}
    first = run(recipe_from_dict(base), quiet=True)
    plan = json.loads((first.path / "splits.json").read_text())["splits"]
    n = len(read_examples(files["train"], task="ner"))
    assert sorted(plan["train"] + plan["validation"] + plan["test"]) == list(range(n))
    assert plan["test"] and (first.path / "report.json").is_file()
    again = dict(base, output=str(tmp_path / "b"))
    again["data"] = dict(base["data"], splits_file=str(first.path / "splits.json"), validation_fraction=0.3)
    second = run(recipe_from_dict(again), quiet=True)
    assert json.loads((second.path / "splits.json").read_text())["splits"] == plan


def test_fail_mode_stops_the_run_with_exit_2(demo_data, tmp_path):
    recipe = tmp_path / "r.yaml"
    files = demo_data["classification"]
    recipe.write_text(
        f"task: classification\ndata:\n  train: {files['train']}\n  validation: {files['validation']}\n"
        f"  quality:\n    duplicates: fail\nbackbone: tiny-random\noutput: {tmp_path / 'run'}\n"
    )
    proc = _tf("run", str(recipe), "train.epochs=1")
    assert proc.returncode == 2
    assert "data quality check 'duplicates' failed" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "run" / "model").exists()


def test_cli_inspect_and_clean(demo_data, tmp_path):
    files = demo_data["classification"]
    args = [str(files["train"]), "--validation", str(files["validation"]), "--test", str(files["test"])]
    args += ["--backbone", "tiny-random", "--no-label-noise"]
    proc = _tf("data", "inspect", *args, "--out", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    assert "duplicates" in proc.stdout and (tmp_path / "rep" / "data_report.html").is_file()
    proc = _tf("data", "clean", *args, "--out", str(tmp_path / "clean"), "--check", "near_duplicates=fix")
    assert proc.returncode == 0, proc.stderr
    cleaned = read_examples(tmp_path / "clean" / files["train"].name, task="classification")
    removed = (tmp_path / "clean" / "removed.jsonl").read_text().splitlines()
    original = read_examples(files["train"], task="classification")
    assert len(cleaned) + sum('"split": "train"' in r for r in removed) == len(original)
    proc = _tf("data", "clean", *args, "--out", str(tmp_path / "clean"))
    assert proc.returncode == 2 and "not empty" in proc.stderr


@pytest.mark.parametrize("bad", ["duplicates=maybe", "duplicate=fix", "nonsense"])
def test_cli_bad_check_option(demo_data, tmp_path, bad):
    proc = _tf(
        "data", "inspect", str(demo_data["classification"]["train"]), "--backbone", "none", "--check", bad
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_run_augments_the_training_split(demo_data, tmp_path):
    recipe = tiny_recipe(demo_data, "ner", tmp_path / "run", epochs=1)
    recipe["data"]["augment"] = {"enabled": True, "operations": ["swap", "delete", "mention"], "copies": 1}
    run_dir = run(recipe_from_dict(recipe), quiet=True)
    report = json.loads((run_dir.path / "data_report.json").read_text())
    assert report["stats"]["augmentation"]["added"] > 0


def test_augment_operation_that_does_not_fit_the_task_is_a_recipe_error(demo_data, tmp_path):
    recipe = tiny_recipe(demo_data, "classification", tmp_path / "run", epochs=1)
    recipe["data"]["augment"] = {"enabled": True, "operations": ["mention"]}
    with pytest.raises(ConfigError, match="mention"):
        run(recipe_from_dict(recipe), quiet=True)
    assert not (tmp_path / "run" / "splits.json").exists()
