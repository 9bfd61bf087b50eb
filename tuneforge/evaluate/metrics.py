"""Evaluation metrics: single-label and multi-label classification, and entity-level NER (strict IOB2).

Everything is computed with numpy from counts. The numbers follow scikit-learn's
``precision_recall_fscore_support(..., zero_division=0)`` and seqeval's strict IOB2 mode
(``mode="strict", scheme=IOB2, zero_division=0``); the tests check both to 1e-9. All scores are
floats in [0, 1]. Where the references return NaN (a macro average over no classes at all) the
value here is 0.0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from tuneforge.types import EvalResult, Example, Prediction

TASKS = ("classification", "multilabel", "ner")
NO_EXAMPLES = "no examples to evaluate"
AVERAGES = ("micro", "macro", "weighted")


# --------------------------------------------------------------------------- counting helpers


def _divide(num: Any, den: Any) -> np.ndarray:
    """``num / den`` elementwise, 0.0 where ``den == 0`` (scikit-learn's ``zero_division=0``)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _scores(tp: Any, pred: Any, true: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 from true-positive, predicted and true counts."""
    tp, pred, true = (np.asarray(a, dtype=np.int64) for a in (tp, pred, true))
    return _divide(tp, pred), _divide(tp, true), _divide(2 * tp, pred + true)


def _row(precision: Any, recall: Any, f1: Any, support: Any) -> dict[str, Any]:
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1), "support": int(support)}


def _per_class(labels: Sequence[str], tp: Any, pred: Any, true: Any) -> dict[str, dict[str, Any]]:
    p, r, f = _scores(tp, pred, true)
    return {lab: _row(p[k], r[k], f[k], true[k]) for k, lab in enumerate(labels)}


def _averages(tp: Any, pred: Any, true: Any) -> dict[str, dict[str, Any]]:
    """Micro, macro and support-weighted averages over classes (support of each = total true count)."""
    tp, pred, true = (np.asarray(a, dtype=np.int64) for a in (tp, pred, true))
    support = int(true.sum())
    mp, mr, mf = _scores(tp.sum(), pred.sum(), true.sum())
    micro = _row(mp, mr, mf, support)
    if tp.size == 0:
        zero = _row(0.0, 0.0, 0.0, support)
        return {"micro": micro, "macro": zero, "weighted": dict(zero)}
    p, r, f = _scores(tp, pred, true)
    macro = _row(p.mean(), r.mean(), f.mean(), support)
    if support == 0:
        # every per-class recall and F1 is 0 here, and so is precision (no true positives possible)
        weighted = _row(0.0, 0.0, 0.0, support)
    else:
        wp, wr, wf = ((a * true).sum() / support for a in (p, r, f))
        weighted = _row(wp, wr, wf, support)
    return {"micro": micro, "macro": macro, "weighted": weighted}


# --------------------------------------------------------------------------- input checking


def _as_label(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"{where} is a {type(value).__name__}, expected a label string")


def _as_labels(values: Iterable[Any], name: str) -> list[str]:
    if isinstance(values, str):
        raise TypeError(f"{name} must be a sequence of labels, not a string")
    return [_as_label(v, f"{name}[{i}]") for i, v in enumerate(values)]


def _label_list(labels: Iterable[Any]) -> list[str]:
    out = _as_labels(labels, "labels")
    if not out:
        raise ValueError("labels must not be empty")
    dupes = sorted({lab for lab in out if out.count(lab) > 1})
    if dupes:
        raise ValueError(f"duplicate labels: {dupes}")
    return out


def _check_lengths(n_true: int, n_pred: int) -> None:
    if n_true != n_pred:
        raise ValueError(f"{n_true} gold values but {n_pred} predictions")
    if n_true == 0:
        raise ValueError(NO_EXAMPLES)


def _ordered(labels: Iterable[Any], seen: Iterable[str]) -> list[str]:
    """Labels that occur in ``seen``: first in the order of ``labels``, then any others sorted."""
    present = set(seen)
    ordered = [lab for lab in dict.fromkeys(_as_labels(labels, "labels")) if lab in present]
    return ordered + sorted(present - set(ordered))


# --------------------------------------------------------------------------- classification


def classification_report(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None
) -> dict[str, Any]:
    """Per-class precision/recall/F1/support, micro/macro/weighted averages, accuracy, confusion matrix.

    ``labels`` (default: sorted union of ``y_true`` and ``y_pred``) selects and orders the classes;
    values outside it still count in ``accuracy`` and in a selected class's false positives/negatives,
    as in scikit-learn. ``confusion_matrix[i][j]`` counts true ``labels[i]`` predicted as ``labels[j]``.
    ``support`` is the number of examples.
    """
    t = _as_labels(y_true, "y_true")
    p = _as_labels(y_pred, "y_pred")
    _check_lengths(len(t), len(p))
    labs = sorted(set(t) | set(p)) if labels is None else _label_list(labels)
    index = {lab: k for k, lab in enumerate(labs)}
    k = len(labs)
    ti = np.array([index.get(v, -1) for v in t], dtype=np.int64)
    pi = np.array([index.get(v, -1) for v in p], dtype=np.int64)
    true_sum = np.bincount(ti[ti >= 0], minlength=k)
    pred_sum = np.bincount(pi[pi >= 0], minlength=k)
    tp = np.bincount(ti[(ti == pi) & (ti >= 0)], minlength=k)
    both = (ti >= 0) & (pi >= 0)
    matrix = np.bincount(ti[both] * k + pi[both], minlength=k * k).reshape(k, k)
    return {
        "per_class": _per_class(labs, tp, pred_sum, true_sum),
        **_averages(tp, pred_sum, true_sum),
        "accuracy": sum(a == b for a, b in zip(t, p, strict=True)) / len(t),
        "labels": labs,
        "confusion_matrix": matrix.tolist(),
        "support": len(t),
    }


# --------------------------------------------------------------------------- multi-label


def _binarize(rows: Sequence[Any], index: dict[str, int], name: str) -> tuple[np.ndarray, set[str]]:
    """Indicator matrix (n_rows, n_labels); labels not in ``index`` are ignored and returned."""
    matrix = np.zeros((len(rows), len(index)), dtype=bool)
    unknown: set[str] = set()
    for i, row in enumerate(rows):
        for lab in _as_labels([row] if isinstance(row, str) else row, f"{name}[{i}]"):
            if lab in index:
                matrix[i, index[lab]] = True
            else:
                unknown.add(lab)
    return matrix, unknown


def multilabel_report(
    y_true: Sequence[Sequence[str]], y_pred: Sequence[Sequence[str]], labels: Sequence[str]
) -> dict[str, Any]:
    """Multi-label scores on the binarised label sets, as scikit-learn computes them with ``zero_division=0``.

    Each row of ``y_true``/``y_pred`` is a collection of labels (a bare string counts as one label).
    Labels outside ``labels`` are ignored (as ``MultiLabelBinarizer(classes=labels)`` does) and listed
    under ``unknown_labels``. ``support`` is the number of examples.
    """
    labs = _label_list(labels)
    _check_lengths(len(y_true), len(y_pred))
    index = {lab: k for k, lab in enumerate(labs)}
    gold, unknown_true = _binarize(y_true, index, "y_true")
    pred, unknown_pred = _binarize(y_pred, index, "y_pred")
    hits = gold & pred
    tp, pred_sum, true_sum = hits.sum(axis=0), pred.sum(axis=0), gold.sum(axis=0)
    sp, sr, sf = _scores(hits.sum(axis=1), pred.sum(axis=1), gold.sum(axis=1))
    return {
        "per_class": _per_class(labs, tp, pred_sum, true_sum),
        **_averages(tp, pred_sum, true_sum),
        "samples": _row(sp.mean(), sr.mean(), sf.mean(), true_sum.sum()),
        "subset_accuracy": float(np.all(gold == pred, axis=1).mean()),
        "hamming_loss": float(np.mean(gold != pred)),
        "labels": labs,
        "support": len(y_true),
        "unknown_labels": sorted(unknown_true | unknown_pred),
    }


# --------------------------------------------------------------------------- NER (strict IOB2)


def _parse_tag(tag: Any) -> tuple[str, str]:
    """``(prefix, type)`` of an IOB2 tag: ``"B-PER"`` -> ``("B", "PER")``; a missing type reads as ``"_"``."""
    if not isinstance(tag, str) or not tag or tag[0] not in "BIO":
        raise ValueError(f"invalid IOB2 tag {tag!r}: expected O, B-<type> or I-<type>")
    return tag[0], tag[1:].strip("-") or "_"


def strict_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Entities of one tag sequence in strict IOB2: ``(type, start, end_exclusive)``.

    An entity is a ``B-X`` followed by the longest run of ``I-X``. An ``I-X`` that does not continue a
    ``B-X``/``I-X`` run of the same type starts nothing and is ignored (seqeval's strict mode).
    """
    parsed = [_parse_tag(tag) for tag in tags]
    spans: list[tuple[str, int, int]] = []
    i = 0
    while i < len(parsed):
        prefix, kind = parsed[i]
        if prefix != "B":
            i += 1
            continue
        end = i + 1
        while end < len(parsed) and parsed[end] == ("I", kind):
            end += 1
        spans.append((kind, i, end))
        i = end
    return spans


def _entity_sets(sentences: Sequence[Sequence[str]]) -> dict[str, set[tuple[int, int, int]]]:
    found: dict[str, set[tuple[int, int, int]]] = {}
    for sent, tags in enumerate(sentences):
        for kind, start, end in strict_spans(tags):
            found.setdefault(kind, set()).add((sent, start, end))
    return found


def _tag_sequences(sentences: Sequence[Sequence[str]], name: str) -> list[list[str]]:
    if isinstance(sentences, str):
        raise TypeError(f"{name} must be a sequence of tag sequences")
    return [_as_labels(tags, f"{name}[{i}]") for i, tags in enumerate(sentences)]


def entity_report(
    true_tags: Sequence[Sequence[str]],
    pred_tags: Sequence[Sequence[str]],
    *,
    token_labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Entity-level scores per type with micro/macro/weighted averages (strict IOB2, exact span match).

    Also ``token``: :func:`classification_report` over the flattened tags (``O`` included; classes in
    ``token_labels`` order when given) and ``accuracy``: token accuracy. ``support`` = gold entities.
    """
    gold_seqs = _tag_sequences(true_tags, "true_tags")
    pred_seqs = _tag_sequences(pred_tags, "pred_tags")
    _check_lengths(len(gold_seqs), len(pred_seqs))
    for i, (g, p) in enumerate(zip(gold_seqs, pred_seqs, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted tags")
    flat_gold = [tag for tags in gold_seqs for tag in tags]
    flat_pred = [tag for tags in pred_seqs for tag in tags]
    if not flat_gold:
        raise ValueError(NO_EXAMPLES)
    gold, pred = _entity_sets(gold_seqs), _entity_sets(pred_seqs)
    types = sorted(set(gold) | set(pred))
    empty: set[tuple[int, int, int]] = set()
    tp = [len(gold.get(t, empty) & pred.get(t, empty)) for t in types]
    pred_sum = [len(pred.get(t, empty)) for t in types]
    true_sum = [len(gold.get(t, empty)) for t in types]
    token = classification_report(flat_gold, flat_pred, token_labels)
    return {
        "per_class": _per_class(types, tp, pred_sum, true_sum),
        **_averages(tp, pred_sum, true_sum),
        "labels": types,
        "support": int(sum(true_sum)),
        "token": token,
        "accuracy": token["accuracy"],
    }


# --------------------------------------------------------------------------- task dispatch


def _target(item: Any, task: str, where: str) -> Any:
    """The gold/predicted value of one item: raw values pass through; Examples and Predictions unwrap."""
    if isinstance(item, Example | Prediction):
        item = item.tags if task == "ner" else item.label
        if item is None:
            raise ValueError(f"{where} has no {'tags' if task == 'ner' else 'label'}")
    if task == "multilabel" and isinstance(item, str):
        return (item,)
    return item


def _classification_scores(gold: list[Any], pred: list[Any], labels: Sequence[str]) -> tuple[dict, dict]:
    report = classification_report(gold, pred, _ordered(labels, _as_labels(gold + pred, "values")))
    metrics = {
        "accuracy": report["accuracy"],
        "macro_f1": report["macro"]["f1"],
        "weighted_f1": report["weighted"]["f1"],
        "micro_f1": report["micro"]["f1"],
    }
    return report, metrics


def _multilabel_scores(gold: list[Any], pred: list[Any], labels: Sequence[str]) -> tuple[dict, dict]:
    seen = {lab for row in gold + pred for lab in _as_labels(row, "label set")}
    known = list(dict.fromkeys(_as_labels(labels, "labels")))
    report = multilabel_report(gold, pred, known + sorted(seen - set(known)))
    metrics = {
        "micro_f1": report["micro"]["f1"],
        "macro_f1": report["macro"]["f1"],
        "samples_f1": report["samples"]["f1"],
        "subset_accuracy": report["subset_accuracy"],
    }
    return report, metrics


def _ner_scores(gold: list[Any], pred: list[Any], labels: Sequence[str]) -> tuple[dict, dict]:
    flat = [tag for tags in gold + pred for tag in _as_labels(tags, "tags")]
    report = entity_report(gold, pred, token_labels=_ordered(labels, flat) if flat else None)
    micro = report["micro"]
    metrics = {
        "f1": micro["f1"],
        "precision": micro["precision"],
        "recall": micro["recall"],
        "macro_f1": report["macro"]["f1"],
        "token_accuracy": report["accuracy"],
    }
    return report, metrics


_SCORERS = {"classification": _classification_scores, "multilabel": _multilabel_scores, "ner": _ner_scores}
PRIMARY_METRIC = {"classification": "accuracy", "multilabel": "micro_f1", "ner": "f1"}


def evaluate_predictions(
    task: str, golds: Sequence[Any], preds: Sequence[Any], labels: Sequence[str]
) -> EvalResult:
    """Score predictions for ``task`` ("classification", "multilabel" or "ner").

    ``golds``/``preds`` hold labels, label collections or tag sequences (or Examples/Predictions).
    Classification uses the classes that occur in golds or predictions, ordered as in ``labels``
    (so macro averages match scikit-learn's defaults); multi-label uses every label in ``labels`` plus
    any unseen one that occurs; NER ignores ``labels`` except to order the token-level table.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    gold = [_target(g, task, f"gold {i}") for i, g in enumerate(golds)]
    pred = [_target(p, task, f"prediction {i}") for i, p in enumerate(preds)]
    _check_lengths(len(gold), len(pred))
    report, metrics = _SCORERS[task](gold, pred, labels)
    primary = PRIMARY_METRIC[task]
    return EvalResult(task=task, metrics=metrics, report={**report, "primary_metric": primary, "task": task})
