"""`tuneforge tune` end to end: a study killed (SIGKILL) after its first finished trial continues
where it stopped when the same command runs again; bad input exits 2 without a traceback."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import yaml

from tests.conftest import tiny_recipe

CLI = [sys.executable, "-m", "tuneforge.cli"]


def _states(db) -> dict[int, tuple[str, float | None]]:
    """trial number -> (state, value), read straight from the SQLite study."""
    if not db.is_file():
        return {}
    try:
        with sqlite3.connect(db, timeout=5) as con:
            rows = con.execute(
                "SELECT t.number, t.state, v.value FROM trials t "
                "LEFT JOIN trial_values v ON v.trial_id = t.trial_id"
            ).fetchall()
    except sqlite3.OperationalError:  # tables not created yet, or locked for a moment
        return {}
    return {n: (s, v) for n, s, v in rows}


def _killable(states) -> bool:
    """A trial finished and the next one is running: the moment to kill the process."""
    found = {s for s, _ in states.values()}
    return {"COMPLETE", "RUNNING"} <= found


def _write_recipe(demo_data, tmp_path):
    recipe = tiny_recipe(demo_data, "classification", tmp_path / "run", epochs=2)
    recipe["tune"] = {"space": {"train.lr": {"type": "float", "low": 1e-4, "high": 3e-3, "log": True}}}
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def test_a_killed_study_resumes(demo_data, tmp_path):
    recipe, out = _write_recipe(demo_data, tmp_path), tmp_path / "study"
    cmd = [*CLI, "tune", str(recipe), "--trials", "3", "--out", str(out), "--pruner", "none"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    try:
        while not _killable(_states(out / "study.db")):
            assert proc.poll() is None, f"tune ended early: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "no trial finished in 300 s"
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    before = _states(out / "study.db")
    complete = {n: v for n, (s, v) in before.items() if s == "COMPLETE"}
    assert 1 <= len(complete) < 3, before
    stamps = {n: (out / "trials" / f"trial-{n:04d}" / "run.json").stat().st_mtime_ns for n in complete}

    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    after = _states(out / "study.db")
    assert sum(s == "COMPLETE" for s, _ in after.values()) == 3
    for n, value in complete.items():  # finished trials are kept as they were, not redone
        assert after[n] == ("COMPLETE", value)
        assert (out / "trials" / f"trial-{n:04d}" / "run.json").stat().st_mtime_ns == stamps[n]
    interrupted = [n for n, (s, _) in before.items() if s == "RUNNING"]
    assert interrupted and all(after[n][0] == "FAIL" for n in interrupted)  # and queued again:
    assert "interrupted trial(s)" in again.stderr and len(after) == 3 + len(interrupted)
    assert "best: trial" in again.stdout and "tuneforge run" in again.stdout
    assert (out / "best_recipe.yaml").is_file() and (out / "tuning.md").is_file()


def test_bad_input_exits_2_without_a_traceback(demo_data, tmp_path):
    recipe = _write_recipe(demo_data, tmp_path)
    data = yaml.safe_load(recipe.read_text())
    data["tune"]["space"]["train.lrr"] = data["tune"]["space"].pop("train.lr")
    typo = tmp_path / "typo.yaml"
    typo.write_text(yaml.safe_dump(data))
    for args, expected in [
        ([typo], "Did you mean 'train.lr'?"),
        ([recipe, "--timeout", "soon"], "write it like 90s, 20m or 1h30m"),
    ]:
        proc = subprocess.run(
            [*CLI, "tune", *map(str, args), "--out", str(tmp_path / "s")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert expected in " ".join(proc.stderr.split()), proc.stderr
    assert not (tmp_path / "s").exists()  # nothing is started for bad input
