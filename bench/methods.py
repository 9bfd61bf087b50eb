"""Every fine-tuning method on the same data, the same seeds and the same budget: one table.

    python bench/methods.py --dataset banking77 --train-subset 3000 --epochs 3 --seeds 1 2 3
    python bench/methods.py --dataset conll2003 --train-subset 1000 --epochs 3 --seeds 1 2 3 --lr-scale 2
    python bench/methods.py --dataset banking77 --report     # table from the finished cells

Each (method, seed) cell runs in its own process (clean peak-memory figures) and is saved as
``bench/results/methods/<dataset>/<variant>-seed<k>.json``; finished cells are skipped, so an
interrupted benchmark continues where it stopped. Every method trains at its own learning rate
(``Method.default_lr()``, the classification default) times ``--lr-scale`` (1 unless given), set
in the cell's recipe, MiniLM-L6, the default recipe otherwise (probe-started head, best epoch on the
validation split kept) with a fixed number of epochs and no early stopping. Token classification
runs default to twice the method's rate, so the CoNLL-2003 cells at tuneforge's defaults are
the ``--lr-scale 2`` ones. Columns:

- score: test accuracy (Banking77) or strict entity F1 (CoNLL-2003), mean +- std over the seeds;
- trainable %: trainable parameters / all parameters (head included);
- train s: training wall time (evaluations excluded; the probe included), median over the seeds;
- peak RSS: peak resident memory of the run's process, median over the seeds;
- grad+opt: bytes held for gradients and AdamW state, counted from the tensors, and its share of
  full fine-tuning's;
- artifact: bytes of the saved weights (tokenizer excluded) and its share of the full model's.

``--lr-scale X`` runs every method at X times its own rate (cells under
``results/methods/<dataset>-lr<X>x/``) and prints their table, then each method beside its cells at
its own rate of the same seeds: how much a method's score depends on the rate on these data. ``--tag T`` keeps
cells of another setting (a larger subset, say) apart, under ``results/methods/<dataset>-T[-lr<X>x]/``:

    python bench/methods.py --dataset conll2003 --train-subset 4000 --tag n4000 --seeds 1 --variants full lora
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import PeakMemory, markdown_table, require_data, write_json  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "methods"
VARIANTS: dict[str, Any] = {
    "full": "full",
    "lora": "lora",
    "adalora": "adalora",
    "adapter-pfeiffer": {"name": "adapter", "placement": "pfeiffer"},
    "adapter-houlsby": {"name": "adapter", "placement": "houlsby"},
    "prefix": "prefix",
    "prompt": "prompt",
    "ptuning": "ptuning",
    "ia3": "ia3",
    "bitfit": "bitfit",
    "layernorm": "layernorm",
    "partial-half": {"name": "partial", "freeze_layers": 3},
}
DATASETS = {
    "banking77": ("classification", "train.csv", None, "test.csv", "accuracy"),
    "conll2003": ("ner", "train.txt", "dev.txt", "test.txt", "f1"),
}
WEIGHT_SUFFIXES = (".safetensors",)


def data_section(dataset: str, train_subset: int | None) -> tuple[str, dict[str, Any]]:
    """The task and the recipe's ``data:`` for a shared dataset (validation held out when it has none)."""
    task, train, dev, test, _ = DATASETS[dataset]
    root = require_data(dataset)
    data: dict[str, Any] = {"train": str(root / train), "test": str(root / test)}
    if dev:
        data["validation"] = str(root / dev)
    if train_subset:
        data["max_train_examples"] = train_subset
    return task, data


def default_lr(variant: str) -> float:
    """The method's own learning rate (its classification default; ``ner`` runs default to 2x it)."""
    from tuneforge.methods import get_method

    spec = VARIANTS[variant]
    name, options = (spec, {}) if isinstance(spec, str) else (spec["name"], {**spec})
    options.pop("name", None)
    return get_method(name, options).default_lr()


def recipe_for(args: argparse.Namespace, variant: str, seed: int, out: Path) -> dict[str, Any]:
    task, data = data_section(args.dataset, args.train_subset)
    train: dict[str, Any] = {
        "seed": seed,
        "epochs": args.epochs,
        "early_stopping": {"patience": 0},
        "lr": default_lr(variant) * args.lr_scale,  # pinned: a cell's rate does not follow later defaults
    }
    return {
        "task": task,
        "data": data,
        "backbone": "minilm-l6",
        "method": VARIANTS[variant],
        "output": str(out),
        "track": ["jsonl"],
        "train": train,
    }


def weight_bytes(model_dir: Path) -> int:
    return sum(p.stat().st_size for p in model_dir.iterdir() if p.name.endswith(WEIGHT_SUFFIXES))


def run_cell(args: argparse.Namespace) -> None:
    import tuneforge

    _, _, _, _, metric = DATASETS[args.dataset]
    with tempfile.TemporaryDirectory() as tmp:
        recipe = recipe_for(args, args.variant, args.seed, Path(tmp) / "run")
        with PeakMemory() as mem:
            run = tuneforge.run(recipe, force=True, quiet=True)
        summary = json.loads((run.path / "run.json").read_text())
        artifact = weight_bytes(run.path / "model")
        import yaml

        lr = yaml.safe_load((run.path / "recipe.yaml").read_text())["train"]["lr"]
    result = {
        "dataset": args.dataset,
        "variant": args.variant,
        "method": summary["method"],
        "seed": args.seed,
        "score": summary["metrics"]["test"][metric],
        "validation": summary["metrics"]["validation"][metric],
        "trainable": summary["parameters"]["trainable"],
        "total": summary["parameters"]["total"],
        "trainable_share": summary["parameters"]["trainable_share"],
        "train_seconds": round(summary["train_seconds"] + summary["probe_seconds"], 2),
        "grad_state_bytes": summary["grad_state_bytes"],
        "artifact_bytes": artifact,
        "peak_rss_mb": round(mem.peak_mb, 1),
        "epochs": args.epochs,
        "train_subset": args.train_subset,
        "lr": lr,
    }
    write_json(args.out, result)
    print(json.dumps({k: result[k] for k in ("variant", "seed", "score", "train_seconds", "peak_rss_mb")}))


def folder(dataset: str, lr_scale: float = 1.0, tag: str = "") -> str:
    """Where a dataset's cells live: ``<dataset>[-<tag>]``, plus ``-lr<X>x`` at a scaled learning rate."""
    name = f"{dataset}-{tag}" if tag else dataset
    return name if lr_scale == 1 else f"{name}-lr{lr_scale:g}x"


def cell_path(dataset: str, variant: str, seed: int, lr_scale: float = 1.0, tag: str = "") -> Path:
    return RESULTS / folder(dataset, lr_scale, tag) / f"{variant}-seed{seed}.json"


def _cells(name: str) -> dict[str, list[dict[str, Any]]]:
    cells: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((RESULTS / name).glob("*-seed*.json")):
        r = json.loads(path.read_text())
        cells.setdefault(r["variant"], []).append(r)
    return cells


def lr_table(dataset: str, lr_scale: float, tag: str = "") -> str:
    """Each method at its own rate and at ``lr_scale`` times it, over the seeds run at both."""
    default, scaled = _cells(folder(dataset, 1, tag)), _cells(folder(dataset, lr_scale, tag))
    rows = []
    for variant in VARIANTS:
        at = {r["seed"]: r for r in scaled.get(variant, [])}
        base = {r["seed"]: r for r in default.get(variant, []) if r["seed"] in at}
        if not base:
            continue
        seeds = sorted(base)
        mean = statistics.mean
        d, x = [100 * base[s]["score"] for s in seeds], [100 * at[s]["score"] for s in seeds]
        dv, xv = [100 * base[s]["validation"] for s in seeds], [100 * at[s]["validation"] for s in seeds]
        rows.append(
            {
                "method": variant,
                "seeds": ", ".join(map(str, seeds)),
                "own lr": f"{base[seeds[0]]['lr']:g}",
                "score": f"{mean(d):.2f}",
                "validation": f"{mean(dv):.2f}",
                f"lr x{lr_scale:g}": f"{at[seeds[0]]['lr']:g}",
                f"score x{lr_scale:g}": f"{mean(x):.2f}",
                f"validation x{lr_scale:g}": f"{mean(xv):.2f}",
                "change": f"{mean(x) - mean(d):+.2f}",
            }
        )
    return markdown_table(rows, list(rows[0]) if rows else ["method"])


def report(dataset: str) -> str:
    cells = _cells(dataset)
    if not cells:
        return f"no finished cells for {dataset}"
    full = cells.get("full", [{}])[0]
    rows = []
    for variant in VARIANTS:
        rs = cells.get(variant)
        if not rs:
            continue
        scores = [100 * r["score"] for r in rs]
        std = statistics.stdev(scores) if len(scores) > 1 else 0.0
        mean = statistics.mean
        grad = mean(r["grad_state_bytes"] for r in rs)
        art = mean(r["artifact_bytes"] for r in rs)
        rows.append(
            {
                "method": variant,
                "score": f"{mean(scores):.2f} ± {std:.2f}",
                "seeds": len(rs),
                "trainable %": f"{100 * rs[0]['trainable_share']:.2f}",
                "train s": f"{statistics.median(r['train_seconds'] for r in rs):.0f}",
                "peak RSS MB": f"{statistics.median(r['peak_rss_mb'] for r in rs):.0f}",
                "grad+opt MB": _with_share(grad, full.get("grad_state_bytes")),
                "artifact MB": _with_share(art, full.get("artifact_bytes")),
            }
        )
    columns = [
        "method",
        "score",
        "seeds",
        "trainable %",
        "train s",
        "peak RSS MB",
        "grad+opt MB",
        "artifact MB",
    ]
    return markdown_table(rows, columns)


def _with_share(value: float, full: float | None) -> str:
    return f"{value / 2**20:.2f} ({100 * value / full:.1f}%)" if full else f"{value / 2**20:.2f}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, choices=sorted(DATASETS))
    p.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--seeds", nargs="*", type=int, default=[1, 2, 3])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--train-subset", type=int, default=None)
    p.add_argument(
        "--lr-scale", type=float, default=1.0, help="each method at this multiple of its default lr"
    )
    p.add_argument(
        "--tag",
        default="",
        help="keep these cells apart (results/methods/<dataset>-<tag>), e.g. another subset",
    )
    p.add_argument("--report", action="store_true", help="only print the table of finished cells")
    p.add_argument("--variant", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.variant:
        run_cell(args)
        return 0
    if not args.report:
        for seed in args.seeds:
            for variant in args.variants:
                path = cell_path(args.dataset, variant, seed, args.lr_scale, args.tag)
                if path.is_file():
                    continue
                cmd = [
                    sys.executable, __file__, "--dataset", args.dataset, "--variant", variant,
                    "--seed", str(seed), "--out", str(path), "--epochs", str(args.epochs),
                    "--lr-scale", str(args.lr_scale),
                ]  # fmt: skip
                if args.train_subset:
                    cmd += ["--train-subset", str(args.train_subset)]
                subprocess.run(cmd, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    name = folder(args.dataset, args.lr_scale, args.tag)
    table = report(name)  # at another rate: the full table of these cells, then the change per method
    if args.lr_scale != 1:
        table += "\n\n" + lr_table(args.dataset, args.lr_scale, args.tag)
    (RESULTS / f"{name}.md").parent.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
