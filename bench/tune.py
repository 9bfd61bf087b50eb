"""Hyper-parameter search against the default recipe on Banking77 (issue 5).

    python bench/tune.py                                             # 20 trials, full training split
    python bench/tune.py --trials 2 --train-subset 300 --epochs 1    # a smoke run

Runs tuneforge's default recipe once (full fine-tuning, nothing tuned) and then ``tune`` with the
method's default search space (TPE sampler, median pruning on the per-epoch validation accuracy), on
the same data: validation held out of train (Banking77 has no dev split), the test split scored once
at the end of each finished run. The best trial is chosen by validation accuracy only; its test
accuracy is compared with the default run's. As in every new study, trial 0 is the recipe's own values
(``tune.baseline``), so the search cannot end below the default on validation; on test it can.

Reported: default and tuned test accuracy, the gain in points, the default run's training time
(probe + training, as in bench/finetune.py) and wall time, the search's total time (the sum of its
trials' wall times over every session), and the ratio of the search's time to the default run's wall
time. Resumable: a finished default run is reused, an interrupted one continues from its checkpoint,
and the study continues from ``WORK/tune/study.db``. Result: ``bench/results/tune_banking77.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import require_data, write_json  # noqa: E402


def recipe_for(args: argparse.Namespace, output: Path) -> dict[str, Any]:
    root = require_data("banking77")
    data: dict[str, Any] = {"train": str(root / "train.csv"), "test": str(root / "test.csv")}
    if args.train_subset:
        data["max_train_examples"] = args.train_subset  # seeded with train.seed, as in bench/finetune.py
        # a small subset misses some of the 77 intents: their test rows are dropped (and listed in
        # each run's removed.jsonl) instead of stopping the run; both sides see the same test rows
        data["quality"] = {"unknown_labels": "fix"}
    train: dict[str, Any] = {"seed": args.seed}
    if args.epochs:
        train["epochs"] = args.epochs
    if args.threads:
        train["threads"] = args.threads
    return {
        "task": "classification",
        "data": data,
        "backbone": "minilm-l6",
        "method": args.method,
        "output": str(output),
        "track": ["jsonl"],
        "train": train,
    }


def default_run(recipe: dict[str, Any], work: Path) -> dict[str, Any]:
    """The default recipe once (reused when finished); its summary plus the wall time it took."""
    from tuneforge import run
    from tuneforge.rundir import RunDir

    folder, timing = RunDir(recipe["output"]), work / "default_timing.json"
    if not (folder.is_finished() and timing.is_file()):
        print(f"== default recipe -> {folder.path}", flush=True)
        t0 = time.perf_counter()
        run(recipe, resume=folder.path.exists(), quiet=True)
        write_json(timing, {"wall_seconds": round(time.perf_counter() - t0, 1)})
    summary = folder.read_summary()
    return {
        "test_accuracy": summary["metrics"]["test"]["accuracy"],
        "validation_accuracy": summary["metrics"]["validation"]["accuracy"],
        "train_seconds": round(summary["train_seconds"] + summary["probe_seconds"], 1),
        "wall_seconds": json.loads(timing.read_text())["wall_seconds"],
        "steps": summary["steps"],
        "best_step": summary["best_step"],
        "early_stopped": summary["early_stopped"],
    }


def search(recipe: dict[str, Any], args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from tuneforge.select.tune import tune

    print(f"== tune: {args.trials} trials -> {work / 'tune'}", flush=True)
    result = tune(recipe, trials=args.trials, out=work / "tune", pruner=args.pruner)
    if result.best_run is None:
        raise SystemExit(f"no trial finished; see {work / 'tune' / 'tuning.md'}")
    best = json.loads((result.best_run / "run.json").read_text())
    states = [r["state"] for r in result.trials]
    return {
        "test_accuracy": best["metrics"]["test"]["accuracy"],
        "validation_accuracy": result.best_value,
        "best_trial": result.best_trial,
        "best_params": result.best_params,
        "best_recipe": str(result.best_recipe),
        "trials": {s.lower(): states.count(s) for s in sorted(set(states))},
        "seconds": round(sum(r["seconds"] or 0.0 for r in result.trials), 1),
        "importances": result.importances,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--train-subset", type=int, default=None, help="seeded subset of the training split")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--epochs", type=int, default=None, help="train.epochs (default: the recipe default)")
    p.add_argument("--method", default="full")
    p.add_argument("--pruner", default="median", choices=["median", "halving", "none"])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--work", type=Path, default=HERE.parent / "runs" / "bench-tune-banking77")
    p.add_argument("--out", type=Path, default=HERE / "results" / "tune_banking77.json")
    args = p.parse_args()

    work = args.work
    if args.train_subset:
        work = work.with_name(f"{work.name}-subset{args.train_subset}")
    default = default_run(recipe_for(args, work / "default"), work)
    tuned = search(recipe_for(args, work / "default"), args, work)
    result = {
        "dataset": "banking77",
        "metric": "accuracy (test split; the best trial is chosen on validation)",
        "train_subset": args.train_subset,
        "seed": args.seed,
        "method": args.method,
        "trials": args.trials,
        "pruner": args.pruner,
        "default_test_accuracy": default["test_accuracy"],
        "tuned_test_accuracy": tuned["test_accuracy"],
        "gain_points": round(100 * (tuned["test_accuracy"] - default["test_accuracy"]), 2),
        "default_train_seconds": default["train_seconds"],
        "default_wall_seconds": default["wall_seconds"],
        "tuning_seconds": tuned["seconds"],
        "time_ratio": round(tuned["seconds"] / max(default["wall_seconds"], 1e-9), 2),
        "default": default,
        "tuned": tuned,
        "work": str(work),
    }
    write_json(args.out, result)
    keys = ("default_test_accuracy", "tuned_test_accuracy", "gain_points", "default_train_seconds")
    print(json.dumps({k: result[k] for k in (*keys, "tuning_seconds", "time_ratio")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
