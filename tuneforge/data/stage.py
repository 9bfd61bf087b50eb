"""The data stage of a run: read the files, hold out splits, run the quality gate, augment train.

``prepare_data(recipe, run_dir)`` returns the examples every later stage uses and leaves in the run
directory ``splits.json`` (which rows went where), ``removed.jsonl`` / ``changed.jsonl`` (every row
the gate dropped or edited, with file, line and reason) and ``data_report.md/json/html``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..config import Recipe
from ..errors import DataError
from ..rundir import RunDir
from ..types import Example
from .quality import BackboneInfo, GateResult, run_gate
from .readers import read_examples
from .split import holdout, load_split_indices, plan_splits, save_split_indices, subsample


@dataclass
class DataStage:
    splits: dict[str, list[Example]]
    gate: GateResult
    augmented: int = 0


def read_split(recipe: Recipe, path: str | None, require_labels: bool = True) -> list[Example]:
    """The examples of one file, read with the recipe's ``data`` options."""
    if path is None:
        return []
    d = recipe.data
    return read_examples(
        path,
        task=recipe.task,
        format=d.format,
        text_column=d.text_column,
        label_column=d.label_column,
        token_column=d.token_column,
        tag_column=d.tag_column,
        label_separator=d.label_separator,
        encoding=d.encoding,
        require_labels=require_labels,
        group_column=d.group_column,
    )


def _plan(recipe: Recipe, rows: list[Example], pool: list[int]) -> dict[str, list[int]]:
    """Indices into ``rows`` of train / validation / test, drawn from ``pool`` (all rows or a subset)."""
    d = recipe.data
    val = 0.0 if d.validation else d.validation_fraction
    test = 0.0 if d.test else d.test_fraction
    sub = [rows[i] for i in pool]
    if test == 0.0 and not any(ex.group for ex in sub):
        tr, va = holdout(sub, val, recipe.data_seed) if val else (list(range(len(sub))), [])
        local = {"train": tr, "validation": va, "test": []}
    else:
        local = plan_splits(sub, validation_fraction=val, test_fraction=test, seed=recipe.data_seed)
    return {name: [pool[i] for i in idx] for name, idx in local.items()}


def _split(recipe: Recipe, run_dir: RunDir) -> dict[str, list[Example]]:
    """Read the files and hold out what the recipe asks for; ``splits.json`` records which rows of the
    training file went where (and reproduces it via ``data.splits_file``)."""
    d = recipe.data
    rows = read_split(recipe, d.train)
    if d.splits_file:
        plan = load_split_indices(d.splits_file, rows)
    else:
        pool = list(range(len(rows)))
        if d.max_train_examples:
            seed = recipe.data_seed if d.subset_seed is None else d.subset_seed
            pool = subsample(len(rows), d.max_train_examples, seed)
        plan = _plan(recipe, rows, pool)
    if not d.validation and not plan.get("validation"):
        raise DataError(
            "too few training examples to hold out a validation split",
            file=d.train,
            hint="give data.validation or add examples",
        )
    files = {"train": d.train, "validation": d.validation or "", "test": d.test or ""}
    save_split_indices(run_dir.splits, plan, files, examples=rows)
    splits = {name: [rows[i] for i in plan.get(name, [])] for name in ("train", "validation", "test")}
    for name in ("validation", "test"):
        if getattr(d, name):
            splits[name] = read_split(recipe, getattr(d, name))
    return splits


def _augment(recipe: Recipe, train: list[Example], backbone: BackboneInfo | None) -> list[Example]:
    from .augment import SynonymSource, augment_examples

    cfg = recipe.data.augment
    synonyms = None
    if "synonym" in cfg.operations or "insert" in cfg.operations:
        synonyms = SynonymSource.from_backbone(backbone.spec if backbone else recipe.backbone)
    seed = recipe.data_seed if cfg.seed is None else cfg.seed
    return augment_examples(train, cfg, task=recipe.task, seed=seed, synonyms=synonyms)


def prepare_data(
    recipe: Recipe,
    run_dir: RunDir,
    backbone: BackboneInfo | None = None,
    message: Callable[[str], None] | None = None,
) -> DataStage:
    """Train / validation / test examples after splitting, the quality gate and augmentation."""
    say = message or (lambda _m: None)
    if recipe.data.augment.enabled:  # a wrong operation is a recipe error, before any data is read
        from .augment import check_operations

        check_operations(recipe.data.augment.operations, recipe.task)
    splits = _split(recipe, run_dir)
    gate = run_gate(splits, recipe.task, recipe.data.quality, backbone=backbone, seed=recipe.data_seed)
    counts = gate.ledger.counts()
    if counts:
        summary = ", ".join(
            f"{check} {c.get('removed', 0) + c.get('changed', 0) or c.get('found', 0)}"
            for check, c in counts.items()
        )
        say(
            f"data quality: {summary} ({len(gate.ledger.removed)} rows removed, {len(gate.ledger.changed)} "
            f"changed; see {run_dir.path / 'data_report.md'})"
        )
    splits = gate.splits
    if not splits["train"]:
        gate.write(run_dir.path, title=f"Data report: {run_dir.path.name}")
        raise DataError(
            "no training examples are left after the data-quality gate",
            file=recipe.data.train,
            hint=f"see {run_dir.path / 'removed.jsonl'}",
        )
    added = 0
    if recipe.data.augment.enabled:
        extra = _augment(recipe, splits["train"], backbone)
        splits["train"] = splits["train"] + extra
        added = len(extra)
        cfg = recipe.data.augment
        gate.stats["augmentation"] = {"added": added, "operations": cfg.operations, "copies": cfg.copies}
        say(f"augmentation: {added} training examples added")
    gate.write(run_dir.path, title=f"Data report: {run_dir.path.name}")
    return DataStage(splits, gate, added)
