"""``tune(recipe)``: hyper-parameter search with Optuna (TPE sampler; median or successive-halving
pruning on the per-epoch validation metric), resumable from SQLite.

The study lives in ``OUT/study.db``; each trial is a normal run in ``OUT/trials/trial-NNNN/``. Running
the same command again continues the study: finished trials (complete or pruned) count toward
``trials`` and are never redone; a trial that was running when the process died is marked FAIL and
its parameters are queued again. A lock file keeps two processes from driving one study."""

from __future__ import annotations

import json
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console

from ..config import Recipe, SpaceParam, TuneConfig, as_recipe
from ..errors import ConfigError, TuneforgeError
from .candidates import parse_duration as duration_seconds
from .space import baseline, resolve_space, suggest
from .trial import evaluation_unit, run_trial, tidy_trial, tune_metric
from .tune_report import TuneResult, importances, optuna_rows, write_best_recipe, write_reports

STUDY_DB = "study.db"
LOCK = ".study.lock"
PRUNERS = ("median", "halving", "none")
BACKENDS = ("optuna", "ray")
MAX_FAILURES = 3  # trials failing in a row (bad value combinations) before the search gives up


def parse_duration(value: str | float | int | None) -> float | None:
    """Seconds from ``90``, ``90s``, ``30m``, ``1h30m``; None stays None."""
    return None if value is None else duration_seconds(value, what="timeout")


def _fingerprint(recipe: Recipe, space: dict[str, SpaceParam], metric: str) -> str:
    """What must not change between the sessions of one study: the recipe (without its tune section
    and output), the space and the metric."""
    data = recipe.resolved()
    data.pop("tune", None)
    data.pop("output", None)
    data["train"].pop("threads", None)  # more or fewer threads: the same search
    spec = {"recipe": data, "space": {k: v.model_dump() for k, v in space.items()}, "metric": metric}
    return json.dumps(spec, sort_keys=True)


@contextmanager
def study_lock(out: Path):
    """An exclusive lock on the study folder for this process (released when it dies)."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock; do not run two searches on one folder
        yield
        return
    out.mkdir(parents=True, exist_ok=True)
    with open(out / LOCK, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ConfigError(
                f"another `tuneforge tune` is running the study in {out}; wait for it or use another --out"
            ) from None
        yield


def _check_out(out: Path, resume: bool) -> None:
    has_study = (out / STUDY_DB).is_file()
    if out.exists() and any(p.name != LOCK for p in out.iterdir()) and not has_study:
        raise ConfigError(f"{out} is not empty and holds no study ({STUDY_DB}); choose another --out")
    if has_study and not resume:
        raise ConfigError(
            f"{out} already holds a study; continue it (leave out --no-resume) or use another --out"
        )


def make_pruner(name: str, unit_steps: int) -> Any:
    """Optuna pruner; ``unit_steps`` is one evaluation in reported steps (1 epoch, or eval_steps)."""
    import optuna

    if name == "median":  # from the second evaluation on, below the median of earlier trials: pruned
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2 * unit_steps)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=2 * unit_steps, reduction_factor=3)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ConfigError(f"unknown pruner {name!r}; choose one of {', '.join(PRUNERS)}")


def open_study(out: Path, name: str, fingerprint: str, pruner: Any, seed: int, startup: int) -> Any:
    """Create or load the SQLite study; a loaded one must have been made for the same search."""
    import optuna

    storage = f"sqlite:///{(out / STUDY_DB).resolve()}"
    name = next(iter(optuna.get_all_study_names(storage)), name)  # a folder holds one study
    probe = optuna.create_study(storage=storage, study_name=name, direction="maximize", load_if_exists=True)
    made_for = probe.user_attrs.get("fingerprint")
    if made_for is None:
        probe.set_user_attr("fingerprint", fingerprint)
    elif made_for != fingerprint:
        raise ConfigError(
            f"the study in {out} was made for another recipe, search space or metric; "
            "continue it with the same recipe, or use another --out"
        )
    # a sampler seeded anew in every session would repeat the first session's random trials
    sampler = optuna.samplers.TPESampler(seed=seed + len(probe.trials), n_startup_trials=startup)
    return optuna.load_study(storage=storage, study_name=name, sampler=sampler, pruner=pruner)


def recover(study: Any, out: Path) -> list[int]:
    """Trials left RUNNING by a killed process: marked FAIL, their parameters queued again."""
    from optuna.trial import TrialState

    lost = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for t in lost:
        study.tell(t.number, state=TrialState.FAIL)
        study.enqueue_trial(t.params, user_attrs={"retry_of": t.number})
        shutil.rmtree(out / "trials" / f"trial-{t.number:04d}", ignore_errors=True)
    return [t.number for t in lost]


def _finished(study: Any) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


def _best_number(study: Any) -> int | None:
    try:
        return study.best_trial.number
    except ValueError:  # no complete trial yet
        return None


def run_one(study: Any, recipe: Recipe, space: dict[str, SpaceParam], metric: str, out: Path) -> Any:
    """Ask for a trial, train it, tell the result; returns the finished ``FrozenTrial``."""
    import optuna
    from optuna.trial import TrialState

    trial = study.ask()
    run_dir = out / "trials" / f"trial-{trial.number:04d}"
    params = suggest(trial, space)
    trial.set_user_attr("run", str(run_dir))
    best_before = _best_number(study)

    def report(step: int, value: float) -> None:
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned at {evaluation_unit(recipe)} {step}: {metric}={value:.4f}")

    try:
        value = run_trial(recipe, params, run_dir, metric, report)
    except optuna.TrialPruned:
        study.tell(trial, state=TrialState.PRUNED)
    except TuneforgeError as err:
        trial.set_user_attr("error", str(err))
        study.tell(trial, state=TrialState.FAIL)
    except BaseException as err:  # Ctrl-C or a bug: this trial is lost, the study is not
        trial.set_user_attr("error", f"{type(err).__name__}: {err}")
        study.tell(trial, state=TrialState.FAIL)
        study.enqueue_trial(params, user_attrs={"retry_of": trial.number})
        raise
    else:
        study.tell(trial, value)
    is_best = _best_number(study) == trial.number
    tidy_trial(run_dir, keep_model=is_best)
    if is_best and best_before is not None:
        tidy_trial(out / "trials" / f"trial-{best_before:04d}", keep_model=False)
    return study.trials[trial.number]


def _say(console: Console | None, t: Any, metric: str, total: int, done: int) -> None:
    if console is None:
        return
    value = "" if t.value is None else f" {metric}={t.value:.4f}"
    shown = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in t.params.items())
    error = f" ({t.user_attrs['error']})" if "error" in t.user_attrs else ""
    console.print(
        f"[{done}/{total}] trial {t.number} {t.state.name.lower()}{value}: {shown}{error}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def tune(
    recipe: Recipe | str | Path | dict,
    overrides: list[str] | None = None,
    *,
    trials: int | None = None,
    out: str | Path | None = None,
    pruner: str | None = None,
    timeout: str | float | None = None,
    backend: str = "optuna",
    resume: bool = True,
    quiet: bool = False,
) -> TuneResult:
    """Search the recipe's ``tune.space`` (or its method's default space) for the best validation
    metric. ``trials``/``pruner`` default to the recipe's ``tune:`` section; ``out`` to
    ``tune.output`` or ``<output>-tune``; ``timeout`` (seconds or ``30m``) stops starting new trials.
    See docs/tuning.md."""
    recipe = as_recipe(recipe, overrides)
    settings = recipe.tune or TuneConfig()
    trials = trials or settings.trials
    pruner_name = pruner or settings.pruner
    if pruner_name not in PRUNERS:
        raise ConfigError(f"unknown pruner {pruner_name!r}; choose one of {', '.join(PRUNERS)}")
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    metric = tune_metric(recipe)
    space = resolve_space(recipe)
    seconds = parse_duration(timeout)
    out = Path(out or settings.output or f"{recipe.output}-tune")
    console = None if quiet else Console(stderr=True)
    if backend == "ray":
        from .ray_tune import tune_with_ray

        return tune_with_ray(recipe, space, metric, out, trials, pruner_name, seconds, resume, console)
    _check_out(out, resume)
    with study_lock(out):
        return _optuna_search(recipe, space, metric, out, trials, pruner_name, seconds, console)


def _optuna_search(
    recipe: Recipe,
    space: dict[str, SpaceParam],
    metric: str,
    out: Path,
    trials: int,
    pruner_name: str,
    seconds: float | None,
    console: Console | None,
) -> TuneResult:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = time.perf_counter()
    settings = recipe.tune or TuneConfig()
    unit_steps = recipe.train.eval_steps or 1
    name = f"{Path(recipe.output).name}-{recipe.method.name}"
    seed = recipe.train.seed if settings.seed is None else settings.seed
    study = open_study(
        out, name, _fingerprint(recipe, space, metric), make_pruner(pruner_name, unit_steps),
        seed, settings.startup_trials,
    )  # fmt: skip
    lost = recover(study, out)
    start = baseline(recipe, space) if settings.baseline and not study.trials else None
    if start is not None:  # the recipe as it is, first: the search cannot end below it
        study.enqueue_trial(start, user_attrs={"baseline": True})
    if lost and console:
        console.print(f"resuming: interrupted trial(s) {', '.join(map(str, lost))} run again", soft_wrap=True)
    failures = 0
    while (done := _finished(study)) < trials:
        if seconds is not None and time.perf_counter() - started >= seconds:
            if console:
                console.print(f"timeout reached after {done} of {trials} finished trials")
            break
        t = run_one(study, recipe, space, metric, out)
        failures = failures + 1 if t.state.name == "FAIL" else 0
        _say(console, t, metric, trials, _finished(study))
        finish_optuna(study, recipe, metric, out, time.perf_counter() - started, importance=False)
        if failures >= MAX_FAILURES:
            raise ConfigError(
                f"{failures} trials in a row failed; the last one: {t.user_attrs.get('error')}. "
                f"See {out / 'tuning.md'} and fix the recipe or tune.space"
            )
    return finish_optuna(study, recipe, metric, out, time.perf_counter() - started)


def finish_optuna(
    study: Any, recipe: Recipe, metric: str, out: Path, seconds: float, importance: bool = True
) -> TuneResult:
    """Write tuning.json/md and best_recipe.yaml for the study as it stands (after every trial, so
    the folder always shows the study; the importances only at the end)."""
    best = _best_number(study)
    best_trial = study.trials[best] if best is not None else None
    result = TuneResult(
        study_name=study.study_name,
        out=out,
        backend="optuna",
        metric=metric,
        best_value=best_trial.value if best_trial else None,
        best_params=dict(best_trial.params) if best_trial else {},
        best_trial=best,
        best_recipe=None,
        best_run=Path(best_trial.user_attrs["run"]) if best_trial else None,
        trials=optuna_rows(study),
        seconds=round(seconds, 1),
        importances=importances(study) if importance else {},
    )
    result.best_recipe = write_best_recipe(recipe, result)
    write_reports(result)
    return result
