"""Shared fixtures: small project-written demo datasets and recipes on the tiny random backbone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"../shared/data/{name} not found: real-dataset tests need the shared data folder")
    return path


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> dict[str, dict[str, Path]]:
    """Small demo splits of every task (session-wide; read-only for tests)."""
    from tuneforge.data.demo import write_demo

    root = tmp_path_factory.mktemp("demo")
    return {
        "classification": write_demo(root / "intent", task="intent", sizes=(240, 60, 60), seed=1),
        "ner": write_demo(root / "ner", task="ner", sizes=(120, 30, 30), seed=1),
        "multilabel": write_demo(root / "multilabel", task="multilabel", sizes=(160, 40, 40), seed=1),
    }


def tiny_recipe(demo_data, task: str, output: Path, **train) -> dict:
    files = demo_data[task]
    return {
        "task": task,
        "data": {
            "train": str(files["train"]),
            "validation": str(files["validation"]),
            "test": str(files["test"]),
        },
        "backbone": "tiny-random",
        "output": str(output),
        "track": ["jsonl"],
        "train": {"epochs": 2, "batch_size": 16, "lr": 1e-3, "threads": 1, **train},
    }
