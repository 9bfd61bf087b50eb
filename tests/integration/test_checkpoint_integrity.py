"""Checkpoints carry SHA-256 checksums in a manifest; a corrupted checkpoint is detected with a clear
message and the previous good one is used, ending with the same metrics."""

from __future__ import annotations

import json

import pytest

import tuneforge
from tests.conftest import tiny_recipe
from tuneforge.errors import RunError
from tuneforge.track.base import Trackers
from tuneforge.train.checkpoint import MANIFEST, sha256


def _recipe(demo_data, tmp_path, name):
    return tiny_recipe(
        demo_data, "classification", tmp_path / name, epochs=2, batch_size=16, checkpoint_steps=2
    )


def _interrupted(demo_data, tmp_path, monkeypatch, name):
    original = Trackers.log

    def crash(self, record):
        if record.get("split") == "train" and record["step"] == 9:
            raise KeyboardInterrupt
        original(self, record)

    monkeypatch.setattr(Trackers, "log", crash)
    with pytest.raises(KeyboardInterrupt):
        tuneforge.run(_recipe(demo_data, tmp_path, name), quiet=True)
    monkeypatch.setattr(Trackers, "log", original)
    return tmp_path / name / "checkpoints"


def test_manifest_lists_both_generations(demo_data, tmp_path, monkeypatch):
    ckpt = _interrupted(demo_data, tmp_path, monkeypatch, "m")
    manifest = json.loads((ckpt / MANIFEST).read_text())["checkpoints"]
    assert {v["file"] for v in manifest.values()} == {"last.pt", "prev.pt"}
    assert manifest[sha256(ckpt / "last.pt")]["step"] == 8
    assert manifest[sha256(ckpt / "prev.pt")]["step"] == 6


def test_corrupted_last_checkpoint_falls_back_to_the_previous(demo_data, tmp_path, monkeypatch, capsys):
    expected = json.loads(
        (tuneforge.run(_recipe(demo_data, tmp_path, "straight"), quiet=True).path / "run.json").read_text()
    )
    ckpt = _interrupted(demo_data, tmp_path, monkeypatch, "bad")
    data = (ckpt / "last.pt").read_bytes()
    (ckpt / "last.pt").write_bytes(data[: len(data) // 2])  # truncated
    run = tuneforge.run(_recipe(demo_data, tmp_path, "bad"), resume=True, quiet=True)
    assert json.loads((run.path / "run.json").read_text())["metrics"] == expected["metrics"]
    steps = [json.loads(line)["step"] for line in (run.path / "metrics.jsonl").read_text().splitlines()]
    train_steps = [
        s
        for s, line in zip(steps, (run.path / "metrics.jsonl").read_text().splitlines(), strict=True)
        if '"train"' in line
    ]
    assert len(train_steps) == len(set(train_steps)), "no step is logged twice after the fallback"


def test_every_checkpoint_corrupted_is_a_clear_error(demo_data, tmp_path, monkeypatch):
    ckpt = _interrupted(demo_data, tmp_path, monkeypatch, "worse")
    for name in ("last.pt", "prev.pt"):
        raw = bytearray((ckpt / name).read_bytes())
        raw[100] ^= 0xFF  # one flipped byte
        (ckpt / name).write_bytes(bytes(raw))
    with pytest.raises(RunError, match="no usable checkpoint") as err:
        tuneforge.run(_recipe(demo_data, tmp_path, "worse"), resume=True, quiet=True)
    assert "last.pt" in str(err.value) and "prev.pt" in str(err.value) and "--force" in str(err.value)
