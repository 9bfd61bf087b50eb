"""Trackers record metrics as training goes: ``metrics.jsonl`` always, TensorBoard event files by default."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class JsonlTracker:
    """One JSON object a line; on resume, lines past the restored step are dropped first."""

    def __init__(self, path: Path, resume_step: int | None = None) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if resume_step is not None and path.exists():
            keep = [
                ln
                for ln in path.read_text(encoding="utf-8").splitlines()
                if ln.strip() and json.loads(ln).get("step", 0) <= resume_step
            ]
            path.write_text("".join(ln + "\n" for ln in keep), encoding="utf-8")
        elif resume_step is None:
            path.write_text("", encoding="utf-8")
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115

    def log(self, record: dict[str, Any]) -> None:
        self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


class TensorBoardTracker:
    """Scalars under ``<split>/<name>`` in TensorBoard event files."""

    def __init__(self, folder: Path, resume_step: int | None = None) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(folder), purge_step=resume_step)

    def log(self, record: dict[str, Any]) -> None:
        step = int(record.get("step", 0))
        split = record.get("split", "train")
        for key, value in record.items():
            if key not in ("step", "split", "epoch") and isinstance(value, int | float):
                self.writer.add_scalar(f"{split}/{key}", value, step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class Trackers:
    def __init__(self, run_dir: Path, kinds: list[str], resume_step: int | None = None) -> None:
        self.items: list[Any] = [JsonlTracker(run_dir / "metrics.jsonl", resume_step)]
        if "tensorboard" in kinds:
            self.items.append(TensorBoardTracker(run_dir / "tensorboard", resume_step))

    def log(self, record: dict[str, Any]) -> None:
        for t in self.items:
            t.log(record)

    def close(self) -> None:
        for t in self.items:
            t.close()
