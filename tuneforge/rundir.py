"""The run directory: everything a finished (or interrupted) run leaves behind, by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import RunError


class RunDir:
    """``recipe.yaml``, ``model/`` (HF format + tokenizer + ``tuneforge.json``), ``checkpoints/``,
    ``metrics.jsonl``, ``tensorboard/``, ``report.md/json``, ``validation_report.md/json``,
    ``splits.json``, ``run.json``, ``manifest.json``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    recipe = property(lambda self: self.path / "recipe.yaml")
    model = property(lambda self: self.path / "model")
    checkpoints = property(lambda self: self.path / "checkpoints")
    metrics = property(lambda self: self.path / "metrics.jsonl")
    summary = property(lambda self: self.path / "run.json")
    splits = property(lambda self: self.path / "splits.json")
    manifest = property(lambda self: self.path / "manifest.json")

    def is_finished(self) -> bool:
        return (self.model / "tuneforge.json").is_file()

    def require_model(self) -> Path:
        if not self.path.is_dir():
            raise RunError(f"run directory {self.path} does not exist")
        if not self.is_finished():
            raise RunError(
                f"{self.path} has no finished model (model/tuneforge.json missing); "
                "finish or resume the run with `tuneforge run RECIPE --resume`"
            )
        return self.model

    def read_summary(self) -> dict[str, Any]:
        return json.loads(self.summary.read_text(encoding="utf-8")) if self.summary.is_file() else {}

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"
