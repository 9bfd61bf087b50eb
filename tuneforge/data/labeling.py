"""Labelling support: rank unlabelled texts by model uncertainty (:func:`suggest`), write them for an
annotation tool with the model's prediction as a pre-annotation, and merge the finished annotations
into a training file (:func:`import_annotations`).

Uncertainty is computed per decision and the most uncertain decision of an example is its score:
one distribution over the classes (classification), one yes/no distribution per label (multi-label),
one distribution over the tags per word (NER). ``tuneforge.Predictor.predict`` gives NER results only
as tags and per-entity scores (the mean top-tag probability of the entity's words); scoring from those
would rank every sentence without a predicted entity as certain, which hides exactly the missed
entities annotation should find. So for NER this module runs the run's model itself, the same way
``predict`` does, and keeps each word's full tag distribution.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError, did_you_mean
from ..io import atomic_write_text
from ..types import Example
from .annotation import (
    doccano_label,
    entity_spans,
    labelstudio_config,
    labelstudio_result,
    read_annotations,
    write_annotations,
)
from .split import label_set

STRATEGIES = ("entropy", "margin", "least_confident")
SUGGEST_FORMATS = ("csv", "labelstudio", "doccano")


# ---------------------------------------------------------------------------------------------- scores


def uncertainty(dists: np.ndarray, strategy: str) -> float:
    """Score in [0, 1] (higher: less certain) of the most uncertain row of ``dists`` (decisions x
    classes, rows summing to 1): normalised entropy, 1 - (top - second) or 1 - top probability."""
    if dists.size == 0:
        return 0.0
    p = np.clip(np.asarray(dists, dtype=np.float64), 0.0, 1.0)
    if strategy == "entropy":
        logs = np.log(np.where(p > 0, p, 1.0))
        per = -(p * logs).sum(-1) / math.log(max(p.shape[-1], 2))
    elif strategy == "margin":
        top2 = np.sort(p, axis=-1)[:, -2:] if p.shape[-1] > 1 else np.concatenate([0 * p, p], -1)
        per = 1.0 - (top2[:, -1] - top2[:, -2])
    elif strategy == "least_confident":
        per = 1.0 - p.max(-1)
    else:
        raise ConfigError(f"unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}.")
    return float(np.clip(per.max(), 0.0, 1.0))


def _decisions(pred: Any, labels: Sequence[str], task: str) -> np.ndarray:
    probs = np.array([pred.probabilities[lab] for lab in labels], dtype=np.float64)
    if task == "multilabel":
        return np.stack([probs, 1.0 - probs], axis=-1)
    return probs[None, :]


def _ner_pass(predictor: Any, examples: list[Example], batch_size: int) -> list[tuple[Any, np.ndarray]]:
    """Predictions and per-word tag distributions (words x tags) of NER examples, in input order."""
    import torch

    from ..models.inference import autocast, device_of, to_device
    from ..train.batching import eval_batches

    task, model = predictor.task, predictor.model
    feats = task.encode(examples, predictor.tokenizer, {}, predictor.meta["max_length"])
    out: list[Any] = [None] * len(examples)
    if hasattr(model, "eval"):
        model.eval()
    device, pad = device_of(model), predictor.tokenizer.pad_token_id or 0
    for idx in eval_batches([len(f["input_ids"]) for f in feats], batch_size):
        sub = [feats[i] for i in idx]
        with torch.no_grad(), autocast(device, predictor.bf16):
            probs = task.probabilities(model(**to_device(task.collate(sub, pad), device))).float().cpu()
        preds = task.decode(probs, sub, [examples[i] for i in idx], predictor.labels)
        for j, (i, pred) in enumerate(zip(idx, preds, strict=True)):
            rows = [p for p in sub[j]["word_starts"] if 0 <= p < probs.shape[1]]
            out[i] = (pred, probs[j, rows].numpy())
    return out


# ---------------------------------------------------------------------------------------------- suggest


def _dedupe(pool: Sequence[str | Example]) -> list[Example]:
    seen: set[str] = set()
    out = []
    for item in pool:
        ex = item if isinstance(item, Example) else Example(text=item)
        key = " ".join(ex.text.split())
        if key and key not in seen:
            seen.add(key)
            out.append(ex)
    return out


def suggest(
    run_dir: str | Path | Any,
    pool_examples: Sequence[str | Example],
    *,
    strategy: str = "entropy",
    top: int = 100,
    batch_size: int = 64,
) -> list[dict[str, Any]]:
    """The ``top`` pool texts the run's model is least sure about, most uncertain first.

    Each is ``{"rank", "score", "text", "prediction", "source", "line"}``; ``prediction`` is a label
    (classification), a list of labels (multi-label) or ``[start, end, type]`` character spans (NER).
    Texts are deduplicated (whitespace-insensitive) before scoring. ``run_dir`` may also be a loaded
    ``Predictor``."""
    from ..models.tasks import words_with_offsets
    from ..predictor import Predictor

    if strategy not in STRATEGIES:
        raise ConfigError(f"unknown strategy {strategy!r}; use one of: {', '.join(STRATEGIES)}.")
    if top < 1:
        raise ConfigError(f"top must be at least 1, not {top}")
    predictor = run_dir if isinstance(run_dir, Predictor) else Predictor(run_dir)
    task = predictor.task.name
    pool = _dedupe(pool_examples)
    if not pool:
        raise DataError("the pool has no texts to rank", hint="give a file of unlabelled texts")
    if task == "ner":
        pool = [ex if ex.tokens else words_with_offsets(ex.text) for ex in pool]
        scored = [(pred, dists) for pred, dists in _ner_pass(predictor, pool, batch_size)]
    else:
        preds = predictor.predict([ex.text for ex in pool], batch_size=batch_size)
        scored = [(p, _decisions(p, predictor.labels, task)) for p in preds]
    rows = []
    for i, (ex, (pred, dists)) in enumerate(zip(pool, scored, strict=True)):
        if task == "ner":
            value: Any = [[e.start, e.end, e.type] for e in pred.entities or []]
        else:
            value = pred.label
        score = round(uncertainty(dists, strategy), 6)
        rows.append(
            {"score": score, "text": ex.text, "prediction": value, "source": ex.source, "line": ex.line}
        )
        rows[-1]["_order"] = i
    rows.sort(key=lambda r: (-r["score"], r.pop("_order")))
    return [{"rank": n, **r} for n, r in enumerate(rows[:top], 1)]


def write_suggestions(
    path: str | Path,
    suggestions: Sequence[dict[str, Any]],
    format: str,
    labels: Sequence[str],
    task: str,
    *,
    model_version: str = "tuneforge",
) -> list[Path]:
    """Write ranked suggestions as csv, Label Studio tasks (with ``predictions`` and the labeling
    config next to it, ``.xml``) or Doccano JSONL (prediction in ``label``); returns the files."""
    path = Path(path)
    if format == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["rank", "score", "text", "prediction"])
        for s in suggestions:
            pred = s["prediction"]
            cell = json.dumps(pred, ensure_ascii=False) if task == "ner" else _cell(pred)
            writer.writerow([s["rank"], s["score"], s["text"], cell])
        atomic_write_text(path, buf.getvalue())
        return [path]
    if format == "doccano":
        body = "".join(
            json.dumps({"text": s["text"], "label": doccano_label(_value(s["prediction"])),
                        "uncertainty": s["score"], "rank": s["rank"]}, ensure_ascii=False) + "\n"
            for s in suggestions
        )  # fmt: skip
        atomic_write_text(path, body)
        return [path]
    if format != "labelstudio":
        hint = did_you_mean(format, SUGGEST_FORMATS)
        raise ConfigError(f"unknown format {format!r}; use one of: {', '.join(SUGGEST_FORMATS)}.{hint}")
    tasks = [_labelstudio_task(s, model_version) for s in suggestions]
    atomic_write_text(path, json.dumps(tasks, ensure_ascii=False, indent=2) + "\n")
    config = path.with_suffix(".xml")
    atomic_write_text(config, labelstudio_config(task, labels))
    return [path, config]


def _cell(pred: Any) -> str:
    return "|".join(pred) if isinstance(pred, list) else str(pred or "")


def _value(pred: Any) -> Any:
    """A suggestion's prediction as an annotation value (label, label tuple or span list)."""
    if isinstance(pred, list) and pred and isinstance(pred[0], list):
        return [tuple(span) for span in pred]
    return tuple(pred) if isinstance(pred, list) else pred


def _labelstudio_task(s: dict[str, Any], model_version: str) -> dict[str, Any]:
    """A task with the model's prediction; LS's prediction score is the confidence, 1 - uncertainty, so
    sorting by it (ascending) in the Data Manager gives the ranking."""
    result = labelstudio_result(_value(s["prediction"]), s["text"]) if s["prediction"] is not None else []
    return {
        "data": {"text": s["text"], "rank": s["rank"], "uncertainty": s["score"]},
        "predictions": [
            {"model_version": model_version, "score": round(1.0 - s["score"], 6), "result": result}
        ],
    }


# ---------------------------------------------------------------------------------------------- import / export


def _key(ex: Example, task: str) -> Any:
    """What makes two examples the same text: the tokens (NER) or the whitespace-normalised text."""
    return tuple(ex.tokens or ()) if task == "ner" else " ".join(ex.text.split())


def _check_labels(examples: Sequence[Example], known: set[str], file: str, format: str) -> None:
    for ex in examples:
        for lab in sorted(label_set(ex) - known):
            where = f"task {ex.line}: " if format == "labelstudio" else ""
            what = "entity type" if ex.tags is not None else "label"
            hint = f"fix it in the annotation tool, or pass --allow-new-labels to add it.{did_you_mean(lab, known)}"
            raise DataError(
                f"{where}{what} {lab!r} is not among the training file's {what}s ({', '.join(sorted(known))})",
                file=file,
                line=None if format == "labelstudio" else ex.line,
                hint=hint,
            )


def _merged_format(into: Path, out: Path) -> str:
    """Write the merged file in the training file's format when it goes to the same kind of file."""
    from .readers import detect_format

    fmt = detect_format(into)
    if out.suffix.lower() != into.suffix.lower():
        return "auto"
    if fmt == "txt":
        raise ConfigError(
            f"{into} is label-first text, which tuneforge does not write; give --out merged.csv (or .jsonl)"
        )
    return "conll" if fmt == "bmes" else fmt


def import_annotations(
    path: str | Path,
    format: str,
    task: str,
    into: str | Path,
    out: str | Path | None = None,
    *,
    allow_new_labels: bool = False,
    keep_empty: bool = False,
    label_separator: str = "|",
) -> dict[str, Any]:
    """Merge the annotations in ``path`` into the training file ``into`` and write the result to ``out``
    (default: ``into`` itself), atomically and only after every annotation is checked.

    Labels (entity types) not in ``into`` are a DataError with a did-you-mean hint unless
    ``allow_new_labels``; texts already in ``into`` (or earlier in ``path``) are skipped. Returns the
    counts: added, already_present, duplicates, skipped, unannotated, ignored_results, total, out."""
    from .readers import read_examples
    from .writers import write_examples

    imported = read_annotations(path, format, task, keep_empty=keep_empty)
    train = read_examples(into, task=task, label_separator=label_separator)
    if not allow_new_labels:
        known = {lab for ex in train for lab in label_set(ex)}
        _check_labels(imported.examples, known, str(path), format)
    in_train = {_key(ex, task) for ex in train}
    seen: set[Any] = set()
    added: list[Example] = []
    present = duplicates = 0
    for ex in imported.examples:
        key = _key(ex, task)
        if key in in_train or key in seen:
            present += key in in_train
            duplicates += key not in in_train
            continue
        seen.add(key)
        added.append(ex)
    target = Path(out) if out is not None else Path(into)
    fmt = _merged_format(Path(into), target)
    dropped = dropped_columns(into, task)
    if dropped and out is None:
        raise ConfigError(
            f"{into} has columns the merged file cannot keep ({', '.join(dropped)}); "
            "give --out to write the merged file elsewhere, or remove them first"
        )
    write_examples(target, [*train, *added], task, fmt, label_separator=label_separator)
    return {
        "added": len(added),
        "already_present": present,
        "duplicates": duplicates,
        "skipped": imported.skipped,
        "unannotated": imported.unannotated,
        "ignored_results": imported.ignored_results,
        "total": len(train) + len(added),
        "out": str(target),
        "dropped_columns": dropped,
    }


def dropped_columns(path: str | Path, task: str) -> list[str]:
    """Columns (csv/tsv), fields (jsonl) or CoNLL columns of ``path`` that a rewrite with
    ``write_examples`` does not keep: everything but the text and label the readers pick."""
    from .readers import LABEL_CANDIDATES, TAG_KEYS, TEXT_CANDIDATES, TOKEN_KEYS, detect_format

    fmt = detect_format(path)
    first = next((ln for ln in Path(path).read_text(encoding="utf-8-sig").split("\n") if ln.strip()), "")
    if fmt in ("conll", "bmes"):
        first = next((ln for ln in Path(path).read_text(encoding="utf-8-sig").split("\n")
                      if ln.strip() and not ln.startswith("-DOCSTART-")), "")  # fmt: skip
        width = len(first.split())
        return [f"{width - 2} extra column(s)"] if fmt == "conll" and width > 2 else []
    if fmt == "jsonl":
        try:
            names = list(json.loads(first))
        except (json.JSONDecodeError, TypeError):
            return []
    elif fmt in ("csv", "tsv"):
        names = next(csv.reader([first], delimiter="," if fmt == "csv" else "\t"))
    else:
        return []
    text_keys, label_keys = (TOKEN_KEYS, TAG_KEYS) if task == "ner" else (TEXT_CANDIDATES, LABEL_CANDIDATES)
    lowered = [n.strip().lower() for n in names]
    kept = {next((k for k in keys if k in lowered), None) for keys in (text_keys, label_keys)}
    return [n for n, low in zip(names, lowered, strict=True) if low not in kept]


def export_annotations(
    path: str | Path, format: str, task: str, out: str | Path, *, label_separator: str = "|"
) -> int:
    """Convert the labelled file ``path`` to a Label Studio or Doccano file ``out``; returns the count."""
    from .readers import read_examples

    examples = read_examples(path, task=task, label_separator=label_separator)
    write_annotations(out, examples, format, task)
    return len(examples)


__all__ = [
    "STRATEGIES",
    "entity_spans",
    "export_annotations",
    "import_annotations",
    "suggest",
    "uncertainty",
    "write_suggestions",
]
