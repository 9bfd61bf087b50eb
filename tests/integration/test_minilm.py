"""A few runs on the packaged pretrained MiniLM-L6 (the default backbone), on project-written demo data."""

from __future__ import annotations

import pytest

import tuneforge
from tuneforge.data.demo import write_demo

pytestmark = pytest.mark.slow


def test_default_recipe_on_demo_intents_reaches_useful_accuracy(tmp_path):
    files = write_demo(tmp_path / "data", task="intent", sizes=(600, 120, 240), seed=3)
    recipe = {
        "data": {
            "train": str(files["train"]),
            "validation": str(files["validation"]),
            "test": str(files["test"]),
        },
        "output": str(tmp_path / "run"),
        "train": {"epochs": 2},
    }
    run = tuneforge.run(recipe, quiet=True)
    summary = run.read_summary()
    assert summary["backbone"] == "minilm-l6"
    assert summary["metrics"]["test"]["accuracy"] > 0.75
    model = tuneforge.load(run.path)
    assert model.predict(["I lost my card yesterday"])[0].label in {"card_lost", "card_not_working"}

    # every export format of the real model passes its parity check on the held-out test file
    for fmt in ("merged", "onnx", "onnx-int8"):
        parity = tuneforge.export_model(run.path, fmt, tmp_path / fmt, max_examples=240)
        assert parity.examples == 240
        assert parity.agreement >= (0.98 if fmt == "onnx-int8" else 0.999), (fmt, parity)
        exported = tuneforge.load(tmp_path / fmt)
        assert (
            exported.predict(["I lost my card yesterday"])[0].label
            == model.predict(["I lost my card yesterday"])[0].label
        )


def test_lora_ner_on_demo_data(tmp_path):
    files = write_demo(tmp_path / "data", task="ner", sizes=(300, 60, 60), seed=3)
    recipe = {
        "task": "ner",
        "data": {
            "train": str(files["train"]),
            "validation": str(files["validation"]),
            "test": str(files["test"]),
        },
        "method": {"name": "lora", "r": 8},
        "output": str(tmp_path / "run"),
        "train": {"epochs": 3, "lr": 1e-3},
    }
    run = tuneforge.run(recipe, quiet=True)
    summary = run.read_summary()
    assert summary["parameters"]["trainable_share"] < 0.05
    assert summary["metrics"]["test"]["f1"] > 0.6
    parity = tuneforge.export_model(run.path, "onnx", tmp_path / "onnx")  # merged, then exported
    assert parity.agreement >= 0.999 and parity.span_agreement >= 0.999
