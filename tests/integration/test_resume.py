"""A run killed with SIGKILL at a random point and resumed ends with the same metrics as an
uninterrupted run; the same seed gives the same metrics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import yaml

from tests.conftest import tiny_recipe


def _recipe(demo_data, tmp_path, name):
    recipe = tiny_recipe(
        demo_data, "classification", tmp_path / name, epochs=3, checkpoint_steps=2, batch_size=8
    )
    recipe["model"] = {"hidden_dropout": 0.1}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def _metrics(run_dir):
    return json.loads((run_dir / "run.json").read_text())["metrics"]


def _run(path, *extra):
    subprocess.run(
        [sys.executable, "-m", "tuneforge.cli", "run", str(path), "--quiet", *extra],
        check=True,
        capture_output=True,
        timeout=600,
    )


def test_sigkill_then_resume_matches_uninterrupted(demo_data, tmp_path):
    straight = _recipe(demo_data, tmp_path, "straight")
    _run(straight)
    expected = _metrics(tmp_path / "straight")

    again = _recipe(demo_data, tmp_path, "again")
    _run(again)
    assert _metrics(tmp_path / "again") == expected, "same seed, same metrics"

    killed = _recipe(demo_data, tmp_path, "killed")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tuneforge.cli", "run", str(killed), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    state = tmp_path / "killed" / "checkpoints" / "last.json"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:  # wait for a mid-epoch checkpoint of epoch 2
        if state.is_file():
            loop = json.loads(state.read_text())
            if loop["epoch"] >= 1 and loop["batch"] > 0:
                break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed" / "run.json").exists(), "killed before the end"
    _run(killed, "--resume")
    assert _metrics(tmp_path / "killed") == expected


def test_killed_three_times_at_random_points_still_matches(demo_data, tmp_path):
    """SIGKILL at three random moments (checkpoint writes included), resuming after each."""
    import random

    straight = _recipe(demo_data, tmp_path, "straight")
    _run(straight)
    expected = _metrics(tmp_path / "straight")
    rng = random.Random(7)
    path = _recipe(demo_data, tmp_path, "chaos")
    state = tmp_path / "chaos" / "checkpoints" / "last.json"
    kills = 0
    for attempt in range(3):
        extra = ["--resume"] if state.is_file() else []
        if attempt and not extra:
            extra = ["--force"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "tuneforge.cli", "run", str(path), "--quiet", *extra],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        start_step = json.loads(state.read_text())["step"] if state.is_file() else 0
        target = start_step + rng.randint(1, 12)
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            if state.is_file() and json.loads(state.read_text())["step"] >= target:
                time.sleep(rng.uniform(0.0, 0.3))  # anywhere, a checkpoint write included
                break
            time.sleep(0.01)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 2, "the run must really be interrupted"
    _run(path, "--resume") if state.is_file() else _run(path, "--force")
    assert _metrics(tmp_path / "chaos") == expected
