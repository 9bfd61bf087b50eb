"""Statistics of the data after the gate: rows per split, label distribution, class balance, text
lengths and (NER) entity statistics."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from ...types import Example
from .labels import balance_summary, entity_counts
from .text import is_cjk


def length_histogram(lengths: list[int], bins: int = 20) -> dict[str, list[float]]:
    """Histogram counts and bin edges (integers) of ``lengths``."""
    if not lengths:
        return {"counts": [], "edges": []}
    top = max(lengths)
    edges = np.unique(np.linspace(0, top + 1, bins + 1).round().astype(int))
    counts, edges = np.histogram(lengths, bins=edges)
    return {"counts": counts.tolist(), "edges": edges.tolist()}


def _lengths(rows: list[Example]) -> list[int]:
    """Words per text (characters for CJK text; tokens for NER)."""
    out = []
    for ex in rows:
        if ex.tokens is not None:
            out.append(len(ex.tokens))
        else:
            out.append(len(ex.text.replace(" ", "")) if is_cjk(ex.text) else len(ex.text.split()))
    return out


def _entity_stats(rows: list[Example]) -> dict[str, Any]:
    from ..tags import bio_spans

    spans = [s for ex in rows for s in bio_spans(list(ex.tags or ()))]
    by_type: dict[str, list[int]] = {}
    for type_, start, end in spans:
        by_type.setdefault(type_, []).append(end - start)
    return {
        "entities": len(spans),
        "sentences_without_entities": sum(1 for ex in rows if not any(t != "O" for t in ex.tags or ())),
        "per_type": {
            t: {"count": len(v), "mean_tokens": round(float(np.mean(v)), 2)}
            for t, v in sorted(by_type.items())
        },
    }


def split_stats(splits: dict[str, list[Example]], task: str, inputs: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {"task": task, "splits": {}}
    for name, rows in splits.items():
        counts: Counter[str] = entity_counts(rows)
        lengths = _lengths(rows)
        entry: dict[str, Any] = {
            "rows_in": inputs.get(name, len(rows)),
            "rows_out": len(rows),
            "labels": dict(counts.most_common()),
            "balance": balance_summary(counts),
            "length": {
                "unit": "tokens" if task == "ner" else "words",
                "mean": round(float(np.mean(lengths)), 2) if lengths else 0.0,
                "max": max(lengths, default=0),
                "histogram": length_histogram(lengths),
            },
        }
        if task == "ner":
            entry["entities"] = _entity_stats(rows)
        out["splits"][name] = entry
    return out
