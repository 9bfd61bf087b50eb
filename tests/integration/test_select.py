"""``tuneforge select`` end to end on the tiny random backbone: both stages, the report, the budget,
``tuneforge run --selection``, and clear errors."""

from __future__ import annotations

import json
import math

import pytest
import yaml

from tests.conftest import tiny_recipe
from tests.integration.test_cli import tf
from tuneforge.config import recipe_from_dict
from tuneforge.select.selection import select


@pytest.fixture(scope="module")
def selected(demo_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("select")
    recipe = tiny_recipe(demo_data, "classification", root / "run", epochs=3)
    recipe["select"] = {"min_seconds": 2, "budget": "30s"}
    path = root / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    proc = tf(
        "select", path, "--backbones", "tiny-random", "--methods", "full,bitfit,lora", "--out", root / "sel"
    )
    return root, path, proc


def test_select_ranks_every_candidate_and_writes_its_report(selected):
    root, _, proc = selected
    data = json.loads((root / "sel" / "selection.json").read_text())
    names = [r["name"] for r in data["candidates"]]
    assert sorted(names) == ["tiny-random+bitfit", "tiny-random+full", "tiny-random+lora"]
    picked = [r for r in data["candidates"] if r["pick"]]
    assert len(picked) == 1 and picked[0]["name"] == data["pick"]
    for row in data["candidates"]:
        assert set(row["estimates"]) == {"probe", "knn", "logme"}
        assert 0.0 <= row["estimates"]["probe"] <= 1.0 and math.isfinite(row["estimates"]["logme"])
        assert row["rounds"] >= 1 and row["score"] is not None and row["latency_ms"] > 0
    # the pick has the best score among the candidates that reached the last round run
    top = max(r["rounds"] for r in data["candidates"])
    finalists = [r for r in data["candidates"] if r["rounds"] == top]
    assert picked[0]["score"] == max(r["score"] for r in finalists)
    assert any(r["pareto"] for r in data["candidates"]) and picked[0]["rounds"] == top
    # the budget holds, up to the overrun of a single training call (and the writing of the report)
    trials = [t for r in data["candidates"] for t in r["trials"]]
    assert all(t["validation_loss"] > 0 for t in trials)  # what breaks ties of the score
    overrun = max(0.0, *(t["seconds_used"] - t["seconds_given"] for t in trials))
    assert data["seconds"] <= data["budget_seconds"] + overrun + 5.0
    md = (root / "sel" / "selection.md").read_text()
    assert f"**Pick: {data['pick']}**" in md and "| candidate |" in md
    assert "pick:" in proc.stdout and data["pick"] in proc.stdout
    # stage-2 runs keep no checkpoints, and only each candidate's latest run keeps its model
    runs = sorted((root / "sel" / "runs").iterdir())
    assert runs and not any((r / "checkpoints").exists() for r in runs)
    for row in data["candidates"]:
        kept = [
            t["run"]
            for t in row["trials"]
            if (root / "sel" / "runs" / t["run"].split("/")[-1] / "model").is_dir()
        ]
        assert kept == [row["trials"][-1]["run"]]
    # every candidate trained on the same validation examples, written once; the demo's small
    # validation split was grown with training examples, which then left the training split
    val = (root / "sel" / "data" / "validation.jsonl").read_text().splitlines()
    train = (root / "sel" / "data" / "train.jsonl").read_text().splitlines()
    assert len(val) == data["validation_examples"] and len(train) == data["train_examples"]
    assert data["validation_moved_from_train"] > 0 and not set(val) & set(train)
    assert "held out of the training split for the selection" in md


def test_run_with_selection_trains_the_pick(selected):
    root, path, _ = selected
    data = json.loads((root / "sel" / "selection.json").read_text())
    pick = next(r for r in data["candidates"] if r["pick"])
    proc = tf("run", path, "--quiet", "--selection", root / "sel", f"output={root / 'picked'}")
    assert f"method {pick['method']['name']}" in proc.stdout
    summary = json.loads((root / "picked" / "run.json").read_text())
    assert summary["method"]["name"] == pick["method"]["name"]
    best = yaml.safe_load((root / "sel" / "best_recipe.yaml").read_text())
    assert best["method"]["name"] == pick["method"]["name"] and best["backbone"] == "tiny-random"


def test_errors_are_clear(selected, tmp_path):
    root, path, _ = selected
    proc = tf("select", path, "--backbones", "tiny-random,no-such-model", check=False)
    assert proc.returncode == 2 and "known names are" in proc.stderr and "Traceback" not in proc.stderr
    proc = tf("select", path, "--budget", "soon", check=False)
    assert proc.returncode == 2 and "write it like 90s, 20m or 1h30m" in proc.stderr
    proc = tf("select", path, "--methods", "lorra", check=False)
    assert proc.returncode == 2 and "lora" in proc.stderr
    proc = tf("run", path, "--selection", tmp_path / "missing", check=False)
    assert proc.returncode == 2 and "tuneforge select" in proc.stderr


@pytest.mark.parametrize("task", ["ner", "multilabel"])
def test_select_other_tasks(demo_data, tmp_path, task):
    recipe = recipe_from_dict(tiny_recipe(demo_data, task, tmp_path / "run", epochs=2))
    result = select(recipe, budget="12s", backbones=["tiny-random"], methods=["full", "lora"])
    rows = result.rows
    assert {r["name"] for r in rows} == {"tiny-random+full", "tiny-random+lora"}
    for row in rows:
        assert 0.0 <= row["estimates"]["probe"] <= 1.0 and 0.0 <= row["estimates"]["knn"] <= 1.0
    assert (result.folder / "selection.md").is_file() and result.pick in {r["name"] for r in rows}
