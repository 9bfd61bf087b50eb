"""Training logs: metrics.jsonl lines and real TensorBoard event files, read back with TensorBoard."""

from __future__ import annotations

import json

import tuneforge
from tests.conftest import tiny_recipe


def test_tensorboard_event_files_hold_the_logged_scalars(demo_data, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    recipe = tiny_recipe(demo_data, "classification", tmp_path / "run", epochs=2)
    recipe["track"] = ["jsonl", "tensorboard"]
    run = tuneforge.run(recipe, quiet=True)
    records = [json.loads(x) for x in (run.path / "metrics.jsonl").read_text().splitlines()]
    train_steps = [r["step"] for r in records if r["split"] == "train"]
    assert train_steps == list(range(1, len(train_steps) + 1))
    events = EventAccumulator(str(run.path / "tensorboard"))
    events.Reload()
    tags = events.Tags()["scalars"]
    assert {"train/loss", "train/lr", "validation/accuracy"} <= set(tags)
    assert [e.step for e in events.Scalars("train/loss")] == train_steps
    val = [r["accuracy"] for r in records if r["split"] == "validation"]
    assert [round(e.value, 6) for e in events.Scalars("validation/accuracy")] == [round(v, 6) for v in val]
