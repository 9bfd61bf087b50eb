"""What a search leaves in its folder: ``tuning.json`` and ``tuning.md`` (every trial: number,
state, parameters, value, seconds; the best trial; parameter importances) and ``best_recipe.yaml``
(the whole recipe with the best values, ready for ``tuneforge run``). All written atomically."""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..config import Recipe
from ..io import atomic_write_json, atomic_write_text
from .space import apply_params

BEST_RECIPE = "best_recipe.yaml"


@dataclass
class TuneResult:
    """The outcome of ``tune``: the study, its best trial and every trial as a row."""

    study_name: str
    out: Path
    backend: str
    metric: str
    best_value: float | None
    best_params: dict[str, Any]
    best_trial: int | None
    best_recipe: Path | None
    best_run: Path | None
    trials: list[dict[str, Any]]
    seconds: float
    importances: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("out", "best_recipe", "best_run"):
            d[key] = str(d[key]) if d[key] is not None else None
        return d


def optuna_rows(study: Any) -> list[dict[str, Any]]:
    """One row per trial of an Optuna study (the seconds are the trial's wall time)."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        seconds = None
        if t.datetime_start and t.datetime_complete:
            seconds = round((t.datetime_complete - t.datetime_start).total_seconds(), 1)
        row = {
            "number": t.number,
            "state": t.state.name,
            "value": t.value,
            "params": dict(t.params),
            "seconds": seconds,
            "last_step": t.last_step,
            "run": t.user_attrs.get("run"),
        }
        for key in ("baseline", "retry_of", "error"):
            if key in t.user_attrs:
                row[key] = t.user_attrs[key]
        rows.append(row)
    return rows


def importances(study: Any) -> dict[str, float]:
    """Optuna's parameter importances (its default evaluator, PED-ANOVA in optuna 5: fast) once
    at least four trials are complete; empty when they cannot be computed."""
    import optuna

    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if len(complete) < 4:
        return {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            found = optuna.importance.get_param_importances(study)
        except (RuntimeError, ValueError, ZeroDivisionError):
            return {}
    if any("equal" in str(w.message) for w in caught):  # too few distinct results to tell them apart
        return {}
    return {k: round(float(v), 4) for k, v in found.items()}


def write_best_recipe(recipe: Recipe, result: TuneResult) -> Path | None:
    """``best_recipe.yaml``: the recipe with the best values; its output is ``<study folder>/best``."""
    if result.best_trial is None:
        return None
    best = apply_params(recipe, result.best_params, output=str(result.out / "best"))
    path = result.out / BEST_RECIPE
    head = (
        f"# best of {sum(r['state'] in ('COMPLETE', 'PRUNED') for r in result.trials)} trials "
        f"(trial {result.best_trial}, validation {result.metric}={result.best_value:.4f}); "
        f"train it with: tuneforge run {path}\n"
    )
    atomic_write_text(path, head + yaml.safe_dump(best.resolved(), sort_keys=False, allow_unicode=True))
    return path


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def markdown(result: TuneResult) -> str:
    keys = sorted({k for r in result.trials for k in r["params"]})
    head = ["trial", "state", result.metric, "seconds", *keys]
    lines = [
        f"# Hyper-parameter search: {result.study_name}",
        "",
        f"Backend {result.backend}; {len(result.trials)} trials; validation {result.metric} is maximised "
        f"({result.seconds:.0f} s in this session).",
        "",
    ]
    if result.best_trial is not None:
        shown = ", ".join(f"{k}={_fmt(v)}" for k, v in result.best_params.items())
        lines += [
            f"**Best:** trial {result.best_trial}, {result.metric} = {result.best_value:.4f} ({shown}).",
            f"Best recipe: `{result.best_recipe}`; best run: `{result.best_run}`.",
            "",
        ]
    lines += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in result.trials:
        number = f"{r['number']} (recipe)" if r.get("baseline") else r["number"]
        cells = [number, r["state"], r["value"], r["seconds"], *(r["params"].get(k) for k in keys)]
        lines.append("| " + " | ".join(_fmt(c) for c in cells) + " |")
    if result.importances:
        lines += ["", "Parameter importance (optuna, share of the variation of the metric):", ""]
        lines += [f"- `{k}`: {v:.3f}" for k, v in result.importances.items()]
    if any(r.get("baseline") for r in result.trials):
        lines += ["", "(recipe): the recipe's own values, run first (tune.baseline)."]
    pruned = sum(r["state"] == "PRUNED" for r in result.trials)
    if pruned:
        were = "1 trial was" if pruned == 1 else f"{pruned} trials were"
        lines += ["", f"{were} pruned: the value shown is the last one reported."]
    return "\n".join(lines) + "\n"


def write_reports(result: TuneResult) -> None:
    atomic_write_json(result.out / "tuning.json", result.to_dict())
    atomic_write_text(result.out / "tuning.md", markdown(result))
