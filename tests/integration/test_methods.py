"""The method menu through the pipeline: per-method learning rates, AdaLoRA's allocator in the loop,
exact resume for method state, frozen-prefix caching, merge, and several adapters in one process."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import tuneforge
from tests.conftest import tiny_recipe
from tuneforge.cli import app
from tuneforge.errors import ConfigError
from tuneforge.track.base import Trackers


def _run(demo_data, tmp_path, name, method, task="classification", **train):
    recipe = tiny_recipe(demo_data, task, tmp_path / name, **train)
    recipe["method"] = method
    return tuneforge.run(recipe, quiet=True)


def _summary(run):
    return json.loads((run.path / "run.json").read_text())


@pytest.mark.parametrize(("task", "lr"), [("classification", 5e-4), ("ner", 1e-3)])
def test_method_default_learning_rate_is_resolved_and_saved(demo_data, tmp_path, task, lr):
    recipe = tiny_recipe(demo_data, task, tmp_path / "r", epochs=1)
    del recipe["train"]["lr"]
    recipe["method"] = "lora"
    run = tuneforge.run(recipe, quiet=True)
    saved = yaml.safe_load((run.path / "recipe.yaml").read_text())
    assert saved["train"]["lr"] == pytest.approx(lr)  # token classification: 2x the method's own
    summary = _summary(run)
    assert 0 < summary["parameters"]["trainable_share"] < 0.2
    assert summary["grad_state_bytes"] > 0


def test_adalora_allocator_runs_inside_the_loop(demo_data, tmp_path):
    method = {"name": "adalora", "init_r": 6, "target_r": 2, "interval": 2}
    run = _run(demo_data, tmp_path, "ada", method, epochs=3, batch_size=16, lr=5e-3)
    cfg = json.loads((run.path / "model" / "adapter_config.json").read_text())
    pattern = cfg["rank_pattern"]
    assert pattern, "the allocator must have produced a rank pattern"
    ranks = [sum(v) for v in pattern.values()]
    assert sum(ranks) == 2 * len(ranks), "the final budget is target_r per matrix on average"
    assert max(ranks) > min(ranks) or max(ranks) < 6, ranks
    model = tuneforge.load(run.path)
    assert model.predict(["hello"])[0].label


@pytest.mark.parametrize(
    "method",
    [
        {"name": "adalora", "init_r": 4, "target_r": 2, "interval": 2},
        {"name": "partial", "freeze_layers": 1},
        {"name": "adapter", "placement": "houlsby"},
    ],
    ids=lambda m: m["name"],
)
def test_interrupted_run_resumes_to_identical_metrics(demo_data, tmp_path, monkeypatch, method):
    straight = _run(demo_data, tmp_path, "straight", method, epochs=2, batch_size=16, checkpoint_steps=3)
    expected = _summary(straight)["metrics"]

    original = Trackers.log

    def crash(self, record):
        if record.get("split") == "train" and record["step"] == 8:
            raise KeyboardInterrupt("killed")
        original(self, record)

    monkeypatch.setattr(Trackers, "log", crash)
    with pytest.raises(KeyboardInterrupt):
        _run(demo_data, tmp_path, "killed", method, epochs=2, batch_size=16, checkpoint_steps=3)
    monkeypatch.setattr(Trackers, "log", original)
    recipe = tiny_recipe(
        demo_data, "classification", tmp_path / "killed", epochs=2, batch_size=16, checkpoint_steps=3
    )
    recipe["method"] = method
    resumed = tuneforge.run(recipe, resume=True, quiet=True)
    assert _summary(resumed)["metrics"] == expected


@pytest.mark.parametrize(
    ("task", "method"),
    [
        ("classification", {"name": "partial", "freeze_layers": 1}),
        ("ner", {"name": "partial", "freeze_layers": 1}),
        ("classification", {"name": "adapter", "placement": "houlsby", "layers": [1]}),
        ("ner", {"name": "adapter", "placement": "pfeiffer", "layers": [1], "dropout": 0.1}),
        ("ner", {"name": "lora", "layers": [1]}),
        ("classification", {"name": "ia3", "layers": [1]}),
    ],
    ids=lambda v: v if isinstance(v, str) else v["name"],
)
def test_frozen_prefix_cache_gives_the_same_results(demo_data, tmp_path, task, method):
    off = _run(demo_data, tmp_path, "off", method, task=task, epochs=3, cache_frozen_prefix="off")
    on = _run(demo_data, tmp_path, "on", method, task=task, epochs=3, cache_frozen_prefix="on")
    s_off, s_on = _summary(off), _summary(on)
    assert s_off["prefix_cache_bytes"] == 0 and s_on["prefix_cache_bytes"] > 0
    for split, metrics in s_off["metrics"].items():
        for key, value in metrics.items():
            assert s_on["metrics"][split][key] == pytest.approx(value, abs=1e-9), (split, key)


def test_cache_on_needs_a_frozen_prefix(demo_data, tmp_path):
    with pytest.raises(ConfigError, match="leaves no lower layers frozen"):
        _run(demo_data, tmp_path, "x", "lora", epochs=1, cache_frozen_prefix="on")


def test_merge_cli_writes_a_plain_model_with_the_same_predictions(demo_data, tmp_path):
    run = _run(demo_data, tmp_path, "lora", {"name": "lora", "r": 4}, epochs=1)
    result = CliRunner().invoke(app, ["merge", str(run.path), "--out", str(tmp_path / "merged")])
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "merged" / "tuneforge.json").read_text())
    assert meta["method"] == {"name": "full"} and meta["merged_from"]["name"] == "lora"
    assert (tmp_path / "merged" / "config.json").is_file()
    texts = ["my card is lost", "hello there", "refund my order please"]
    a = tuneforge.load(run.path).predict_proba(texts)
    b = tuneforge.load(tmp_path / "merged").predict_proba(texts)
    np.testing.assert_allclose(a, b, atol=1e-5)

    adapter = _run(demo_data, tmp_path, "adapter", "adapter", epochs=1)
    proc = subprocess.run(
        [sys.executable, "-m", "tuneforge.cli", "merge", str(adapter.path), "--out", str(tmp_path / "m2")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "cannot be folded" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "m2").exists()


@pytest.mark.parametrize("method", [{"name": "lora", "r": 4}, "adapter", "bitfit", "prompt"], ids=str)
def test_adapter_set_switches_and_matches_each_run(demo_data, tmp_path, method):
    a = _run(demo_data, tmp_path, "a", method, epochs=1, seed=1)
    b = _run(demo_data, tmp_path, "b", method, epochs=1, seed=2)
    texts = ["my card is lost", "hello there", "refund my order please", "where is my parcel"]
    alone = {n: tuneforge.load(r.path).predict_proba(texts) for n, r in (("a", a), ("b", b))}
    assert not np.allclose(alone["a"], alone["b"]), "different seeds give different adapters"
    aset = tuneforge.load_adapters({"a": a.path, "b": b.path})
    for name in ["a", "b", "a", "b"]:  # switching back and forth
        np.testing.assert_allclose(aset.predict_proba(texts, adapter=name), alone[name], atol=1e-5)
    together = aset.predict_proba_all(texts)
    assert set(together) == {"a", "b"}
    np.testing.assert_allclose(together["b"], alone["b"], atol=1e-5)
    with pytest.raises(ConfigError, match="no adapter named"):
        aset.predict(texts, adapter="c")


def test_adapter_set_mixes_tasks_and_refuses_other_backbones(demo_data, tmp_path):
    intent = _run(demo_data, tmp_path, "intent", {"name": "lora", "r": 4}, epochs=1)
    ner = _run(demo_data, tmp_path, "ner", {"name": "lora", "r": 4}, task="ner", epochs=1)
    aset = tuneforge.load_adapters([intent.path, ner.path])
    assert aset.names == ["intent", "ner"]
    assert aset.predict(["Anna flew to Paris"], adapter="ner")[0].entities is not None
    assert aset.predict(["hello there"], adapter="intent")[0].label
    full = _run(demo_data, tmp_path, "full", "full", epochs=1)
    with pytest.raises(ConfigError):
        tuneforge.load_adapters([intent.path, full.path])
    result = CliRunner().invoke(
        app, ["predict", str(intent.path), "-", "--also", str(ner.path)], input="hello Paris\n"
    )
    assert result.exit_code == 0, result.output
    row = json.loads(result.output.strip().splitlines()[-1])
    assert set(row) == {"text", "intent", "ner"}
