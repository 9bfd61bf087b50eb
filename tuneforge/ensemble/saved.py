"""An ensemble directory: ``ensemble.json`` (strategy, task, labels, learnt weights, members and the
student by path relative to the directory) plus the stacking meta-learner (``meta.json`` for logistic
regression and the log-linear pool; ``meta.pkl`` for any other estimator). Reloading gives identical
predictions: the members are loaded from their model folders and combined with the saved state."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RunError
from ..io import atomic_write, atomic_write_json
from .bagging import BaggingEnsemble
from .base import Ensemble
from .boosting import BoostingEnsemble
from .distill import transfer_summary
from .loglinear import LogLinearPool
from .member import Member
from .stacking import PerLabel, StackingEnsemble
from .voting import VotingEnsemble

ENSEMBLE_FILE = "ensemble.json"
STRATEGIES: dict[str, type[Ensemble]] = {
    "voting": VotingEnsemble,
    "bagging": BaggingEnsemble,
    "boosting": BoostingEnsemble,
    "stacking": StackingEnsemble,
}


def is_ensemble_dir(path: str | Path) -> bool:
    return (Path(path) / ENSEMBLE_FILE).is_file()


def _entry(member: Member, out: Path) -> dict[str, str]:
    if member.model_dir_ is None:
        raise RunError(f"member {member.name!r} is not fitted; fit the ensemble before saving it")
    return {"name": member.name, "path": os.path.relpath(member.model_dir_, out)}


def _lr_record(meta: Any) -> dict[str, Any]:
    return {
        "estimator": "sklearn.linear_model.LogisticRegression",
        "params": meta.get_params(),
        "coef": meta.coef_.tolist(),
        "intercept": meta.intercept_.tolist(),
        "classes": meta.classes_.tolist(),
    }


def _lr_from(saved: dict[str, Any]) -> Any:
    from sklearn.linear_model import LogisticRegression

    meta = LogisticRegression(**saved["params"])
    meta.coef_ = np.asarray(saved["coef"], dtype=np.float64)
    meta.intercept_ = np.asarray(saved["intercept"], dtype=np.float64)
    meta.classes_ = np.asarray(saved["classes"])
    meta.n_features_in_ = meta.coef_.shape[1]
    return meta


def _save_meta(meta: Any, out: Path) -> str:
    from sklearn.linear_model import LogisticRegression

    if type(meta) is LogisticRegression:
        atomic_write_json(out / "meta.json", _lr_record(meta))
        return "meta.json"
    if type(meta) is LogLinearPool:
        atomic_write_json(out / "meta.json", meta.to_json())
        return "meta.json"
    if isinstance(meta, PerLabel) and all(
        isinstance(e, float) or type(e) is LogisticRegression for e in meta.estimators_
    ):
        per_label = [e if isinstance(e, float) else _lr_record(e) for e in meta.estimators_]
        atomic_write_json(out / "meta.json", {"estimator": "per-label", "per_label": per_label})
        return "meta.json"
    atomic_write(out / "meta.pkl", lambda tmp: tmp.write_bytes(pickle.dumps(meta)))
    return "meta.pkl"


def _load_meta(path: Path) -> Any:
    if path.suffix == ".pkl":
        return pickle.loads(path.read_bytes())  # written by save_ensemble; load only directories you trust
    saved = json.loads(path.read_text(encoding="utf-8"))
    if saved["estimator"] == "loglinear":
        return LogLinearPool.from_json(saved)
    if saved["estimator"] == "per-label":
        estimators = [e if isinstance(e, float) else _lr_from(e) for e in saved["per_label"]]
        meta = PerLabel(None)  # already fitted: the base estimator is only needed to fit
        meta.estimators_ = estimators
        return meta
    return _lr_from(saved)


def save_ensemble(ensemble: Ensemble, out: str | Path, student: Member | None = None) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {
        "format": 1,
        "strategy": ensemble.strategy,
        "task": ensemble.task,
        "labels": ensemble.labels,
        "share_backbone": ensemble.share_backbone,
        "members": [_entry(m, out) for m in ensemble.members],
        "state": ensemble.state(),
    }
    if isinstance(ensemble, StackingEnsemble):
        record["meta_learner"] = _save_meta(ensemble.meta_, out)
    student = student or ensemble.student_
    if student is not None:
        record["student"] = _entry(student, out)
        summary = transfer_summary(student)
        if summary is not None:
            record["student"]["transfer"] = summary
    atomic_write_json(out / ENSEMBLE_FILE, record)
    return out


def load_ensemble(path: str | Path) -> Ensemble:
    """A saved ensemble, ready to predict; ``.student_`` is its distilled student (or None)."""
    path = Path(path)
    if not is_ensemble_dir(path):
        raise RunError(f"{path} is not an ensemble directory ({ENSEMBLE_FILE} missing)")
    record = json.loads((path / ENSEMBLE_FILE).read_text(encoding="utf-8"))
    cls = STRATEGIES.get(record["strategy"])
    if cls is None:
        raise RunError(f"{path / ENSEMBLE_FILE}: unknown strategy {record['strategy']!r}")
    members = [Member.from_run(path / e["path"], name=e["name"]) for e in record["members"]]
    ensemble = cls.__new__(cls)
    Ensemble.__init__(ensemble, members, share_backbone=record.get("share_backbone", True))
    ensemble.set_state(record["state"])
    if isinstance(ensemble, StackingEnsemble):
        ensemble.meta, ensemble.meta_ = None, _load_meta(path / record["meta_learner"])
    if "student" in record:
        ensemble.student_ = Member.from_run(path / record["student"]["path"], name=record["student"]["name"])
        ensemble.student_.transfer_ = record["student"].get("transfer")  # a summary once reloaded
    return ensemble
