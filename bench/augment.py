"""Does label-preserving augmentation help a few-shot intent classifier? Banking77, 10 examples per class.

    python bench/augment.py --seeds 1 2 3 --copies 4
    python bench/augment.py --report            # table from the finished cells

For each seed, the same seeded sample of Banking77 train is used by both arms: 10 examples per class
for training and a disjoint 5 per class for validation (early stopping); the test set is the full
Banking77 test file (3,080 examples). The ``none`` arm trains on the 770 examples as they are; the
``augmented`` arm adds ``--copies`` copies of each, made by ``tuneforge.data.augment`` with the
operations of ``--ops`` (synonyms from MiniLM-L6's input embeddings), seeded with the same seed.
Everything else is tuneforge's default recipe (minilm-l6, full fine-tuning, probe-started head, early
stopping on validation accuracy). Each (arm, seed) cell runs in its own process and is saved as
``bench/results/augment/<arm>-seed<k>.json``; finished cells are skipped, so an interrupted benchmark
continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import PeakMemory, markdown_table, require_data, write_json  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "augment"
ARMS = ("none", "augmented")
DEFAULT_OPS = "swap,delete,insert,synonym,typo"


def few_shot_split(examples: list, per_class: int, val_per_class: int, seed: int) -> tuple[list, list]:
    """``per_class`` training and a disjoint ``val_per_class`` validation examples of every label,
    drawn with ``numpy.random.default_rng(seed)`` from each label's examples in file order."""
    import numpy as np

    by_label: dict[str, list[int]] = defaultdict(list)
    for i, ex in enumerate(examples):
        by_label[ex.label].append(i)
    rng = np.random.default_rng(seed)
    train, val = [], []
    for label in sorted(by_label):
        order = rng.permutation(by_label[label]).tolist()
        train += order[:per_class]
        val += order[per_class : per_class + val_per_class]
    return [examples[i] for i in sorted(train)], [examples[i] for i in sorted(val)]


def build_data(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Write this cell's train and validation files; return the recipe's ``data:`` and what was added."""
    from tuneforge.config import AugmentConfig
    from tuneforge.data.augment import SynonymSource, augment_with_operations
    from tuneforge.data.readers import read_examples
    from tuneforge.data.writers import write_examples

    root = require_data("banking77")
    pool = read_examples(root / "train.csv", task="classification")
    train, val = few_shot_split(pool, args.per_class, args.val_per_class, args.seed)
    added: dict[str, int] = {}
    rows = list(train)
    if args.arm == "augmented":
        ops = args.ops.split(",")
        config = AugmentConfig(enabled=True, operations=ops, copies=args.copies, rate=args.rate)
        synonyms = SynonymSource.from_backbone("minilm-l6") if {"synonym", "insert"} & set(ops) else None
        made = augment_with_operations(
            train, config, task="classification", seed=args.seed, synonyms=synonyms
        )
        rows += [ex for ex, _ in made]
        for _, op in made:
            added[op] = added.get(op, 0) + 1
    write_examples(folder / "train.csv", rows, "classification")
    write_examples(folder / "validation.csv", val, "classification")
    data = {
        "train": str(folder / "train.csv"),
        "validation": str(folder / "validation.csv"),
        "test": str(root / "test.csv"),
    }
    return {"data": data, "train_rows": len(rows), "original_rows": len(train), "added": added}


def run_cell(args: argparse.Namespace) -> None:
    import tuneforge
    from tuneforge.config import recipe_from_dict

    with tempfile.TemporaryDirectory() as tmp:
        built = build_data(args, Path(tmp))
        recipe = recipe_from_dict(
            {
                "task": "classification",
                "data": built["data"],
                "backbone": "minilm-l6",
                "output": str(Path(tmp) / "run"),
                "track": ["jsonl"],
                "train": {"seed": args.seed},
            }
        )
        with PeakMemory() as mem:
            run = tuneforge.run(recipe, force=True, quiet=True)
        summary = json.loads((run.path / "run.json").read_text())
        epochs = sum(
            1 for line in (run.path / "metrics.jsonl").read_text().splitlines() if '"validation"' in line
        )
    test, val = summary["metrics"]["test"], summary["metrics"]["validation"]
    result = {
        "arm": args.arm,
        "seed": args.seed,
        "accuracy": test["accuracy"],
        "macro_f1": test["macro_f1"],
        "validation_accuracy": val["accuracy"],
        "train_rows": built["train_rows"],
        "original_rows": built["original_rows"],
        "added_per_operation": built["added"],
        "ops": args.ops if args.arm == "augmented" else None,
        "copies": args.copies if args.arm == "augmented" else 0,
        "rate": args.rate,
        "evaluations": epochs,
        "train_seconds": round(summary["train_seconds"] + summary.get("probe_seconds", 0.0), 1),
        "peak_rss_mb": round(mem.peak_mb, 1),
        "commit": _commit(),
    }
    write_json(args.out, result)
    print(json.dumps({k: result[k] for k in ("arm", "seed", "accuracy", "macro_f1", "train_seconds")}))


def _commit() -> str:
    try:
        root = Path(__file__).resolve().parents[1]
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return ""


def _mean_std(values: list[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def report() -> str:
    cells: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for path in sorted(RESULTS.glob("*-seed*.json")):
        r = json.loads(path.read_text())
        cells[r["arm"]][r["seed"]] = r
    if not cells:
        return "no finished cells"
    rows = []
    for arm in ARMS:
        rs = list(cells.get(arm, {}).values())
        if rs:
            rows.append(
                {
                    "arm": arm,
                    "seeds": len(rs),
                    "train rows": int(statistics.mean(r["train_rows"] for r in rs)),
                    "accuracy %": _mean_std([100 * r["accuracy"] for r in rs]),
                    "macro F1 %": _mean_std([100 * r["macro_f1"] for r in rs]),
                    "train s": f"{statistics.median(r['train_seconds'] for r in rs):.0f}",
                }
            )
    paired = sorted(set(cells.get("none", {})) & set(cells.get("augmented", {})))
    if paired:
        diff = {
            m: [100 * (cells["augmented"][s][m] - cells["none"][s][m]) for s in paired]
            for m in ("accuracy", "macro_f1")
        }
        rows.append(
            {
                "arm": "difference (augmented - none), paired",
                "seeds": len(paired),
                "accuracy %": _mean_std(diff["accuracy"]),
                "macro F1 %": _mean_std(diff["macro_f1"]),
            }
        )
    return markdown_table(rows, ["arm", "seeds", "train rows", "accuracy %", "macro F1 %", "train s"])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", nargs="*", type=int, default=[1, 2, 3])
    p.add_argument("--arms", nargs="*", default=list(ARMS), choices=list(ARMS))
    p.add_argument("--per-class", type=int, default=10)
    p.add_argument("--val-per-class", type=int, default=5)
    p.add_argument("--copies", type=int, default=4)
    p.add_argument("--rate", type=float, default=0.1)
    p.add_argument("--ops", default=DEFAULT_OPS)
    p.add_argument("--report", action="store_true", help="only print the table of finished cells")
    p.add_argument("--arm", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.arm:
        run_cell(args)
        return 0
    if not args.report:
        for seed in args.seeds:
            for arm in args.arms:
                path = RESULTS / f"{arm}-seed{seed}.json"
                if path.is_file():
                    continue
                cmd = [
                    sys.executable, __file__, "--arm", arm, "--seed", str(seed), "--out", str(path),
                    "--per-class", str(args.per_class), "--val-per-class", str(args.val_per_class),
                    "--copies", str(args.copies), "--rate", str(args.rate), "--ops", args.ops,
                ]  # fmt: skip
                subprocess.run(cmd, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    table = report()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "report.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
