"""tuneforge: fine-tune a pretrained language model on your own labelled data, measured and deployable.

import tuneforge
run = tuneforge.run("recipe.yaml")                 # -> RunDir
model = tuneforge.load(run.path)                   # -> Predictor
model.predict(["where is my card?"])               # -> [Prediction(label=..., probabilities=...)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .adapter_set import AdapterSet
    from .ensemble.base import Ensemble
    from .predictor import Predictor
    from .rundir import RunDir


def run(
    recipe: Any,
    overrides: list[str] | None = None,
    *,
    resume: bool = False,
    force: bool = False,
    quiet: bool = False,
) -> RunDir:
    """Fine-tune as a recipe (path, dict or ``Recipe``) says; returns the finished run directory."""
    from .config import as_recipe
    from .pipeline import run as _run

    return _run(as_recipe(recipe, overrides), resume=resume, force=force, quiet=quiet)


def load(path: Any, device: str = "auto") -> Predictor | Ensemble:
    """Load a finished run (or its ``model/`` folder, or an exported folder) for prediction and
    evaluation; an ensemble directory loads as its ensemble (the same ``predict`` and ``evaluate``)."""
    from .ensemble.saved import is_ensemble_dir
    from .predictor import Predictor

    if is_ensemble_dir(path):
        return load_ensemble(path)
    return Predictor(path, device)


def load_adapters(runs: Any, device: str = "auto") -> AdapterSet:
    """Several runs on one backbone in one process (a list of runs, or a mapping name -> run)."""
    from .adapter_set import AdapterSet

    return AdapterSet(runs, device)


def load_ensemble(path: Any) -> Any:
    """A saved ensemble directory (``ensemble.json``) with ``predict``, ``predict_proba``, ``evaluate``."""
    from .ensemble import load_ensemble as _load

    return _load(path)


def train_ensemble(recipe: Any, overrides: list[str] | None = None, *, quiet: bool = False) -> Any:
    """Train the ensemble a recipe's ``ensemble:`` section describes; returns its directory."""
    from .ensemble.build import train_ensemble as _train

    return _train(recipe, overrides, quiet=quiet)


def select_models(recipe: Any, overrides: list[str] | None = None, **options: Any) -> Any:
    """Rank (backbone x method) candidates on the recipe's data within ``budget`` (``tuneforge select``);
    returns the ``Selection`` (pick, rows, folder with ``selection.md/json`` and ``best_recipe.yaml``)."""
    from .select.selection import select as _select

    return _select(recipe, overrides, **options)


def tune(recipe: Any, overrides: list[str] | None = None, **options: Any) -> Any:
    """Hyper-parameter search with Optuna (or Ray Tune) as ``tuneforge tune``; returns the ``TuneResult``."""
    from .select.tune import tune as _tune

    return _tune(recipe, overrides, **options)


def export_model(run: Any, format: str, out: Any, **options: Any) -> Any:
    """Export a run as ``hf``, ``merged``, ``onnx`` or ``onnx-int8`` to ``out``, after a parity check on
    held-out examples (returns the ``Parity`` figures; raises if they fall below the limits)."""
    from pathlib import Path

    from .export.exporter import export_run
    from .predictor import model_dir_of

    return export_run(model_dir_of(run), format, Path(out), **options)


def merge(run: Any, out: Any, **options: Any) -> Any:
    """Fold a run's method weights into a plain full model folder at ``out`` (parity-checked)."""
    return export_model(run, "merged", out, **options)


__all__ = [
    "__version__",
    "export_model",
    "load",
    "load_adapters",
    "load_ensemble",
    "merge",
    "run",
    "select_models",
    "train_ensemble",
    "tune",
]
