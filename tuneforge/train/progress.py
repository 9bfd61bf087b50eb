"""Progress display: a rich bar with loss, the latest validation metric and the ETA; silent when quiet."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ProgressReporter:
    def __init__(self, quiet: bool = False, console: Console | None = None) -> None:
        self.quiet = quiet
        self.console = console or Console(stderr=True)
        self._progress: Progress | None = None
        self._task: Any = None
        self.metric = "-"

    def start(self, total_steps: int, done_steps: int = 0) -> None:
        if self.quiet:
            return
        self._progress = Progress(
            TextColumn("[bold]train"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("val {task.fields[metric]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(
            "train", total=total_steps, completed=done_steps, loss="-", metric="-"
        )

    def step(self, step: int, loss: float) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=step, loss=f"{loss:.4f}")

    def evaluated(self, name: str, value: float) -> None:
        self.metric = f"{name}={value:.4f}"
        if self._progress is not None:
            self._progress.update(self._task, metric=self.metric)

    def message(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
