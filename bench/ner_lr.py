"""The default recipe for token classification at several learning rates: which rate should a
``task: ner`` run use when the recipe sets none?

    python bench/ner_lr.py --seeds 42 2 3 --lrs 5e-5 1e-4 1.5e-4
    python bench/ner_lr.py --report

Each (seed, rate) is one ``bench/tuneforge_run.py --mode default --lr RATE`` run on the same seeded
4,000 CoNLL-2003 training sentences (the subset of ``bench/finetune.py``; full dev and test files):
the whole default recipe (probe-started head, at most 10 epochs, early stopping on the dev file),
only the rate changed. Results go to ``bench/results/ner_lr/``; finished runs are kept, so an
interrupted grid continues. The table has entity F1 on the test file (Viterbi decoding) and on
the dev file, the optimizer steps run and the best step (early stopping), and the training time,
per rate: the mean and each seed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import markdown_table  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "ner_lr"
SUBSET = 4000


def result_path(seed: int, lr: float) -> Path:
    return RESULTS / f"conll2003_subset{SUBSET}_default_seed{seed}_lr{lr:g}.json"


def report() -> str:
    by_lr: dict[float, list[dict]] = {}
    for path in sorted(RESULTS.glob("*.json")):
        r = json.loads(path.read_text())
        by_lr.setdefault(r["recipe"]["train"]["lr"], []).append(r)
    rows = []
    for lr, runs in sorted(by_lr.items()):
        runs.sort(key=lambda r: r["recipe"]["train"]["seed"])
        rows.append(
            {
                "lr": f"{lr:g}",
                "seeds": ", ".join(str(r["recipe"]["train"]["seed"]) for r in runs),
                "entity F1 (mean)": f"{100 * statistics.mean(r['score'] for r in runs):.2f}",
                "per seed": " / ".join(f"{100 * r['score']:.2f}" for r in runs),
                "dev F1 (mean)": f"{100 * statistics.mean(r['validation']['f1'] for r in runs):.2f}",
                "steps run (best)": " / ".join(f"{r['steps']} ({r['best_step']})" for r in runs),
                "train s (mean)": f"{statistics.mean(r['train_seconds'] for r in runs):.0f}",
            }
        )
    return markdown_table(rows, list(rows[0])) if rows else "no finished runs"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", nargs="+", type=int, default=[42, 2, 3])
    p.add_argument("--lrs", nargs="+", type=float, default=[5e-5, 1e-4, 1.5e-4])
    p.add_argument("--report", action="store_true", help="only print the table of finished runs")
    args = p.parse_args()
    if not args.report:
        RESULTS.mkdir(parents=True, exist_ok=True)
        for seed in args.seeds:
            for lr in args.lrs:
                out = result_path(seed, lr)
                if out.is_file():
                    continue
                cmd = [
                    sys.executable, str(HERE / "tuneforge_run.py"), "--dataset", "conll2003",
                    "--train-subset", str(SUBSET), "--mode", "default", "--seed", str(seed),
                    "--lr", f"{lr:g}", "--out", str(out),
                ]  # fmt: skip
                subprocess.run(cmd, check=True)
    table = report()
    print(table)
    (RESULTS.parent / "ner_lr.md").write_text(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
