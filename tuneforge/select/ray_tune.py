"""``tune(..., backend="ray")``: the same search on a Ray cluster through Ray Tune.

The trials are the same as with Optuna (``trial.run_trial``: one normal run per trial, every
validation reported with ``ray.tune.report``); the sampler is Optuna's TPE inside Ray's
``OptunaSearch``; pruning is Ray's ASHA scheduler on the reported evaluations. Ray is imported only
here. ``ray.init()`` joins the cluster named by ``RAY_ADDRESS`` or starts a local one; a cluster of
several machines needs the study folder on a file system they all share. The experiment is
``OUT/ray``: running the same command again restores it (``Tuner.restore``) and finishes what is left."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console

from ..config import Recipe, SpaceParam, recipe_from_dict
from ..errors import ConfigError
from .space import baseline, suggest
from .trial import run_trial, tidy_trial
from .tune_report import TuneResult, write_best_recipe, write_reports

EXPERIMENT = "ray"


def _import_ray() -> Any:
    try:
        import ray
        from ray import tune as ray_tune
    except ImportError:
        raise ConfigError(
            "backend=ray needs Ray Tune, which is not installed: pip install 'tuneforge[ray]' "
            "(or use the default backend, optuna)"
        ) from None
    return ray, ray_tune


def _absolute(recipe: Recipe) -> dict[str, Any]:
    """The recipe as a dict with absolute data paths: Ray runs each trial in its own working folder."""
    data = recipe.resolved()
    for key in ("train", "validation", "test", "splits_file"):
        if data["data"].get(key):
            data["data"][key] = str(Path(data["data"][key]).resolve())
    if Path(data["backbone"]).exists():
        data["backbone"] = str(Path(data["backbone"]).resolve())
    return data


def _trainable(config: dict[str, Any], recipe_data: dict[str, Any], metric: str, out: str) -> None:
    """One Ray Tune trial (a function trainable; runs in a Ray worker process)."""
    from ray import tune as ray_tune

    trial_id = ray_tune.get_context().get_trial_id()
    run_dir = Path(out) / "trials" / f"ray-{trial_id}"

    def report(step: int, value: float) -> None:
        ray_tune.report({metric: value, "step": step})

    run_trial(recipe_from_dict(recipe_data), config, run_dir, metric, report)
    tidy_trial(run_dir, keep_model=True)  # the driver drops the models of all but the best


def _define_by_run(trial: Any, space: dict[str, SpaceParam]) -> None:
    """OptunaSearch's define-by-run space (module level: Ray pickles the searcher)."""
    suggest(trial, space)


def _tuner(recipe: Recipe, space, metric, out: Path, trials: int, pruner: str, seconds, console) -> Any:
    ray, ray_tune = _import_ray()
    from optuna.samplers import TPESampler
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    threads = recipe.train.threads or 1  # one CPU per trial unless the recipe says otherwise
    data = _absolute(recipe)
    data["train"]["threads"] = threads
    trainable = ray_tune.with_resources(
        ray_tune.with_parameters(_trainable, recipe_data=data, metric=metric, out=str(out.resolve())),
        {"cpu": threads},
    )
    path = out.resolve() / EXPERIMENT
    if ray_tune.Tuner.can_restore(str(path)):
        if console:
            console.print(f"resuming the Ray experiment in {path}")
        return ray_tune.Tuner.restore(str(path), trainable, resume_unfinished=True, resume_errored=True)
    settings = recipe.tune
    seed = recipe.train.seed if settings is None or settings.seed is None else settings.seed
    startup = 5 if settings is None else settings.startup_trials
    sampler = TPESampler(seed=seed, n_startup_trials=startup)
    start = baseline(recipe, space) if settings is None or settings.baseline else None
    searcher = OptunaSearch(
        space=partial(_define_by_run, space=space),
        metric=metric,
        mode="max",
        sampler=sampler,
        points_to_evaluate=[start] if start else None,
    )
    scheduler = None
    if pruner != "none":  # ASHA on the evaluations; the rungs start at the second one
        # max_t must lie beyond the last evaluation: ASHA stops a trial that reaches it, and the run
        # still has to save its model and write its reports after its last evaluation
        max_t = 10**6 if recipe.train.eval_steps else recipe.train.epochs + 1
        scheduler = ASHAScheduler(
            time_attr="training_iteration", max_t=max_t, grace_period=2, reduction_factor=3
        )
    return ray_tune.Tuner(
        trainable,
        tune_config=ray_tune.TuneConfig(
            metric=metric,
            mode="max",
            search_alg=searcher,
            scheduler=scheduler,
            num_samples=trials,
            time_budget_s=seconds,
        ),
        run_config=ray_tune.RunConfig(
            name=EXPERIMENT, storage_path=str(out.resolve()), verbose=0 if console is None else 1
        ),
    )


def _rows(grid: Any, out: Path, metric: str) -> list[dict[str, Any]]:
    rows = []
    for number, res in enumerate(
        sorted(grid, key=lambda r: r.metrics.get("trial_id", "") if r.metrics else "")
    ):
        m = res.metrics or {}
        run_dir = out / "trials" / f"ray-{m.get('trial_id')}"
        summary = run_dir / "run.json"
        state = "FAIL" if res.error else ("COMPLETE" if summary.is_file() else "PRUNED")
        value = m.get(metric)
        if state == "COMPLETE":
            import json

            value = json.loads(summary.read_text(encoding="utf-8"))["metrics"]["validation"][metric]
        rows.append(
            {
                "number": number,
                "state": state,
                "value": value,
                "params": dict(res.config or {}),
                "seconds": round(m["time_total_s"], 1) if "time_total_s" in m else None,
                "last_step": m.get("step"),
                "run": str(run_dir),
                **({"error": str(res.error)} if res.error else {}),
            }
        )
    return rows


def tune_with_ray(
    recipe: Recipe,
    space: dict[str, SpaceParam],
    metric: str,
    out: Path,
    trials: int,
    pruner: str,
    seconds: float | None,
    resume: bool,
    console: Console | None,
) -> TuneResult:
    ray, _ = _import_ray()
    if (out / EXPERIMENT).exists() and not resume:
        raise ConfigError(
            f"{out} already holds a Ray experiment; continue it (leave out --no-resume) or use another --out"
        )
    started = time.perf_counter()
    if not ray.is_initialized():
        ray.init(include_dashboard=False, log_to_driver=console is not None)
    grid = _tuner(recipe, space, metric, out, trials, pruner, seconds, console).fit()
    rows = _rows(grid, out, metric)
    done = [r for r in rows if r["state"] == "COMPLETE"]
    best = max(done, key=lambda r: r["value"]) if done else None
    for r in rows:
        tidy_trial(Path(r["run"]), keep_model=r is best)
    result = TuneResult(
        study_name=EXPERIMENT,
        out=out,
        backend="ray",
        metric=metric,
        best_value=best["value"] if best else None,
        best_params=best["params"] if best else {},
        best_trial=best["number"] if best else None,
        best_recipe=None,
        best_run=Path(best["run"]) if best else None,
        trials=rows,
        seconds=round(time.perf_counter() - started, 1),
    )
    result.best_recipe = write_best_recipe(recipe, result)
    write_reports(result)
    return result
