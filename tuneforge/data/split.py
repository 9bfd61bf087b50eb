"""Seeded splits: stratified, group-aware train/validation/test plans and k folds, and their JSON record.

How a plan is made (:func:`plan_splits`, :func:`kfold`):

* **Units.** Rows that share ``Example.group`` form one unit and always go to one split together;
  a row without a group is a unit of its own.
* **Strata.** Every unit has a label set: its labels (classification, multi-label) or the entity types
  of its tags (NER). The stratum of a unit is that set when at least ``ceil(1 / smallest fraction)``
  units share it (so that the stratum can expect one held-out unit); otherwise it falls back to the
  unit's rarest label, which keeps rare labels spread over the splits. For single-label data without
  groups this is plain stratification by label. Multi-label data is stratified by label set with that
  fallback rather than iteratively: it keeps label co-occurrence, is deterministic and cheap, and the
  fallback covers the sparse label sets where iterative stratification would matter most.
* **Counts.** Strata are visited in a seeded random order; each one gets the held-out rows that the
  running total still owes (``rows seen so far x fraction - rows held out so far``), so the total size
  of each split is exact for ungrouped rows however small the strata are. Within a stratum, units are
  shuffled (largest groups first) and each goes to the split that most lacks rows. The first unit of a
  stratum always goes to train, so a label with two or more rows keeps a training row and a label with
  one row is only in train.
* **Groups.** With groups a split can only grow by whole groups, so each held-out split ends up within
  about one group size (the largest group of the stratum it stops in) of its target row count.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError
from ..types import Example

SPLITS = ("train", "validation", "test")
FORMAT = "tuneforge.splits/1"


# ---------------------------------------------------------------------------------------------- hold-out


def holdout(examples: Sequence[Example], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """``(train_indices, heldout_indices)``: about ``fraction`` of every label's examples are held out
    (at least one per label with two or more examples); sorted indices."""
    rng = np.random.default_rng(seed)
    by_label: dict[object, list[int]] = defaultdict(list)
    for i, ex in enumerate(examples):
        key = ex.label if isinstance(ex.label, str) else None
        by_label[key].append(i)
    held: list[int] = []
    for key in sorted(by_label, key=str):
        idx = by_label[key]
        k = int(round(len(idx) * fraction))
        k = max(1, min(k, len(idx) - 1)) if len(idx) >= 2 else 0
        held.extend(rng.permutation(idx)[:k].tolist())
    held_set = set(held)
    return [i for i in range(len(examples)) if i not in held_set], sorted(held)


def subsample(n: int, k: int, seed: int) -> list[int]:
    """A seeded subset of ``k`` of ``range(n)``, in the original order."""
    if k >= n:
        return list(range(n))
    return sorted(np.random.default_rng(seed).permutation(n)[:k].tolist())


# ---------------------------------------------------------------------------------------------- units, strata


@dataclass
class _Unit:
    rows: list[int]
    labels: frozenset[str]


def label_set(ex: Example) -> frozenset[str]:
    """What a row is stratified by: its label(s), or for NER the entity types its tags contain."""
    if ex.tags is not None:
        return frozenset(t[2:] for t in ex.tags if t != "O" and len(t) > 2)
    if isinstance(ex.label, str):
        return frozenset([ex.label])
    return frozenset(ex.label or ())


def _units(examples: Sequence[Example]) -> list[_Unit]:
    """One unit per group (rows sharing ``Example.group``) and per row without a group."""
    by_group: dict[str, list[int]] = {}
    units: list[_Unit] = []
    for i, ex in enumerate(examples):
        if ex.group is None:
            units.append(_Unit([i], label_set(ex)))
        elif ex.group in by_group:
            by_group[ex.group].append(i)
        else:
            by_group[ex.group] = [i]
            units.append(_Unit(by_group[ex.group], frozenset()))  # labels filled in below
    for u in units:
        if len(u.rows) > 1 or examples[u.rows[0]].group is not None:
            u.labels = frozenset().union(*(label_set(examples[i]) for i in u.rows))
    return units


def _strata(units: list[_Unit], min_units: int, stratify: bool) -> dict[tuple[str, ...], list[_Unit]]:
    """Units by stratum key: the label set, or the rarest label when the set is too rare to split."""
    if not stratify:
        return {(): list(units)}
    set_counts = Counter(u.labels for u in units)
    label_counts = Counter(lab for u in units for lab in u.labels)
    strata: dict[tuple[str, ...], list[_Unit]] = defaultdict(list)
    for u in units:
        if set_counts[u.labels] >= min_units or not u.labels:
            key = tuple(sorted(u.labels))
        else:
            key = (min(u.labels, key=lambda lab: (label_counts[lab], lab)),)
        strata[key].append(u)
    return strata


# ---------------------------------------------------------------------------------------------- allocation


def _allocate(
    strata: dict[tuple[str, ...], list[_Unit]],
    fractions: dict[str, float],
    keep: str | None,
    rng: np.random.Generator,
) -> dict[str, list[int]]:
    """Rows of each split. ``keep`` (train) takes the first unit of every stratum and what is left."""
    names = list(fractions)
    out: dict[str, list[int]] = {name: [] for name in names}
    seen = 0
    keys = sorted(strata)
    for k in rng.permutation(len(keys)):
        units = [strata[keys[k]][j] for j in rng.permutation(len(strata[keys[k]]))]
        units.sort(key=lambda u: -len(u.rows))  # stable: large groups first, random order otherwise
        seen += sum(len(u.rows) for u in units)
        owed = {name: seen * fractions[name] - len(out[name]) for name in names}
        for pos, u in enumerate(units):
            if keep is not None and pos == 0:
                name = keep
            else:
                name = max(names, key=lambda n: (round(owed[n], 9), -names.index(n)))
            out[name].extend(u.rows)
            owed[name] -= len(u.rows)
    return {name: sorted(rows) for name, rows in out.items()}


def _min_units(fractions: Sequence[float]) -> int:
    smallest = min((f for f in fractions if f > 0), default=0.5)
    return max(2, math.ceil(min(1 / smallest, 1000.0) - 1e-9))  # capped: tiny fractions


def plan_splits(
    examples: Sequence[Example],
    *,
    validation_fraction: float,
    test_fraction: float = 0.0,
    seed: int,
    stratify: bool = True,
) -> dict[str, list[int]]:
    """Sorted row indices of ``train``, ``validation`` and ``test``: disjoint, together every row.

    Stratified by label set (see the module docstring) and group-aware: rows sharing ``Example.group``
    land in one split, so the fractions then hold to within about one group's size.
    """
    for name, f in (("validation_fraction", validation_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= f < 1.0:
            raise ConfigError(f"{name} must be at least 0 and below 1, not {f}")
    if validation_fraction + test_fraction >= 1.0:
        raise ConfigError(
            f"validation_fraction + test_fraction is {validation_fraction + test_fraction:g}; "
            "it must be below 1 so that rows are left for training"
        )
    fractions = {"validation": validation_fraction, "test": test_fraction}
    held = {name: f for name, f in fractions.items() if f > 0}
    units = _units(examples)
    strata = _strata(units, _min_units(list(held.values())), stratify)
    plan = _allocate(
        strata, {"train": 1.0 - sum(held.values()), **held}, "train", np.random.default_rng(seed)
    )
    return {name: plan.get(name, []) for name in SPLITS}


def kfold(
    examples: Sequence[Example], k: int, *, seed: int, stratify: bool = True
) -> list[tuple[list[int], list[int]]]:
    """``k`` pairs of sorted ``(train_indices, validation_indices)``; every row is in exactly one
    validation fold. Stratified and group-aware like :func:`plan_splits`."""
    units = _units(examples)
    if k < 2:
        raise ConfigError(f"k-fold needs k of at least 2, not {k}")
    if k > len(units):
        what = "groups and ungrouped rows" if any(ex.group for ex in examples) else "rows"
        raise DataError(f"cannot make {k} folds of {len(units)} {what}", hint="lower k or add data")
    names = [f"fold-{i + 1}" for i in range(k)]
    strata = _strata(units, k, stratify)
    folds = _allocate(strata, {name: 1.0 / k for name in names}, None, np.random.default_rng(seed))
    everything = range(len(examples))
    out = []
    for name in names:
        held = set(folds[name])
        out.append(([i for i in everything if i not in held], folds[name]))
    return out


# ---------------------------------------------------------------------------------------------- splits.json


def rows_hash(examples: Sequence[Example]) -> str:
    """SHA-256 of the rows' content (text, label, tokens, tags, group) in order; not of the file's bytes,
    so a re-saved file with the same rows keeps its hash and any changed, added or moved row changes it."""
    h = hashlib.sha256()
    for ex in examples:
        label = list(ex.label) if isinstance(ex.label, tuple) else ex.label
        row = [ex.text, label, list(ex.tokens or ()), list(ex.tags or ()), ex.group]
        h.update(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")
    return h.hexdigest()


def save_split_indices(
    path: str | Path,
    plan: dict[str, list[int]],
    files: dict[str, Any],
    *,
    examples: Sequence[Example] | None = None,
) -> Path:
    """Write ``plan`` (split name -> row indices) atomically as JSON, with ``files`` (e.g. ``{"source":
    "data.csv"}``) and, given the ``examples`` the indices refer to, their count and :func:`rows_hash`."""
    from ..io import atomic_write_text

    record: dict[str, Any] = {"format": FORMAT, "files": {k: str(v) for k, v in files.items()}}
    if examples is not None:
        record["rows"] = {"count": len(examples), "sha256": rows_hash(examples)}
    head = json.dumps(record, indent=2, ensure_ascii=False)[:-2]  # without the closing "\n}"
    lists = ",\n".join(
        f"    {json.dumps(name)}: {json.dumps([int(i) for i in rows])}" for name, rows in plan.items()
    )
    atomic_write_text(path, f'{head},\n  "splits": {{\n{lists}\n  }}\n}}\n')  # one line per split
    return Path(path)


def load_split_indices(path: str | Path, examples: Sequence[Example] | None = None) -> dict[str, list[int]]:
    """The split indices saved by :func:`save_split_indices`. Given ``examples``, a DataError unless they
    are the rows the indices were made for (same count and hash)."""
    record = _read_record(Path(path))
    splits = record["splits"]
    if examples is None:
        return splits
    rows = record.get("rows") or {}
    fix = "split the current data again (tuneforge data split) or use the file these indices were made for"
    if "count" in rows and rows["count"] != len(examples):
        msg = f"the indices were made for {rows['count']} rows, but the data has {len(examples)}"
        raise DataError(msg, file=str(path), hint=fix)
    if "sha256" in rows and rows["sha256"] != rows_hash(examples):
        msg = "the indices were made for different rows (the data's content hash differs)"
        raise DataError(msg, file=str(path), hint=fix)
    top = max((i for idx in splits.values() for i in idx), default=-1)
    if top >= len(examples):
        raise DataError(f"index {top} is out of range for {len(examples)} rows", file=str(path), hint=fix)
    return splits


def _read_record(path: Path) -> dict[str, Any]:
    hint = "give a splits.json written by `tuneforge data split`"
    if not path.is_file():
        raise DataError("the splits file does not exist", file=str(path), hint=hint)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"not valid JSON ({exc})", file=str(path), hint=hint) from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise DataError(f'not a split-indices file (no "format": "{FORMAT}")', file=str(path), hint=hint)
    splits = record.get("splits")
    valid = isinstance(splits, dict) and all(
        isinstance(v, list) and all(isinstance(i, int) and i >= 0 for i in v) for v in splits.values()
    )
    if not valid:
        raise DataError("'splits' must map split names to lists of row indices", file=str(path), hint=hint)
    return record


# ---------------------------------------------------------------------------------------------- files

_EXT = {"csv": ".csv", "tsv": ".tsv", "jsonl": ".jsonl", "conll": ".conll"}


def split_file(
    path: str | Path,
    out_dir: str | Path,
    *,
    task: str,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.0,
    k: int | None = None,
    group_column: str | None = None,
    seed: int = 0,
    format: str = "auto",
) -> dict[str, list[Example]]:
    """Split a labelled file: writes ``OUT/train.*``, ``validation.*`` (and ``test.*`` when
    ``test_fraction`` > 0), or ``OUT/fold-<i>/train.*, validation.*`` for ``k`` folds, in the input's
    format, plus ``OUT/splits.json``. Returns the examples of each written split by its name."""
    from .readers import detect_format, read_examples
    from .writers import write_examples

    examples = read_examples(path, task=task, format=format, group_column=group_column)
    fmt = detect_format(path) if format == "auto" else format
    fmt = {"bmes": "conll", "txt": "csv"}.get(fmt, fmt)
    if k is not None:
        folds = kfold(examples, k, seed=seed)
        plan = {f"fold-{i}/{name}": idx for i, pair in enumerate(folds, 1) for name, idx in zip(("train", "validation"), pair, strict=True)}  # fmt: skip
    else:
        plan = plan_splits(
            examples, validation_fraction=validation_fraction, test_fraction=test_fraction, seed=seed
        )
        plan = {name: idx for name, idx in plan.items() if name != "test" or test_fraction > 0}
    out_dir = Path(out_dir)
    for name, idx in plan.items():
        rows = [examples[i] for i in idx]
        write_examples(out_dir / f"{name}{_EXT[fmt]}", rows, task, fmt, group_column=group_column)
    save_split_indices(out_dir / "splits.json", plan, {"source": str(path)}, examples=examples)
    return {name: [examples[i] for i in idx] for name, idx in plan.items()}


def distribution(examples: Sequence[Example]) -> Counter[str]:
    """Rows with each label (NER: sentences with each entity type; ``(none)``: no label or entity)."""
    counts: Counter[str] = Counter()
    for ex in examples:
        counts.update(label_set(ex) or {"(none)"})
    return counts
