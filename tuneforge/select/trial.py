"""One trial of a search: the recipe with the sampled values, run by ``pipeline.run`` into its own
folder, each validation passed on to the search (which may end the run by raising), and the trial's
value read back from the finished run: its validation metric (the best evaluation when
``train.select_best`` is on), never the test split. Shared by the Optuna and the Ray backends."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Recipe
from ..errors import ConfigError, did_you_mean
from ..models.tasks import get_task
from ..train.checkpoint import LoopState
from ..train.loop import EvalListener
from .space import apply_params

# report(step, value): the search is told of one validation; it may raise to end the trial
Report = Callable[[int, float], None]


def tune_metric(recipe: Recipe) -> str:
    """The validation metric the search maximises: ``tune.metric``, else the early-stopping one."""
    task = get_task(recipe.task)
    wanted = recipe.tune.metric if recipe.tune else "auto"
    if wanted == "auto":
        wanted = recipe.train.early_stopping.metric
    metric = task.primary_metric if wanted == "auto" else wanted
    if metric not in task.metrics:
        raise ConfigError(
            f"tune.metric {metric!r} is not a {task.name} validation metric; choose one of "
            f"{', '.join(task.metrics)}.{did_you_mean(metric, task.metrics)}"
        )
    return metric


def evaluation_unit(recipe: Recipe) -> str:
    """What the reported steps count: epochs, or optimizer steps when ``train.eval_steps`` is set."""
    return "step" if recipe.train.eval_steps else "epoch"


def make_listener(metric: str, unit: str, select_best: bool, report: Report) -> EvalListener:
    """An ``on_evaluate`` listener that reports each validation once per step. With ``select_best``
    it reports the best value so far: that is what the finished run will keep and be scored by."""
    reported: set[int] = set()
    best: list[float] = []

    def listener(state: LoopState, metrics: dict[str, float]) -> None:
        step = state.step if unit == "step" else state.epoch
        value = float(metrics[metric])
        if select_best and best:
            value = max(value, best[0])
        best[:] = [value]
        if step in reported:  # a train.max_seconds stop can evaluate twice in one epoch
            return
        reported.add(step)
        report(step, value)

    return listener


def run_trial(recipe: Recipe, params: dict[str, Any], run_dir: Path, metric: str, report: Report) -> float:
    """Train the recipe with ``params`` into ``run_dir``; the finished run's validation ``metric``."""
    from ..pipeline import run

    trial_recipe = apply_params(recipe, params, output=str(run_dir))
    listener = make_listener(metric, evaluation_unit(trial_recipe), trial_recipe.train.select_best, report)
    finished = run(trial_recipe, quiet=True, force=True, on_evaluate=listener)
    return float(finished.read_summary()["metrics"]["validation"][metric])


def tidy_trial(run_dir: Path, keep_model: bool) -> None:
    """Free a finished trial's disk: its resumable checkpoints always, its model unless kept (the
    recipe, metrics and reports stay; the best trial keeps its model)."""
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    if not keep_model:
        shutil.rmtree(run_dir / "model", ignore_errors=True)
