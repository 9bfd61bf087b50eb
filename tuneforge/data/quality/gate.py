"""The data-quality gate: every check of ``data.quality`` over the train / validation / test splits.

Order: per split (normalise, empty/short, label spellings and unknown labels, BIO, duplicates and
conflicts, near-duplicates), then across splits (leakage), then on the training split (rare classes,
tokenizer coverage and length, label noise), then the statistics of what is left. Each check is
``off``, ``warn`` (findings only), ``fix`` (changes and removals, all recorded) or ``fail`` (a
DataError naming the first row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...config import QualityConfig
from ...types import Example
from . import rows as row_checks
from .ledger import Ledger, fail
from .stats import split_stats

EVAL_FIXES = frozenset({"normalize", "labels", "unknown_labels", "bio", "rare_classes"})
_HINTS = {
    "normalize": "normalise the text (NFKC) or let tuneforge do it",
    "empty": "remove empty rows",
    "too_short": "remove or extend the short texts, or lower data.quality.min_chars",
    "too_long": "shorten the texts or raise model.max_length",
    "duplicates": "remove the repeated rows",
    "near_duplicates": "remove the near copies",
    "conflicts": "give each text one label",
    "leakage": "remove the evaluation texts from the training file",
    "near_leakage": "remove the near copies of evaluation texts from the training file",
    "labels": "fix the label spelling",
    "unknown_labels": "fix the labels or add training examples of them",
    "rare_classes": "add examples of the rare classes or merge them",
    "bio": "start every entity with a B- tag",
    "coverage": "use a backbone whose vocabulary covers the text (e.g. a Chinese model for Chinese)",
    "label_noise": "review the flagged rows",
}


@dataclass
class BackboneInfo:
    """What the model checks need: the backbone spec, its tokenizer and the length limit."""

    spec: Any
    tokenizer: Any
    max_length: int


@dataclass
class GateResult:
    splits: dict[str, list[Example]]
    ledger: Ledger
    stats: dict[str, Any] = field(default_factory=dict)

    def write(self, folder: str | Path, title: str = "Data report") -> None:
        from .report import write_data_report

        self.ledger.write(folder)
        write_data_report(self, folder, title)


class Gate:
    def __init__(
        self, task: str, cfg: QualityConfig, backbone: BackboneInfo | None = None, seed: int = 0
    ) -> None:
        self.task, self.cfg, self.backbone, self.seed = task, cfg, backbone, seed
        self.ledger = Ledger()
        self.stats: dict[str, Any] = {}
        self._vectors: dict[str, list[np.ndarray]] = {}

    def mode(self, check: str) -> str:
        return str(getattr(self.cfg, check))

    def fixing(self, check: str, split: str) -> bool:
        """Whether ``check`` repairs rows of ``split``: evaluation files only get fixes that keep them
        comparable (normalisation, label spellings, unknown labels, BIO); the rest is reported."""
        return self.mode(check) == "fix" and (split == "train" or check in EVAL_FIXES)

    def report(
        self,
        check: str,
        split: str,
        ex: Example | None,
        message: str,
        action: str,
        other: Example | None = None,
    ) -> None:
        """Record a finding; ``other`` is the row it relates to (the original of a copy, the test row
        a training row leaks)."""
        if self.mode(check) == "off":
            return
        done = action if action == "flagged" or self.fixing(check, split) else "reported"
        detail = {"other": {"file": other.source, "line": other.line}} if other is not None else {}
        self.ledger.find(check, message, ex, split, action=done, detail=detail)

    def drop(self, split: str, rows: Sequence[Example], drop: dict[int, tuple[str, str]]) -> list[Example]:
        return self.ledger.apply(split, rows, drop)

    def raise_failures(self) -> None:
        """A DataError for the first check in ``fail`` mode that found something."""
        for check in _HINTS:
            if self.mode(check) == "fail":
                found = [f for f in self.ledger.findings if f.check == check]
                if found:
                    raise fail(check, found, _HINTS[check])

    def vectors(self, split: str, rows: Sequence[Example]) -> list[np.ndarray]:
        if split not in self._vectors:
            from .model_checks import example_vectors

            assert self.backbone is not None
            b = self.backbone
            self._vectors[split] = example_vectors(rows, b.spec, b.tokenizer, self.task, b.max_length)
        return self._vectors[split]

    def embedding_pairs(self, split: str, rows: Sequence[Example]) -> list[tuple[int, int, float]]:
        if not (self.cfg.near_embeddings and self.backbone and self.task != "ner" and rows):
            return []
        from .near import embedding_pairs

        return embedding_pairs(np.stack(self.vectors(split, rows)), self.cfg.embedding_threshold)


def _per_split(gate: Gate, splits: dict[str, list[Example]]) -> dict[str, list[Example]]:
    from .labels import entity_counts, spelling_map

    for name in splits:
        if gate.mode("normalize") != "off":
            splits[name] = row_checks.normalize(gate, name, splits[name])
        if gate.mode("empty") != "off" or gate.mode("too_short") != "off":
            splits[name] = row_checks.empty_and_short(gate, name, splits[name])
        if gate.task == "ner" and gate.mode("bio") != "off":
            splits[name] = row_checks.bio(gate, name, splits[name])
    if gate.mode("labels") != "off":
        mapping = spelling_map(entity_counts(splits["train"]))
        splits["train"] = row_checks.apply_spellings(gate, "train", splits["train"], mapping)
    known = sorted(entity_counts(splits["train"]))
    for name in (n for n in splits if n != "train"):
        if gate.mode("unknown_labels") != "off" or gate.mode("labels") != "off":
            splits[name] = row_checks.unknown_labels(gate, name, splits[name], known)
    for name in splits:
        if gate.mode("duplicates") != "off" or gate.mode("conflicts") != "off":
            splits[name] = row_checks.duplicates_and_conflicts(gate, name, splits[name])
        if gate.mode("near_duplicates") != "off":
            splits[name] = row_checks.near_duplicates(gate, name, splits[name])
    return splits


def run_gate(
    splits: dict[str, list[Example]],
    task: str,
    cfg: QualityConfig,
    *,
    backbone: BackboneInfo | None = None,
    seed: int = 0,
) -> GateResult:
    """Check (and, where a check is ``fix``, repair) the splits; nothing is dropped without a record."""
    from .cross import coverage_and_length, label_noise, leakage, rare_classes

    gate = Gate(task, cfg, backbone, seed)
    splits = {name: list(rows) for name, rows in splits.items() if rows is not None}
    splits.setdefault("train", [])
    inputs = {name: len(rows) for name, rows in splits.items()}
    if cfg.enabled:
        splits = _per_split(gate, splits)
        if cfg.leakage != "off" or cfg.near_leakage != "off":
            splits = leakage(gate, splits)
        if cfg.rare_classes != "off":
            splits = rare_classes(gate, splits)
        if backbone is not None and (cfg.coverage != "off" or cfg.too_long != "off"):
            splits = coverage_and_length(gate, splits)
        if backbone is not None and cfg.label_noise != "off" and splits["train"]:
            label_noise(gate, splits["train"])
        gate.raise_failures()
    gate.stats.update(split_stats(splits, task, inputs), _config=cfg)
    return GateResult(splits, gate.ledger, gate.stats)
