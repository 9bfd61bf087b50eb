"""``tuneforge demo``: project-written demo data + a recipe + a run, in one folder."""

from __future__ import annotations

from pathlib import Path

import yaml

from .config import recipe_from_dict
from .data.demo import write_demo
from .errors import ConfigError
from .io import atomic_write_text
from .rundir import RunDir

_TASKS = {"intent": "classification", "ner": "ner", "multilabel": "multilabel"}


def demo_recipe(data: dict[str, Path], task: str, backbone: str, output: Path) -> dict:
    return {
        "task": _TASKS[task],
        "data": {
            "train": str(data["train"]),
            "validation": str(data["validation"]),
            "test": str(data["test"]),
        },
        "backbone": backbone,
        "method": "full",
        "output": str(output),
    }


def run_demo(
    out_dir: str | Path,
    task: str = "intent",
    backbone: str = "minilm-l6",
    overrides: list[str] | None = None,
    quiet: bool = False,
) -> RunDir:
    from .pipeline import run

    if task not in _TASKS:
        raise ConfigError(f"unknown demo task {task!r}; choose one of {', '.join(_TASKS)}")
    out_dir = Path(out_dir)
    data = write_demo(out_dir / "data", task=task)
    recipe_dict = demo_recipe(data, task, backbone, out_dir / "run")
    atomic_write_text(out_dir / "recipe.yaml", yaml.safe_dump(recipe_dict, sort_keys=False))
    recipe = recipe_from_dict(recipe_dict, overrides, source=str(out_dir / "recipe.yaml"))
    return run(recipe, force=True, quiet=quiet)
