"""The ensemble report: every member, the ensemble and the distilled student side by side on one
labelled split, with how often the members disagree."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..io import atomic_write_json, atomic_write_text
from ..types import Example, Prediction
from .base import Ensemble, Probas, repair_argmax, score
from .distill import transfer_summary
from .loglinear import LogLinearPool
from .member import Member
from .ner import tags_to_prediction


def member_predictions(
    task: str, probs: Any, examples: Sequence[Example], labels: Sequence[str], threshold: float = 0.5
) -> list[Prediction]:
    """What one member predicts alone (its own decoding)."""
    if task == "ner":
        return [
            tags_to_prediction(repair_argmax(p, labels), ex) for p, ex in zip(probs, examples, strict=True)
        ]
    if task == "multilabel":
        return [
            Prediction(label=[lab for lab, v in zip(labels, row, strict=True) if v >= threshold])
            for row in probs
        ]
    return [Prediction(label=labels[int(row.argmax())]) for row in probs]


def disagreement(
    task: str, probas: Probas, labels: Sequence[str], threshold: float = 0.5
) -> dict[str, float]:
    """``any``: share of examples on which not all members agree; ``pairwise``: mean over member pairs
    of the share of examples on which the two differ (NER: the whole tag sequence; multi-label: the
    whole label set)."""
    if task == "ner":
        outs = [[tuple(repair_argmax(p, labels)) for p in member] for member in probas]
    elif task == "multilabel":
        outs = [[tuple(np.flatnonzero(row >= threshold)) for row in p] for p in probas]
    else:
        outs = [list(p.argmax(1)) for p in probas]
    n = len(outs[0]) if outs else 0
    if n == 0 or len(outs) < 2:
        return {"any": 0.0, "pairwise": 0.0}
    any_rate = float(np.mean([len({o[i] for o in outs}) > 1 for i in range(n)]))
    pairs = [np.mean([a[i] != b[i] for i in range(n)]) for a, b in itertools.combinations(outs, 2)]
    return {"any": round(any_rate, 6), "pairwise": round(float(np.mean(pairs)), 6)}


def ensemble_report(
    ensemble: Ensemble, examples: Sequence[Example], student: Member | None = None, batch_size: int = 64
) -> dict[str, Any]:
    probas = ensemble.member_probas(examples, batch_size)
    labels = ensemble.labels
    thr = ensemble.threshold
    rows = []
    for member, probs in zip(ensemble.members, probas, strict=True):
        res = score(
            ensemble.task, examples, member_predictions(ensemble.task, probs, examples, labels, thr), labels
        )
        rows.append({"name": member.name, "kind": "member", "metrics": res.metrics})
    res = score(ensemble.task, examples, ensemble.predictions_from(probas, examples), labels)
    rows.append({"name": ensemble.strategy, "kind": "ensemble", "metrics": res.metrics})
    if student is not None:
        bare = [replace(e, label=None, tags=None) for e in examples]  # Predictor.predict takes inputs only
        res = score(ensemble.task, examples, student._require().predict(bare, batch_size), student.labels)
        rows.append({"name": student.name, "kind": "student", "metrics": res.metrics})
    return {
        "task": ensemble.task,
        "strategy": ensemble.strategy,
        "examples": len(examples),
        "weights": _member_weights(ensemble),
        "disagreement": disagreement(ensemble.task, probas, labels, thr),
        "rows": rows,
        "student_transfer": transfer_summary(student),
    }


def _member_weights(ensemble: Ensemble) -> list[float] | None:
    """Each member's say: the voting / bagging / boosting weights, the log-linear pool's weights; a
    stacking ensemble's logistic meta-learner has no single weight per member (None)."""
    meta = getattr(ensemble, "meta_", None)
    if isinstance(meta, LogLinearPool):
        weights = meta.coef_
    elif meta is not None or ensemble.weights_ is None:
        return None
    else:
        weights = ensemble.weights_
    return [round(float(w), 6) for w in weights]


def render_markdown(report: dict[str, Any], title: str = "Ensemble report") -> str:
    metrics = list(report["rows"][0]["metrics"]) if report["rows"] else []
    lines = [
        f"# {title}",
        "",
        f"strategy: {report['strategy']}; task: {report['task']}; {report['examples']} examples",
        "",
    ]
    lines += ["| model | kind | " + " | ".join(metrics) + " |", "|:---|:---|" + "---:|" * len(metrics)]
    for row in report["rows"]:
        cells = " | ".join(f"{row['metrics'][m]:.4f}" for m in metrics)
        lines.append(f"| {row['name']} | {row['kind']} | {cells} |")
    d = report["disagreement"]
    lines += [
        "",
        f"Members disagree on {100 * d['any']:.2f}% of the examples (mean pairwise disagreement "
        f"{100 * d['pairwise']:.2f}%).",
    ]
    if report.get("weights") is not None:
        lines.append(f"Member weights: {', '.join(f'{w:.4g}' for w in report['weights'])}.")
    t = report.get("student_transfer")
    if t:
        lines.append(
            f"The student also learnt the ensemble's soft labels on {t['examples']} unlabelled transfer "
            f"texts ({t['dropped_in_splits']} dropped as texts of its splits, {t['dropped_duplicate']} as "
            "repeats)."
        )
    return "\n".join(lines) + "\n"


def write_ensemble_report(report: dict[str, Any], out: str | Path, title: str = "Ensemble report") -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "ensemble_report.json", report)
    atomic_write_text(out / "ensemble_report.md", render_markdown(report, title))
    return out / "ensemble_report.md"
