"""tuneforge against the standard Hugging Face Trainer recipe, side by side in one run.

    python bench/finetune.py --dataset banking77                       # hf, tuneforge-same, tuneforge-default
    python bench/finetune.py --dataset conll2003 --train-subset 4000    # a seeded subset of CoNLL train
    python bench/finetune.py --dataset sst2 --systems hf,tuneforge-default
    python bench/finetune.py --dataset banking77 --keep hf,tuneforge-same   # re-run tuneforge-default only

Each system runs in its own process (peak memory is per process) one after the other on the same
machine; the table gives scores on the full test split, train wall time, samples/s, peak RSS and the
time ratio against the HF recipe. Results: ``bench/results/finetune_<dataset>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import markdown_table, write_json  # noqa: E402

SYSTEMS = ("hf", "tuneforge-same", "tuneforge-default")


def command(system: str, args: argparse.Namespace, out: Path) -> list[str]:
    common = ["--dataset", args.dataset, "--out", str(out), "--seed", str(args.seed)]
    if args.train_subset:
        common += ["--train-subset", str(args.train_subset)]
    if system == "hf":
        return [sys.executable, str(HERE / "hf_anchor.py"), *common, "--epochs", str(args.epochs)]
    mode = system.split("-", 1)[1]
    extra = ["--epochs", str(args.epochs)] if mode == "same" else []
    return [sys.executable, str(HERE / "tuneforge_run.py"), *common, "--mode", mode, *extra]


def ner_readings(rows: list[dict]) -> bool:
    """NER: put each system's entity F1 per decoding of its word-level argmax in ``lenient`` (seqeval's
    default mode) and ``strict`` (seqeval's strict IOB2 mode); the headline ``score`` is tuneforge's
    own decoding (Viterbi) and, for the HF recipe, the better of its two readings (strict)."""
    ner = False
    for r in rows:
        if r.get("score_strict") is not None:  # the HF anchor
            r.setdefault("lenient", r["score"])
            r["strict"] = r["score_strict"]
            r["score"] = max(r["lenient"], r["strict"])
            ner = True
        elif r.get("score_by_decoding"):
            r["lenient"] = r["score_by_decoding"]["lenient"]
            r["strict"] = r["score_by_decoding"]["strict"]
            ner = True
    return ner


def _reading(r: dict, key: str) -> str:
    return f"{100 * r[key]:.2f}" if r.get(key) is not None else ""


def table(rows: list[dict], dataset: str) -> str:
    ner = ner_readings(rows)
    hf = next((r for r in rows if r["system"] == "hf-trainer"), None)
    out = []
    for r in rows:
        ratio = r["train_seconds"] / hf["train_seconds"] if hf else None
        delta = 100 * (r["score"] - hf["score"]) if hf else None
        out.append(
            {
                "system": r["system"],
                "score": f"{100 * r['score']:.2f}",
                "vs HF (points)": "" if delta is None or r is hf else f"{delta:+.2f}",
                **(
                    {"argmax lenient": _reading(r, "lenient"), "argmax strict": _reading(r, "strict")}
                    if ner
                    else {}
                ),
                "train s": f"{r['train_seconds']:.0f}",
                "samples/s": f"{r['train_samples_per_second']:.1f}",
                "peak RSS MB": f"{r['peak_rss_mb']:.0f}",
                "time / HF": "" if ratio is None else f"{ratio:.2f}x",
                "epochs run": str(r.get("epochs_run", "")),
            }
        )
    metric = rows[0]["metric"]
    return f"{dataset} ({metric}, test split)\n\n" + markdown_table(out, list(out[0]))


def seeds_table(rows: list[dict], dataset: str, seeds: list[int]) -> str:
    """Mean ± sd over seeds; "vs HF" is the mean of the per-seed differences, "time / HF" the median of
    the per-seed ratios (each seed's systems ran back to back)."""
    ner = ner_readings(rows)
    by = {(r["system"], r["seed"]): r for r in rows}
    systems = list(dict.fromkeys(r["system"] for r in rows))
    out = []
    for system in systems:
        runs = [by[(system, s)] for s in seeds if (system, s) in by]
        scores = [100 * r["score"] for r in runs]
        line = {
            "system": system,
            "score (mean ± sd)": f"{statistics.mean(scores):.2f} ± {statistics.pstdev(scores):.2f}",
            "per seed": " / ".join(f"{x:.2f}" for x in scores),
            "vs HF (points)": "",
            **(
                {
                    f"argmax {k}": f"{statistics.mean(100 * r[k] for r in runs):.2f}"
                    if all(r.get(k) is not None for r in runs)
                    else ""
                    for k in ("lenient", "strict")
                }
                if ner
                else {}
            ),
            "train s (mean)": f"{statistics.mean(r['train_seconds'] for r in runs):.0f}",
            "time / HF (median)": "",
        }
        hf = [by.get(("hf-trainer", r["seed"])) for r in runs]
        if system != "hf-trainer" and all(hf):
            deltas = [100 * (r["score"] - h["score"]) for r, h in zip(runs, hf, strict=True)]
            ratios = [r["train_seconds"] / h["train_seconds"] for r, h in zip(runs, hf, strict=True)]
            line["vs HF (points)"] = f"{statistics.mean(deltas):+.2f} ± {statistics.pstdev(deltas):.2f}"
            for k in ("lenient", "strict") if ner else ():
                if all(r.get(k) is not None for r in runs):
                    d = [100 * (r[k] - h[k]) for r, h in zip(runs, hf, strict=True)]
                    line[f"argmax {k}"] += f" ({statistics.mean(d):+.2f})"
            line["time / HF (median)"] = f"{statistics.median(ratios):.2f}x"
        out.append(line)
    metric = rows[0]["metric"]
    return f"{dataset} ({metric}, test split, seeds {seeds})\n\n" + markdown_table(out, list(out[0]))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, choices=["banking77", "sst2", "conll2003"])
    p.add_argument("--systems", default=",".join(SYSTEMS))
    p.add_argument("--train-subset", type=int, default=None)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--seeds", nargs="+", type=int, default=None, help="training seeds, systems interleaved per seed"
    )
    p.add_argument("--results", type=Path, default=HERE / "results")
    p.add_argument(
        "--keep",
        default="",
        help="comma-separated systems whose finished result in --results is reused, not re-run "
        "(with --seeds every finished run is reused)",
    )
    args = p.parse_args()
    keep = set(filter(None, args.keep.split(",")))
    seeds = args.seeds or [args.seed]
    rows = []
    for seed in seeds:
        args.seed = seed
        for system in args.systems.split(","):
            suffix = f"_seed{seed}" if args.seeds else ""
            out = args.results / f"finetune_{args.dataset}_{system}{suffix}.json"
            if (args.seeds or system in keep) and out.is_file():  # resumable: finished runs are kept
                row = json.loads(out.read_text())
            else:
                t0 = time.time()
                print(f"== {system}: {' '.join(command(system, args, out))}", flush=True)
                subprocess.run(command(system, args, out), check=True)
                row = json.loads(out.read_text())
                row["wall_seconds"] = round(time.time() - t0, 1)
                write_json(out, row)
            row["seed"] = seed
            rows.append(row)
    name = args.dataset + (f"_subset{args.train_subset}" if args.train_subset else "")
    if args.seeds:
        name += "_seeds"
    write_json(args.results / f"finetune_{name}.json", rows)
    md = seeds_table(rows, name, seeds) if args.seeds else table(rows, name)
    (args.results / f"finetune_{name}.md").write_text(md + "\n", encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
