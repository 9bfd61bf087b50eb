"""``tuneforge bench methods``: every chosen method on the user's own recipe, same data, same seeds,
one table (score mean +- std, trainable share, train time, gradient + optimizer bytes, artifact size).

Each (method, seed) is an ordinary run in ``OUT/<method>-seed<k>``; finished runs are reused, so an
interrupted comparison continues where it stopped. Every method trains with its own default learning
rate unless ``keep_lr`` is set (one learning rate cannot suit both LoRA and prompt tuning)."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from .config import Recipe, load_recipe, recipe_from_dict
from .errors import ConfigError
from .io import atomic_write_json, atomic_write_text
from .methods import METHODS, get_method
from .models.tasks import get_task
from .rundir import RunDir


def parse_method(spec: str) -> dict[str, Any]:
    """``lora`` or ``lora:r=16,alpha=32`` -> ``{"name": "lora", "r": 16, "alpha": 32}``."""
    name, _, rest = spec.partition(":")
    out: dict[str, Any] = {"name": name.strip()}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise ConfigError(f"method option {item!r} in {spec!r} is not key=value")
        out[key.strip()] = yaml.safe_load(value)
    get_method(out["name"], {k: v for k, v in out.items() if k != "name"})  # validate now
    return out


def _label(method: dict[str, Any]) -> str:
    extra = "-".join(f"{k}{v}" for k, v in method.items() if k != "name")
    return f"{method['name']}-{extra}" if extra else method["name"]


def compare_methods(
    recipe: Recipe | str | Path,
    methods: Sequence[str | dict[str, Any]] | None = None,
    seeds: Sequence[int] = (1, 2, 3),
    output: str | Path | None = None,
    keep_lr: bool = False,
    quiet: bool = True,
) -> dict[str, Any]:
    from .pipeline import run

    base = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
    chosen = [parse_method(m) if isinstance(m, str) else dict(m) for m in (methods or sorted(METHODS))]
    out = Path(output or Path(base.output).with_name(Path(base.output).name + "-methods"))
    out.mkdir(parents=True, exist_ok=True)
    task = get_task(base.task)
    cells: list[dict[str, Any]] = []
    for method in chosen:
        for seed in seeds:
            label = _label(method)
            run_dir = RunDir(out / f"{label}-seed{seed}")
            if not (run_dir.summary.is_file() and run_dir.is_finished()):
                data = base.resolved()
                data.update(method=method, output=str(run_dir.path))
                data["train"]["seed"] = seed
                if not keep_lr:
                    data["train"]["lr"] = None
                run(recipe_from_dict(data), force=True, quiet=quiet)
            summary = json.loads(run_dir.summary.read_text(encoding="utf-8"))
            split = "test" if "test" in summary["metrics"] else "validation"
            params = summary["parameters"]
            cells.append(
                {
                    "method": label,
                    "seed": seed,
                    "split": split,
                    "score": summary["metrics"][split][task.primary_metric],
                    "trainable_share": params["trainable_share"],
                    "total": params["total"],
                    "train_seconds": summary["train_seconds"] + summary.get("probe_seconds", 0.0),
                    "grad_state_bytes": summary["grad_state_bytes"],
                    "artifact_bytes": sum(
                        p.stat().st_size for p in run_dir.model.iterdir() if p.suffix == ".safetensors"
                    ),
                }
            )
    table = _table(cells, task.primary_metric)
    result = {"metric": task.primary_metric, "seeds": list(seeds), "cells": cells, "table": table}
    atomic_write_json(out / "methods.json", result)
    atomic_write_text(out / "methods.md", f"# Methods on {base.data.train}\n\n{table}\n")
    result["output"] = str(out)
    return result


def _table(cells: list[dict[str, Any]], metric: str) -> str:
    """Markdown; the references for the shares are full fine-tuning's fp32 weights (4 bytes each) and
    its AdamW footprint (gradient + two moments: 12 bytes per parameter)."""
    by: dict[str, list[dict[str, Any]]] = {}
    for c in cells:
        by.setdefault(c["method"], []).append(c)
    lines = [
        f"| method | {metric} (mean ± std) | trainable % | train s | grad+opt MB (% of full) | artifact MB (% of full) |",
        "|---|---|---|---|---|---|",
    ]
    for name, cs in by.items():
        scores = [100 * c["score"] for c in cs]
        std = statistics.stdev(scores) if len(scores) > 1 else 0.0
        total = cs[0]["total"]
        grad = statistics.mean(c["grad_state_bytes"] for c in cs)
        art = statistics.mean(c["artifact_bytes"] for c in cs)
        lines.append(
            f"| {name} | {statistics.mean(scores):.2f} ± {std:.2f} | {100 * cs[0]['trainable_share']:.2f} | "
            f"{statistics.mean(c['train_seconds'] for c in cs):.1f} | {grad / 2**20:.2f} "
            f"({100 * grad / (12 * total):.1f}%) | {art / 2**20:.2f} ({100 * art / (4 * total):.1f}%) |"
        )
    return "\n".join(lines)
