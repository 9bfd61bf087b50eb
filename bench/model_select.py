"""Model selection against its exhaustive ground truth, on a real dataset (issue 5).

    python bench/model_select.py --dataset banking77 --train-subset 3000
    python bench/model_select.py --dataset sst2 --train-subset 3000
    python bench/model_select.py --dataset banking77 --train-subset 3000 --select-seed 2   # select again

1. **Exhaustive**: every (backbone x method) candidate is fine-tuned fully with the default recipe
   (early stopping on validation, at most ``--epochs`` epochs) on the same data; its validation and
   test scores and its wall time are recorded (one JSON per candidate, so an interrupted bench
   resumes where it stopped).
2. **select**: ``tuneforge select`` on the same recipe with a budget of ``--budget-share`` (default
   30%) of the exhaustive wall time, measured in the same invocation.

Reported: the pick, its fully fine-tuned test score against the true best's (target: the best or
within 0.5 points), select's wall time as a share of the exhaustive time (target: at most 30%), and
the rank correlation (Spearman, Kendall) of each stage-1 estimate with the fully fine-tuned scores.
Results: ``bench/results/select/<dataset>/``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import markdown_table, require_data, write_json  # noqa: E402

FILES = {
    "banking77": ("classification", "train.csv", None, "test.csv", "auto"),
    "sst2": ("classification", "stsa.binary.train", "stsa.binary.dev", "stsa.binary.test", "txt"),
    "conll2003": ("ner", "train.txt", "dev.txt", "test.txt", "auto"),
}


def base_recipe(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    task, train, dev, test, fmt = FILES[args.dataset]
    root = require_data(args.dataset)
    data: dict[str, Any] = {"train": str(root / train), "test": str(root / test), "format": fmt}
    if dev:
        data["validation"] = str(root / dev)
    if args.train_subset:
        data["max_train_examples"] = args.train_subset
    return {
        "task": task,
        "data": data,
        "backbone": args.backbones[0],
        "output": str(out),
        "track": ["jsonl"],
        "train": {"seed": args.seed, "epochs": args.epochs},
    }


def exhaustive(args: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    import tuneforge
    from tuneforge.config import MethodConfig, recipe_from_dict

    rows = []
    for backbone in args.backbones:
        for method in args.methods:
            name = f"{backbone}+{method}"
            file = folder / "exhaustive" / f"{name}.json"
            if file.is_file():
                rows.append(json.loads(file.read_text()))
                print(f"exhaustive {name}: cached", flush=True)
                continue
            recipe = recipe_from_dict(base_recipe(args, folder / "runs" / name))
            recipe = recipe.model_copy(update={"backbone": backbone, "method": MethodConfig(name=method)})
            recipe = recipe_from_dict(recipe.resolved())
            t0 = time.perf_counter()
            run = tuneforge.run(recipe, force=True, quiet=True)
            wall = time.perf_counter() - t0
            summary = json.loads((run.path / "run.json").read_text())
            metric = "f1" if recipe.task == "ner" else "accuracy"
            row = {
                "name": f"{backbone.rsplit('/', 1)[-1]}+{method}",
                "backbone": backbone,
                "method": method,
                "validation": summary["metrics"]["validation"][metric],
                "test": summary["metrics"]["test"][metric],
                "wall_seconds": round(wall, 2),
                "train_seconds": summary["train_seconds"],
                "epochs_run": summary["steps"],
                "best_step": summary["best_step"],
            }
            write_json(file, row)
            rows.append(row)
            print(f"exhaustive {name}: test {row['test']:.4f} in {wall:.0f}s", flush=True)
    return rows


def correlations(truth: dict[str, float], estimates: dict[str, dict[str, float]]) -> dict[str, Any]:
    from scipy.stats import kendalltau, spearmanr

    names = sorted(truth)
    out = {}
    for est in ("probe", "knn", "logme"):
        xs = [estimates[n][est] for n in names]
        ys = [truth[n] for n in names]
        rho = spearmanr(xs, ys).statistic
        tau = kendalltau(xs, ys).statistic
        out[est] = {"spearman": round(float(rho), 3), "kendall": round(float(tau), 3)}
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, choices=sorted(FILES))
    p.add_argument("--train-subset", type=int, default=3000)
    p.add_argument("--backbones", nargs="+", default=["minilm-l6", "minilm-l3"])
    p.add_argument("--methods", nargs="+", default=["full", "lora", "bitfit"])
    p.add_argument("--epochs", type=int, default=6, help="upper bound of the exhaustive runs")
    p.add_argument("--budget-share", type=float, default=0.3)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--min-validation",
        type=int,
        default=None,
        help="select.min_validation of the selection (default: the recipe default); 0 scores on the "
        "recipe's own validation split; writes result..._min_validationN.json",
    )
    p.add_argument(
        "--select-seed",
        type=int,
        default=None,
        help="seed of the selection only (its validation split, its runs); the training subset and the "
        "exhaustive runs stay those of --seed; writes result_select_seedN.json",
    )
    p.add_argument("--exhaustive-only", action="store_true", help="only the ground-truth runs (resumable)")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "select")
    args = p.parse_args()
    folder = args.out / args.dataset
    rows = exhaustive(args, folder)
    exhaustive_s = sum(r["wall_seconds"] for r in rows)
    if args.exhaustive_only:
        return 0

    from tuneforge.config import recipe_from_dict
    from tuneforge.select.selection import select

    budget = args.budget_share * exhaustive_s
    base = base_recipe(args, folder / "runs" / "select-base")
    select_seed = args.seed if args.select_seed is None else args.select_seed
    if select_seed != args.seed:  # the same training subset; the selection's own split and seeds
        base["data"]["subset_seed"] = args.seed
        base["train"]["seed"] = select_seed
    tag = "" if select_seed == args.seed else f"_select_seed{select_seed}"
    if args.min_validation is not None:
        base["select"] = {"min_validation": args.min_validation}
        tag += f"_min_validation{args.min_validation}"
    recipe = recipe_from_dict(base)
    t0 = time.perf_counter()
    sel = select(
        recipe,
        budget=budget,
        backbones=args.backbones,
        methods=args.methods,
        out=folder / f"selection{tag}",
        say=lambda m: print(m, flush=True),
    )
    select_s = time.perf_counter() - t0
    truth = {r["name"]: r["test"] for r in rows}
    best = max(truth, key=truth.get)
    estimates = {r["name"]: r["estimates"] for r in sel.rows}
    result = {
        "dataset": args.dataset,
        "train_subset": args.train_subset,
        "select_seed": select_seed,
        "candidates": rows,
        "exhaustive_seconds": round(exhaustive_s, 1),
        "budget_seconds": round(budget, 1),
        "select_seconds": round(select_s, 1),
        "time_share": round(select_s / exhaustive_s, 3),
        "pick": sel.pick,
        "pick_test": truth.get(sel.pick),
        "true_best": best,
        "true_best_test": truth[best],
        "gap_points": round(100 * (truth[best] - truth.get(sel.pick, 0.0)), 2),
        "correlations_test": correlations(truth, estimates),
        "correlations_validation": correlations({r["name"]: r["validation"] for r in rows}, estimates),
        "selection": sel.to_json(),
    }
    write_json(folder / f"result{tag}.json", result)
    table = [
        {**r, **{f"stage1 {k}": v for k, v in estimates[r["name"]].items()}, "pick": r["name"] == sel.pick}
        for r in rows
    ]
    print(markdown_table(table, ["name", "validation", "test", "wall_seconds", "stage1 probe", "stage1 knn",
                                 "stage1 logme", "pick"]))  # fmt: skip
    print(
        f"pick {sel.pick} (test {result['pick_test']:.4f}); true best {best} ({truth[best]:.4f}); gap "
        f"{result['gap_points']} points; select {select_s:.0f}s = {100 * result['time_share']:.1f}% of "
        f"exhaustive {exhaustive_s:.0f}s"
    )
    print(json.dumps(result["correlations_test"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
